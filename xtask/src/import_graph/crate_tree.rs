//! A crate's module tree, read from its files from the root down, and the
//! resolution of each path a file names to the file that defines the item:
//! through `use` and `pub use` (re-exports), as rustc resolves them, as far
//! as a reading without macro expansion or types can.

use super::rust_source::{FileScan, scan};
use std::collections::{BTreeMap, BTreeSet};

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Found {
    /// A module of the crate.
    Module(usize),
    /// An item of the crate defined in this file, or, for a name its module
    /// neither defines nor imports (a macro-made item, a name from a glob of
    /// another crate), that module's file.
    File(usize),
    /// Something of another crate.
    External,
    /// Nothing the module defines or imports.
    Missing,
}

/// One module: a file, or an inline `mod name { ... }` in one.
#[derive(Debug)]
struct Module {
    file: usize,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    items: BTreeSet<String>,
    /// (name bound, path) of each `use`, `pub` or not.
    imports: Vec<(String, Vec<String>)>,
    globs: Vec<Vec<String>>,
}

/// The first import seen from one file of a crate to another.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Import {
    /// Its line in the importing file.
    pub line: usize,
    /// The path named, as written (`use crate::a::B`, `super::f`, `info!`).
    pub what: String,
}

/// A crate's files and modules, test code left out.
#[derive(Debug, Default)]
pub(super) struct CrateTree {
    /// Paths relative to the source folder, the crate root first.
    pub files: Vec<String>,
    scans: Vec<FileScan>,
    modules: Vec<Module>,
    /// The module of each (file, inline module path in it).
    index: BTreeMap<(usize, Vec<String>), usize>,
    /// The file of each `macro_rules!`, called by its bare name.
    macros: BTreeMap<String, usize>,
    /// The file of each `#[macro_export]` one, also named `crate::name!`.
    exported: BTreeMap<String, usize>,
}

/// Test code: a file under a `tests` folder or with "tests" in its name.
pub(super) fn is_test_file(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    parts.next().is_some_and(|name| name.contains("tests")) || parts.any(|dir| dir == "tests")
}

impl CrateTree {
    /// Reads the crate whose root is `root` (`lib.rs`, `main.rs`) from
    /// `sources` (file text by path relative to the source folder).
    pub(super) fn new(sources: &BTreeMap<String, String>, root: &str) -> CrateTree {
        let mut tree = CrateTree::default();
        tree.add_file(sources, root.to_string(), None);
        tree
    }

    /// Every (importing file, defining file) pair, with the first import.
    pub(super) fn edges(&self) -> BTreeMap<(usize, usize), Import> {
        let mut edges = BTreeMap::new();
        for (file, scan) in self.scans.iter().enumerate() {
            let mut add = |found: Found, line: usize, what: String| {
                let to = match found {
                    Found::Module(module) => self.modules[module].file,
                    Found::File(to) => to,
                    Found::External | Found::Missing => return,
                };
                if to != file {
                    edges.entry((file, to)).or_insert(Import { line, what });
                }
            };
            for import in &scan.imports {
                let Some(&module) = self.index.get(&(file, import.module.clone())) else {
                    continue;
                };
                let what = format!("use {}", import.path.join("::"));
                let found = self.resolve(module, &import.path, 0);
                match (&import.name, found) {
                    // A module imported: the paths through it are the edges.
                    (Some(_), Found::Module(_)) => {}
                    // A re-export the file's own code does not use.
                    (Some(name), _) if import.public && !scan.idents.contains(name) => {}
                    (Some(_), found) => add(found, import.line, what),
                    // A glob of a module: an edge for each name of the file it defines.
                    (None, Found::Module(glob)) => {
                        let mut any = false;
                        for name in &scan.idents {
                            let found = self.lookup(glob, name, 0);
                            any |= matches!(found, Found::Module(_) | Found::File(_));
                            add(found, import.line, format!("{what}::* ({name})"));
                        }
                        // Nothing named: a facade's glob, or one this fallback stands for.
                        if !any && !import.public {
                            add(Found::Module(glob), import.line, format!("{what}::*"));
                        }
                    }
                    (None, found) => add(found, import.line, format!("{what}::*")),
                }
            }
            for path in &scan.paths {
                let Some(&module) = self.index.get(&(file, path.module.clone())) else {
                    continue;
                };
                let found = match path.path.as_slice() {
                    [name] => self.macros.get(name).map_or(Found::Missing, |&file| Found::File(file)),
                    _ => self.resolve(module, &path.path, 0),
                };
                let what = path.path.join("::") + if path.macro_call { "!" } else { "" };
                add(found, path.line, what);
            }
        }
        edges
    }

