//! What the import graph needs from one Rust file, read without a parser:
//! the modules it declares, the items it defines, its `use` declarations and
//! the in-crate paths its code names. Comments, strings and test code
//! (`#[cfg(test)]` items) are left out.

use std::collections::{BTreeMap, BTreeSet};

/// A token: comments and whitespace dropped, literals reduced.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// An identifier or keyword (`r#name` as `name`).
    Ident(String),
    /// A string literal's contents (escapes left as written).
    Str(String),
    /// `::`.
    Sep,
    /// Any other character but whitespace; numbers and char literals as `0`.
    Punct(char),
}

/// Splits `text` into tokens, each with its line.
pub(super) fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    // Skips a string body from `i` (after the opening quote), raw if `hashes` is Some.
    let string = |mut i: usize, hashes: Option<usize>, line: &mut usize| {
        let start = i;
        while i < chars.len() {
            match (chars[i], hashes) {
                ('\\', None) => i += 1,
                ('"', None) => return (chars[start..i].iter().collect::<String>(), i + 1),
                ('"', Some(n)) if (1..=n).all(|k| at(i + k) == '#') => {
                    return (chars[start..i].iter().collect(), i + 1 + n);
                }
                ('\n', _) => *line += 1,
                _ => {}
            }
            i += 1;
        }
        (chars[start..].iter().collect(), i)
    };
    while i < chars.len() {
        let (c, next) = (chars[i], at(i + 1));
        let token_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == '*' {
            let (mut depth, mut j) = (0, i);
            while j < chars.len() {
                match (chars[j], at(j + 1)) {
                    ('/', '*') => (depth, j) = (depth + 1, j + 2),
                    ('*', '/') => (depth, j) = (depth - 1, j + 2),
                    ('\n', _) => (line, j) = (line + 1, j + 1),
                    _ => j += 1,
                }
                if depth == 0 {
                    break;
                }
            }
            i = j;
        } else if c == '"' {
            let (text, end) = string(i + 1, None, &mut line);
            out.push((Tok::Str(text), token_line));
            i = end;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F}') or a lifetime or label ('a).
            if next == '\\' {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push((Tok::Punct('0'), token_line));
            } else if at(i + 2) == '\'' {
                i += 3;
                out.push((Tok::Punct('0'), token_line));
            } else {
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                let (text, end) = string(i + hashes + 1, Some(hashes), &mut line);
                out.push((Tok::Str(text), token_line));
                i = end;
            } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                let (text, end) = string(i + 1, None, &mut line);
                out.push((Tok::Str(text), token_line));
                i = end;
            } else if word == "b" && at(i) == '\'' {
                i += if at(i + 1) == '\\' { 4 } else { 3 };
                while i < chars.len() && chars[i - 1] != '\'' {
                    i += 1;
                }
                out.push((Tok::Punct('0'), token_line));
            } else if word == "r" && hashes == 1 && (at(i + 1).is_alphabetic() || at(i + 1) == '_') {
                i += 1; // `r#name`: the identifier follows.
            } else {
                out.push((Tok::Ident(word), token_line));
            }
        } else if c.is_ascii_digit() {
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push((Tok::Punct('0'), token_line));
        } else if c == ':' && next == ':' {
            out.push((Tok::Sep, token_line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), token_line));
            i += 1;
        }
    }
    out
}

/// A `mod` item.
#[derive(Clone, Debug)]
pub(super) struct ModDecl {
    /// The inline modules of this file it sits in (empty: the file's module).
    pub parent: Vec<String>,
    pub name: String,
    /// Its `#[path = "..."]`, if any.
    pub path: Option<String>,
    /// `mod name { ... }` rather than `mod name;`.
    pub inline: bool,
}

/// One name a `use` declaration brings in, or one glob.
#[derive(Clone, Debug)]
pub(super) struct Import {
    /// The inline module of this file the declaration sits in.
    pub module: Vec<String>,
    /// The path as written (`crate`, `super`, `self` kept; `::` first for `::name`).
    pub path: Vec<String>,
    /// The name it binds (`as` honoured); None for a glob (`path::*`).
    pub name: Option<String>,
    /// `pub` (of any reach): a re-export.
    pub public: bool,
    pub line: usize,
}

/// A path in code with two segments or more (`crate::a::f`, `super::X`,
/// `shared_area::address`), or a macro call (`info!`, `crate::println!`).
#[derive(Clone, Debug)]
pub(super) struct CodePath {
    pub module: Vec<String>,
    pub path: Vec<String>,
    pub line: usize,
    pub macro_call: bool,
}

