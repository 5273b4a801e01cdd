//! The tidy check that layers go one way (issue 14): within each crate, the
//! graph of its files, where an edge A -> B means that A imports an item
//! that B defines, has no cycle.
//!
//! An import is a `use` declaration or a path in code that starts in the
//! crate (`crate::a::f`, `super::X`, `self::m::Y`, or a name a `use` brought
//! in, as `shared_area::address` after `use crate::shared_area`), or a call
//! of one of the crate's `macro_rules!` macros. Each is followed through the
//! crate's `pub use` re-exports to the file that defines the item: an import
//! of `crate::mm::FrameTable`, where `mm/mod.rs` says `pub use
//! frame_table::FrameTable`, is an edge to `mm/frame_table.rs`, not to
//! `mm/mod.rs`. A `pub use` is an edge of its own file only if that file's
//! code uses the name; importing a module is no edge, the paths through it
//! are.
//!
//! Approximations, all towards more edges, never fewer within the crate: a
//! name a module neither defines nor imports (an item a macro makes, a name
//! from a glob of another crate) resolves to that module's file; a glob of a
//! module of the crate (`use crate::a::*`) is an edge to each file defining
//! a name the importing file mentions, or to the module's file if none; a
//! bare macro call goes to the file defining a `macro_rules!` of that name.
//! Names are not told apart by namespace, scopes within a file are not
//! tracked, `cfg` other than `cfg(test)` counts as enabled.
//!
//! Test code does not count: `#[cfg(test)]` items and modules, and files
//! with "tests" in their name or under a `tests` folder.

mod crate_tree;
mod rust_source;
#[cfg(test)]
mod tests;

use crate::Result;
use crate_tree::{CrateTree, Import};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

/// The source folders checked, each a crate's (a `lib.rs` and a `main.rs`
/// there are two crates); every `guest-sdk/examples/*/src` too.
const SOURCE_TREES: [&str; 6] = [
    "xen-core/src",
    "xen-core/kernel/src",
    "xen-core/abi/src",
    "rings/src",
    "dom0-tools/src",
    "guest-sdk/src",
];

/// The folder of the example guests, one crate each.
const EXAMPLES: &str = "guest-sdk/examples";

/// The import graph of one crate: files named from the repository root.
#[derive(Debug)]
struct Graph {
    /// The source folder, from the repository root.
    tree: String,
    files: Vec<String>,
    edges: BTreeMap<(usize, usize), Import>,
}

/// Checks every crate under `root`; returns one problem per cycle.
pub fn problems(root: &Path) -> Result<Vec<String>> {
    let mut trees: Vec<String> = SOURCE_TREES.iter().map(|tree| tree.to_string()).collect();
    if let Ok(examples) = std::fs::read_dir(root.join(EXAMPLES)) {
        let mut guests = Vec::new();
        for entry in examples {
            let src = entry?.path().join("src");
            if src.is_dir() {
                guests.push(src.strip_prefix(root).unwrap_or(&src).to_string_lossy().into_owned());
            }
        }
        guests.sort();
        trees.extend(guests);
    }
    let mut problems = Vec::new();
    for tree in trees {
        let sources = read_tree(&root.join(&tree), "")?;
        for crate_root in ["lib.rs", "main.rs"]
            .into_iter()
            .filter(|file| sources.contains_key(*file))
        {
            let graph = Graph::new(&tree, &sources, crate_root);
            problems.extend(graph.check());
        }
    }
    Ok(problems)
}

/// The text of every `.rs` file under `folder`, by path relative to it.
fn read_tree(folder: &Path, prefix: &str) -> Result<BTreeMap<String, String>> {
    let mut sources = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(sources);
    };
    for entry in entries {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            sources.extend(read_tree(&entry.path(), &format!("{name}/"))?);
        } else if name.ends_with(".rs") {
            let text = std::fs::read_to_string(entry.path()).map_err(|e| format!("{}: {e}", entry.path().display()))?;
            sources.insert(name, text);
        }
    }
    Ok(sources)
}