    /// Adds the module in file `path` and, from its `mod` items, those below.
    fn add_file(&mut self, sources: &BTreeMap<String, String>, path: String, parent: Option<usize>) -> Option<usize> {
        let scan = scan(sources.get(&path)?);
        if scan.test_only {
            return None;
        }
        let file = self.files.len();
        let module = self.add_module(file, parent, Vec::new());
        for (name, exported) in &scan.macros {
            self.macros.entry(name.clone()).or_insert(file);
            if *exported {
                self.exported.entry(name.clone()).or_insert(file);
            }
        }
        let (decls, items, imports) = (scan.mods.clone(), scan.items.clone(), scan.imports.clone());
        self.files.push(path.clone());
        self.scans.push(scan);
        for decl in decls {
            let Some(&parent) = self.index.get(&(file, decl.parent.clone())) else {
                continue;
            };
            let child = if decl.inline {
                Some(self.add_module(file, Some(parent), [decl.parent, vec![decl.name.clone()]].concat()))
            } else {
                child_files(&path, &decl.parent, &decl.name, decl.path.as_deref())
                    .into_iter()
                    .find(|candidate| sources.contains_key(candidate))
                    .filter(|found| !is_test_file(found))
                    .and_then(|found| self.add_file(sources, found, Some(parent)))
            };
            if let Some(child) = child {
                self.modules[parent].children.insert(decl.name, child);
            }
        }
        for (inline, names) in items {
            if let Some(&at) = self.index.get(&(file, inline)) {
                self.modules[at].items.extend(names);
            }
        }
        for import in imports {
            let Some(&at) = self.index.get(&(file, import.module)) else {
                continue;
            };
            match import.name {
                Some(name) => self.modules[at].imports.push((name, import.path)),
                None => self.modules[at].globs.push(import.path),
            }
        }
        Some(module)
    }

    fn add_module(&mut self, file: usize, parent: Option<usize>, inline: Vec<String>) -> usize {
        let module = self.modules.len();
        self.modules.push(Module {
            file,
            parent,
            children: BTreeMap::new(),
            items: BTreeSet::new(),
            imports: Vec::new(),
            globs: Vec::new(),
        });
        self.index.insert((file, inline), module);
        module
    }

    /// What `path`, written in module `from`, names. Past an item, the rest
    /// (a variant, an associated item) is the item's.
    fn resolve(&self, from: usize, path: &[String], depth: usize) -> Found {
        let Some((first, rest)) = path.split_first() else {
            return Found::Missing;
        };
        let mut found = match first.as_str() {
            "crate" => Found::Module(0),
            "self" => Found::Module(from),
            "super" => self.modules[from].parent.map_or(Found::Missing, Found::Module),
            "::" => Found::External,
            // Neither defined nor imported here: another crate, a prelude name or a local.
            name => match self.lookup(from, name, depth) {
                Found::Missing => Found::External,
                found => found,
            },
        };
        for name in rest {
            let Found::Module(module) = found else { break };
            found = match name.as_str() {
                "self" => found,
                "super" => self.modules[module].parent.map_or(Found::Missing, Found::Module),
                // Not found: the module's file stands for the item (see the module doc).
                name => match self.lookup(module, name, depth) {
                    Found::Missing => Found::File(self.modules[module].file),
                    found => found,
                },
            };
        }
        found
    }

    /// What `name` names in `module`: a child module, an item, an import (a
    /// re-export followed to its source) or a name of a glob's module.
    fn lookup(&self, module: usize, name: &str, depth: usize) -> Found {
        let this = &self.modules[module];
        if depth > 16 {
            return Found::Missing;
        }
        if let Some(&child) = this.children.get(name) {
            return Found::Module(child);
        }
        if this.items.contains(name) {
            return Found::File(this.file);
        }
        if let (None, Some(&file)) = (this.parent, self.exported.get(name)) {
            return Found::File(file);
        }
        for (bound, path) in &this.imports {
            if bound == name {
                return self.resolve(module, path, depth + 1);
            }
        }
        for glob in &this.globs {
            if let Found::Module(source) = self.resolve(module, glob, depth + 1) {
                let found = self.lookup(source, name, depth + 1);
                if found != Found::Missing {
                    return found;
                }
            }
        }
        Found::Missing
    }
}

/// Where the file of `mod name;` may be, declared in file `path` inside its
/// inline modules `inline`: `name.rs` or `name/mod.rs` in the folder of the
/// declaring module, or its `#[path]`.
fn child_files(path: &str, inline: &[String], name: &str, attribute: Option<&str>) -> Vec<String> {
    let (folder, file) = path.rsplit_once('/').unwrap_or(("", path));
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}/{b}")
        }
    };
    if let Some(attribute) = attribute {
        let joined = join(folder, attribute);
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                ".." => drop(parts.pop()),
                "." => {}
                part => parts.push(part),
            }
        }
        return vec![parts.join("/")];
    }
    let mut base = match file {
        "mod.rs" | "lib.rs" | "main.rs" => folder.to_string(),
        _ => join(folder, file.trim_end_matches(".rs")),
    };
    for module in inline {
        base = join(&base, module);
    }
    vec![
        join(&base, &format!("{name}.rs")),
        join(&base, &format!("{name}/mod.rs")),
    ]
}