/// What one file declares and names, test code left out.
#[derive(Debug, Default)]
pub(super) struct FileScan {
    /// The whole file is `#![cfg(test)]`.
    pub test_only: bool,
    pub mods: Vec<ModDecl>,
    /// Names of the items defined, by inline module (empty: the file's module).
    pub items: BTreeMap<Vec<String>, BTreeSet<String>>,
    pub imports: Vec<Import>,
    pub paths: Vec<CodePath>,
    /// Every identifier outside `use` declarations.
    pub idents: BTreeSet<String>,
    /// `macro_rules!` names, with whether `#[macro_export]` puts them at the crate root.
    pub macros: Vec<(String, bool)>,
}

const ITEM_KEYWORDS: [&str; 9] = [
    "fn", "struct", "enum", "union", "trait", "type", "const", "static", "mod",
];
const QUALIFIERS: [&str; 5] = ["unsafe", "async", "extern", "default", "auto"];

/// Scans one file.
pub(super) fn scan(text: &str) -> FileScan {
    let toks = tokens(text);
    let tok = |i: usize| toks.get(i).map(|(tok, _)| tok);
    let ident = |i: usize| match tok(i) {
        Some(Tok::Ident(name)) => Some(name.as_str()),
        _ => None,
    };
    let mut scan = FileScan::default();
    scan.items.insert(Vec::new(), BTreeSet::new());
    // One entry per open brace: Some(name) for an inline module's.
    let mut braces: Vec<Option<String>> = Vec::new();
    // At the start of an item or statement (only qualifiers and attributes seen).
    let mut start = true;
    let (mut public, mut test, mut export, mut path_attr) = (false, false, false, None);
    let mut pending_mod: Option<String> = None;
    let mut i = 0;
    while i < toks.len() {
        let module: Vec<String> = braces.iter().flatten().cloned().collect();
        let in_module = braces.last().is_none_or(Option::is_some);
        let line = toks[i].1;
        match &toks[i].0 {
            Tok::Punct('#') => {
                let inner = tok(i + 1) == Some(&Tok::Punct('!'));
                let open = i + 1 + usize::from(inner);
                let close = matching(&toks, open);
                let body: Vec<&Tok> = toks[(open + 1).min(close)..close].iter().map(|(tok, _)| tok).collect();
                let words = |w: &[&str]| body.len() == w.len() && body.iter().zip(w).all(|(t, w)| **t == word_tok(w));
                if words(&["cfg", "(", "test", ")"]) {
                    if inner && braces.is_empty() {
                        return FileScan {
                            test_only: true,
                            ..FileScan::default()
                        };
                    }
                    test = !inner;
                }
                export |= words(&["macro_export"]);
                if let [Tok::Ident(path), Tok::Punct('='), Tok::Str(file)] = body.as_slice()
                    && path == "path"
                {
                    path_attr = Some(file.clone());
                }
                i = close + 1;
                continue;
            }
            _ if test => {
                i = skip_item(&toks, i);
                (test, public, export, path_attr) = (false, false, false, None);
                continue;
            }
            Tok::Punct(c @ ('{' | '}' | ';')) => {
                match c {
                    '{' => {
                        if let Some(name) = &pending_mod {
                            let path = [module.clone(), vec![name.clone()]].concat();
                            scan.items.entry(path).or_default();
                            let decl = ModDecl {
                                parent: module,
                                name: name.clone(),
                                path: None,
                                inline: true,
                            };
                            scan.mods.push(decl);
                        }
                        braces.push(pending_mod.take());
                    }
                    '}' => drop(braces.pop()),
                    _ => {
                        if let Some(name) = pending_mod.take() {
                            let path = path_attr.take();
                            scan.mods.push(ModDecl {
                                parent: module,
                                name,
                                path,
                                inline: false,
                            });
                        }
                    }
                }
                start = true;
                (public, export, path_attr) = (false, false, None);
            }
            Tok::Ident(word) if start && word == "use" => {
                let mut bound = Vec::new();
                let end = use_tree(&toks, i + 1, Vec::new(), &mut bound);
                for (path, name) in bound {
                    let module = module.clone();
                    scan.imports.push(Import {
                        module,
                        path,
                        name,
                        public,
                        line,
                    });
                }
                i = (end..toks.len())
                    .find(|&j| tok(j) == Some(&Tok::Punct(';')))
                    .unwrap_or(toks.len());
                continue;
            }
            Tok::Ident(word) if start && word == "pub" => {
                public = true;
                if tok(i + 1) == Some(&Tok::Punct('(')) {
                    i = matching(&toks, i + 1);
                }
            }
            Tok::Ident(word) if start && QUALIFIERS.contains(&word.as_str()) => {
                if matches!(tok(i + 1), Some(Tok::Str(_))) {
                    i += 1;
                }
            }
            Tok::Ident(word) if word == "macro_rules" && tok(i + 1) == Some(&Tok::Punct('!')) => {
                if let Some(name) = ident(i + 2) {
                    scan.macros.push((name.to_string(), export));
                }
                (start, i) = (false, i + 3);
                continue;
            }
            Tok::Ident(word) if start && ITEM_KEYWORDS.contains(&word.as_str()) => {
                if word == "const"
                    && ident(i + 1).is_some_and(|next| ["fn", "unsafe", "async", "extern"].contains(&next))
                {
                    i += 1;
                    continue;
                }
                let at = i + 1 + usize::from(ident(i + 1) == Some("mut"));
                match ident(at) {
                    Some(name) if word == "mod" => pending_mod = Some(name.to_string()),
                    Some(name) if in_module && name != "_" => {
                        scan.items.entry(module).or_default().insert(name.to_string());
                    }
                    _ => {}
                }
                (start, i) = (false, at + 1);
                continue;
            }
            Tok::Ident(first) => {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while tok(j) == Some(&Tok::Sep) {
                    match tok(j + 1) {
                        Some(Tok::Ident(next)) => path.push(next.clone()),
                        Some(Tok::Punct('<')) => j = matching(&toks, j + 1) - 1,
                        _ => break,
                    }
                    j += 2;
                }
                let macro_call =
                    tok(j) == Some(&Tok::Punct('!')) && matches!(tok(j + 1), Some(Tok::Punct('(' | '[' | '{')));
                scan.idents.extend(path.iter().cloned());
                if path.len() > 1 || macro_call {
                    scan.paths.push(CodePath {
                        module,
                        path,
                        line,
                        macro_call,
                    });
                }
                (start, i) = (false, j);
                continue;
            }
            Tok::Str(_) | Tok::Punct('$') => {}
            _ => start = false,
        }
        i += 1;
    }
    scan
}

