use super::rust_source::{Tok, scan, tokens};
use super::*;

/// The graph of a crate made of `files` (path in `src`, text), root `lib.rs`.
fn crate_graph(files: &[(&str, &str)]) -> Graph {
    let sources = files
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
        .collect();
    Graph::new("src", &sources, "lib.rs")
}

/// Its edges as (importer, defining file) names without `src/`.
fn edges(graph: &Graph) -> Vec<(&str, &str)> {
    let name = |file: usize| graph.files[file].trim_start_matches("src/");
    graph.edges.keys().map(|&(a, b)| (name(a), name(b))).collect()
}

/// A crate of a few files: `mm/` a module with a facade (`pub use`s), its
/// files importing each other through it.
const MM: [(&str, &str); 5] = [
    ("lib.rs", "pub mod domain;\npub mod mm;\n"),
    (
        "mm/mod.rs",
        "//! Memory.\nmod frame_table;\nmod mfn;\npub use frame_table::FrameTable;\npub use mfn::{Mfn, PAGE_SIZE};\n\
         pub(crate) use self::mfn::helper as mfn_helper;\n",
    ),
    (
        "mm/frame_table.rs",
        "use crate::mm::Mfn;\nuse super::PAGE_SIZE;\npub struct FrameTable { frames: [Mfn; 4] }\n",
    ),
    (
        "mm/mfn.rs",
        "pub struct Mfn(u64);\npub const PAGE_SIZE: u64 = 4096;\npub fn helper() {}\n",
    ),
    (
        "domain.rs",
        "use crate::mm;\npub fn build(table: &mm::FrameTable) { crate::mm::mfn_helper(); }\n",
    ),
];

#[test]
fn comments_strings_and_chars_are_no_code() {
    let toks = tokens("// crate::a\n/* crate::b /* nested */ */ \"crate::c\" r#\"crate::d\"# 'x' '\\'' 'a x::y");
    let idents: Vec<&Tok> = toks
        .iter()
        .map(|(tok, _)| tok)
        .filter(|tok| matches!(tok, Tok::Ident(_)))
        .collect();
    assert_eq!(idents, [&Tok::Ident("x".into()), &Tok::Ident("y".into())]);
    assert_eq!(toks.last().map(|(_, line)| *line), Some(2));
}

#[test]
fn use_trees_items_and_test_code_are_read() {
    let text = "pub use a::{b::{self, C as D}, e::*};\npub(crate) fn f() {}\nconst fn g() {}\nstruct S;\n\
                #[cfg(test)]\nmod tests { use crate::x::Y; }\n#[cfg(test)]\nmod more_tests;\nmod inner { pub static T: u8 = 0; }\n\
                #[macro_export]\nmacro_rules! m { () => { $crate::z::w() } }\n";
    let scan = scan(text);
    let imports: Vec<(String, Option<String>, bool)> = scan
        .imports
        .iter()
        .map(|i| (i.path.join("::"), i.name.clone(), i.public))
        .collect();
    assert_eq!(
        imports,
        [
            ("a::b".into(), Some("b".into()), true),
            ("a::b::C".into(), Some("D".into()), true),
            ("a::e".into(), None, true)
        ]
    );
    let top: Vec<&str> = scan.items[&Vec::new()].iter().map(String::as_str).collect();
    assert_eq!(top, ["S", "f", "g"]);
    assert!(scan.items[&vec!["inner".to_string()]].contains("T"));
    assert_eq!(scan.mods.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["inner"]);
    assert!(!scan.idents.contains("Y"));
    assert_eq!(scan.macros, [("m".to_string(), true)]);
}

#[test]
fn a_re_export_through_mod_rs_is_an_edge_to_the_defining_file_and_no_cycle() {
    let graph = crate_graph(&MM);
    assert_eq!(
        edges(&graph),
        [
            ("domain.rs", "mm/frame_table.rs"),
            ("domain.rs", "mm/mfn.rs"),
            ("mm/frame_table.rs", "mm/mfn.rs"),
        ]
    );
    assert!(graph.check().is_empty());
}

#[test]
fn a_cycle_is_found_with_its_files_and_imports() {
    let mut files = MM.to_vec();
    // mfn.rs calls into domain.rs, which imports from mm: a cycle of three.
    files[3].1 =
        "pub struct Mfn(u64);\npub const PAGE_SIZE: u64 = 4096;\npub fn helper() { crate::domain::build(); }\n";
    let graph = crate_graph(&files);
    assert_eq!(graph.cycles(), [vec![1, 3, 4]]);
    let problems = graph.check();
    let [problem] = problems.as_slice() else {
        panic!("{problems:?}")
    };
    assert!(
        problem.contains("3 files: src/domain.rs, src/mm/frame_table.rs, src/mm/mfn.rs"),
        "{problem}"
    );
    assert!(
        problem.contains("mm/mfn.rs:3 -> domain.rs: crate::domain::build"),
        "{problem}"
    );
    assert!(
        problem.contains("domain.rs:2 -> mm/mfn.rs: crate::mm::mfn_helper"),
        "{problem}"
    );
}

#[test]
fn a_cycle_of_two_files_is_a_problem() {
    let graph = crate_graph(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        ("b.rs", "pub struct B;\npub fn f(_: crate::a::A) {}\n"),
    ]);
    let problems = graph.check();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("import cycle among 2 files"), "{problems:?}");
    // The import back taken away, no cycle is left.
    let fixed = crate_graph(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub struct A;\n"),
        ("b.rs", "pub fn f(_: crate::a::A) {}\n"),
    ]);
    assert!(fixed.check().is_empty());
}

#[test]
fn test_code_and_test_files_make_no_cycle() {
    let graph = crate_graph(&[
        ("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod b_tests;\n"),
        (
            "a.rs",
            "use crate::b::B;\npub struct A;\n#[cfg(test)]\nfn helper() {}\n",
        ),
        (
            "b.rs",
            "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\nmod more_tests;\n",
        ),
        ("b/more_tests.rs", "use crate::a::A;\n"),
        ("b_tests.rs", "use crate::a::A;\n"),
    ]);
    assert_eq!(edges(&graph), [("a.rs", "b.rs")]);
    assert!(graph.check().is_empty());
}

#[test]
fn globs_module_aliases_super_and_macros_resolve_to_the_defining_file() {
    let graph = crate_graph(&[
        (
            "lib.rs",
            "#[macro_use]\nmod log;\nmod arch;\nmod util;\npub use util::*;\n",
        ),
        ("log.rs", "#[macro_export]\nmacro_rules! info { () => {} }\n"),
        ("arch/mod.rs", "pub mod clock;\npub mod boot;\n"),
        ("arch/clock.rs", "pub fn now() -> u64 { crate::helper() }\n"),
        (
            "arch/boot.rs",
            "use crate::arch::{self, clock};\nfn start() { info!(); clock::now(); super::clock::now(); }\n",
        ),
        (
            "util.rs",
            "pub fn helper() -> u64 { 0 }\npub use self::inner::*;\nmod inner { pub fn deep() {} }\n",
        ),
        ("top.rs", ""),
    ]);
    assert_eq!(
        edges(&graph),
        [
            ("arch/clock.rs", "util.rs"),
            ("arch/boot.rs", "log.rs"),
            ("arch/boot.rs", "arch/clock.rs")
        ]
    );
    // A glob's name that nothing defines: the module's file, as a fallback.
    let unresolved = crate_graph(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub use xen::*;\n"),
        ("b.rs", "fn f() { crate::a::Made::new(); }\n"),
    ]);
    assert_eq!(edges(&unresolved), [("b.rs", "a.rs")]);
}