impl Graph {
    /// The graph of the crate rooted at `crate_root` in source folder `tree`.
    fn new(tree: &str, sources: &BTreeMap<String, String>, crate_root: &str) -> Graph {
        let crate_tree = CrateTree::new(sources, crate_root);
        let files = crate_tree.files.iter().map(|file| format!("{tree}/{file}")).collect();
        Graph {
            tree: tree.to_string(),
            files,
            edges: crate_tree.edges(),
        }
    }

    /// One problem per import cycle.
    fn check(&self) -> Vec<String> {
        self.cycles().iter().map(|cycle| self.describe(cycle)).collect()
    }

    /// The strongly connected components of more than one file (Tarjan's
    /// algorithm), each sorted.
    fn cycles(&self) -> Vec<Vec<usize>> {
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); self.files.len()];
        for &(a, b) in self.edges.keys() {
            next[a].push(b);
        }
        struct Tarjan<'a> {
            next: &'a [Vec<usize>],
            index: Vec<Option<usize>>,
            low: Vec<usize>,
            stack: Vec<usize>,
            on_stack: Vec<bool>,
            found: Vec<Vec<usize>>,
            visited: usize,
        }
        impl Tarjan<'_> {
            fn visit(&mut self, v: usize) {
                (self.index[v], self.low[v]) = (Some(self.visited), self.visited);
                self.visited += 1;
                self.stack.push(v);
                self.on_stack[v] = true;
                for w in self.next[v].clone() {
                    match self.index[w] {
                        None => {
                            self.visit(w);
                            self.low[v] = self.low[v].min(self.low[w]);
                        }
                        Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                        Some(_) => {}
                    }
                }
                if Some(self.low[v]) == self.index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    component.sort();
                    self.found.push(component);
                }
            }
        }
        let count = self.files.len();
        let mut tarjan = Tarjan {
            next: &next,
            index: vec![None; count],
            low: vec![0; count],
            stack: Vec::new(),
            on_stack: vec![false; count],
            found: Vec::new(),
            visited: 0,
        };
        for v in 0..count {
            if tarjan.index[v].is_none() {
                tarjan.visit(v);
            }
        }
        let mut cycles: Vec<Vec<usize>> = tarjan.found.into_iter().filter(|c| c.len() > 1).collect();
        cycles.sort();
        cycles
    }

    /// One cycle's report: its files, a shortest loop through the first, and
    /// every import between its files.
    fn describe(&self, cycle: &[usize]) -> String {
        let inside = |(a, b): &(usize, usize)| cycle.contains(a) && cycle.contains(b);
        let mut from: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = VecDeque::from([cycle[0]]);
        while let Some(a) = queue.pop_front() {
            for &(_, b) in self.edges.keys().filter(|edge| edge.0 == a && inside(edge)) {
                if let std::collections::btree_map::Entry::Vacant(slot) = from.entry(b) {
                    slot.insert(a);
                    queue.push_back(b);
                }
            }
        }
        let mut path = vec![cycle[0]];
        while let Some(&before) = from.get(path.last().expect("starts with one")) {
            if before == cycle[0] {
                break;
            }
            path.push(before);
        }
        path.push(cycle[0]);
        path.reverse();
        let prefix = format!("{}/", self.tree);
        let short = |file: usize| self.files[file].strip_prefix(&prefix).unwrap_or(&self.files[file]);
        let path: Vec<&str> = path.into_iter().map(short).collect();
        let mut text = format!(
            "import cycle among {} files: {}\n    e.g. {}\n    imports (A -> B: A imports an item B defines):",
            cycle.len(),
            cycle
                .iter()
                .map(|&file| self.files[file].as_str())
                .collect::<Vec<_>>()
                .join(", "),
            path.join(" -> ")
        );
        for (edge, import) in self.edges.iter().filter(|(edge, _)| inside(edge)) {
            let (a, b) = (short(edge.0), short(edge.1));
            text += &format!("\n      {a}:{} -> {b}: {}", import.line, import.what);
        }
        text
    }
}