/// The token `w` stands for in an attribute pattern.
fn word_tok(w: &str) -> Tok {
    match w {
        "(" => Tok::Punct('('),
        ")" => Tok::Punct(')'),
        _ => Tok::Ident(w.to_string()),
    }
}

/// The index of the bracket closing the one at `open` (`(`, `[`, `{` or
/// `<`), or the last token if it is never closed.
fn matching(toks: &[(Tok, usize)], open: usize) -> usize {
    let Some((Tok::Punct(kind), _)) = toks.get(open) else {
        return open;
    };
    let close = match kind {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        _ => '>',
    };
    let mut depth = 0usize;
    for (j, (tok, _)) in toks.iter().enumerate().skip(open) {
        match tok {
            // `->` inside generics closes nothing.
            Tok::Punct('>') if *kind == '<' && j > 0 && toks[j - 1].0 == Tok::Punct('-') => {}
            Tok::Punct(c) if c == kind => depth += 1,
            Tok::Punct(c) if *c == close => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    toks.len().saturating_sub(1)
}

/// Where the item or statement starting at `i` ends: after its `;` (or `,`),
/// after the brace that closes its body, or before the bracket that closes
/// what holds it.
fn skip_item(toks: &[(Tok, usize)], i: usize) -> usize {
    let mut depth = 0usize;
    for (j, (tok, _)) in toks.iter().enumerate().skip(i) {
        match tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') if depth == 0 => return j,
            Tok::Punct(c @ (')' | ']' | '}')) => {
                depth -= 1;
                if depth == 0 && *c == '}' {
                    let tail = matches!(toks.get(j + 1), Some((Tok::Punct(';' | ','), _)));
                    return j + 1 + usize::from(tail);
                }
            }
            Tok::Punct(';' | ',') if depth == 0 => return j + 1,
            _ => {}
        }
    }
    toks.len()
}

/// Reads a use tree from `i` under `prefix`, adding each (path, bound name)
/// to `out`; returns the index after it.
fn use_tree(
    toks: &[(Tok, usize)],
    mut i: usize,
    mut path: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) -> usize {
    let tok = |i: usize| toks.get(i).map(|(tok, _)| tok);
    if tok(i) == Some(&Tok::Sep) {
        path.push("::".to_string());
        i += 1;
    }
    while let Some(Tok::Ident(name)) = tok(i) {
        path.push(name.clone());
        i += 1;
        if tok(i) != Some(&Tok::Sep) {
            break;
        }
        i += 1;
    }
    match tok(i) {
        Some(Tok::Punct('*')) => {
            out.push((path, None));
            return i + 1;
        }
        Some(Tok::Punct('{')) => {
            i += 1;
            while let Some(next) = tok(i) {
                match next {
                    Tok::Punct('}') => return i + 1,
                    Tok::Punct(',') => i += 1,
                    _ => {
                        let end = use_tree(toks, i, path.clone(), out);
                        i = end.max(i + 1);
                    }
                }
            }
            return i;
        }
        _ => {}
    }
    if path.last().is_some_and(|last| last == "self") {
        path.pop();
    }
    let mut name = path.last().cloned();
    if let (Some(Tok::Ident(kw)), Some(Tok::Ident(alias))) = (tok(i), tok(i + 1))
        && kw == "as"
    {
        name = Some(alias.clone());
        i += 2;
    }
    if let Some(name) = name {
        out.push((path, Some(name)));
    }
    i
}
