//! The resolver and the cycle finder on small crates held in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::cycles::{components, describe};
use crate::resolve::file_graph;
use crate::tree::{load, Tree};

/// Loads a crate rooted at `src/lib.rs` from `(path, source)` pairs.
fn crate_of(files: &[(&str, &str)]) -> Tree {
    let source: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.to_string()))
        .collect();
    load(&source, Path::new("src/lib.rs")).expect("the example crate loads")
}

/// The dependencies between files, by file name.
fn edges_of(tree: &Tree) -> BTreeSet<(String, String)> {
    let name = |f: usize| tree.files[f].display().to_string();
    file_graph(tree)
        .keys()
        .map(|&(from, to)| (name(from), name(to)))
        .collect()
}

/// Each cycle, described as the test prints it.
fn cycles_of(tree: &Tree) -> Vec<String> {
    let edges = file_graph(tree);
    let name = |f: usize| tree.files[f].display().to_string();
    components(&edges)
        .iter()
        .map(|c| describe(&edges, c, &name))
        .collect()
}

fn edge(from: &str, to: &str) -> (String, String) {
    (from.to_string(), to.to_string())
}

#[test]
fn a_parent_re_exporting_its_childs_type_is_not_a_cycle() {
    let tree = crate_of(&[
        ("src/lib.rs", "pub mod controller;"),
        (
            "src/controller/mod.rs",
            "pub mod context;\npub mod events;\npub use context::Context;\n\
             pub use events::publish;",
        ),
        ("src/controller/context.rs", "pub struct Context;"),
        (
            "src/controller/events.rs",
            "use super::Context;\npub fn publish(_: &Context) {}",
        ),
    ]);
    // The edge goes to the file defining `Context`, not to the parent re-exporting it.
    assert_eq!(
        edges_of(&tree),
        BTreeSet::from([edge(
            "src/controller/events.rs",
            "src/controller/context.rs"
        )])
    );
    assert_eq!(cycles_of(&tree), Vec::<String>::new());
}

#[test]
fn a_parent_using_its_childs_type_while_the_child_uses_the_parents_is_a_cycle() {
    let tree = crate_of(&[
        (
            "src/lib.rs",
            "mod context;\npub use context::Context;\npub struct Config;\n\
                        pub fn run(_: Context) {}",
        ),
        ("src/context.rs", "pub struct Context(crate::Config);"),
    ]);
    let cycles = cycles_of(&tree);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].contains("cycle: src/lib.rs -> src/context.rs -> src/lib.rs"),
        "{}",
        cycles[0]
    );
    assert!(
        cycles[0].contains("src/context.rs uses src/lib.rs (`crate::Config`)"),
        "{}",
        cycles[0]
    );
}

#[test]
fn a_cycle_through_three_files_is_found_whatever_form_the_paths_take() {
    let tree = crate_of(&[
        ("src/lib.rs", "mod a;\nmod b;\nmod c;"),
        // A `use`, a fully qualified path in a signature, one in a macro's arguments.
        ("src/a.rs", "use crate::b::B;\npub struct A(B);"),
        (
            "src/b.rs",
            "pub struct B;\nfn f() -> crate::c::C { todo!() }",
        ),
        (
            "src/c.rs",
            "pub struct C;\nfn g() { println!(\"{}\", std::mem::size_of::<crate::a::A>()); }",
        ),
    ]);
    let cycles = cycles_of(&tree);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].contains("cycle: src/a.rs -> src/b.rs -> src/c.rs -> src/a.rs"),
        "{}",
        cycles[0]
    );
    assert!(cycles[0].contains("src/a.rs uses src/b.rs (`use crate::b::B`)"));
    assert!(cycles[0].contains("src/b.rs uses src/c.rs (`crate::c::C`)"));
    assert!(cycles[0].contains("src/c.rs uses src/a.rs (`crate::a::A`)"));
}

#[test]
fn a_cycle_between_siblings_through_super_is_found() {
    let tree = crate_of(&[
        ("src/lib.rs", "pub mod controller;"),
        ("src/controller/mod.rs", "mod events;\nmod rounds;"),
        (
            "src/controller/events.rs",
            "pub struct Recorder;\nfn f(_: super::rounds::Round) {}",
        ),
        (
            "src/controller/rounds.rs",
            "use super::events::{self};\npub struct Round(events::Recorder);",
        ),
    ]);
    assert_eq!(
        edges_of(&tree),
        BTreeSet::from([
            edge("src/controller/events.rs", "src/controller/rounds.rs"),
            edge("src/controller/rounds.rs", "src/controller/events.rs"),
        ])
    );
    assert_eq!(cycles_of(&tree).len(), 1);
}

#[test]
fn a_glob_import_brings_the_parents_imports_and_an_enums_variants() {
    let tree = crate_of(&[
        (
            "src/lib.rs",
            "mod a;\nmod b;\nmod kinds;\nuse b::Thing;\npub use kinds::Kind;",
        ),
        (
            "src/a.rs",
            "use super::*;\nfn f(_: Thing) {}\nfn g() { use Kind::*; let _ = First; }",
        ),
        ("src/b.rs", "pub struct Thing;"),
        ("src/kinds.rs", "pub enum Kind { First, Second }"),
    ]);
    assert_eq!(
        edges_of(&tree),
        BTreeSet::from([
            edge("src/a.rs", "src/b.rs"),
            edge("src/a.rs", "src/kinds.rs"),
            edge("src/lib.rs", "src/b.rs"),
        ])
    );
}

#[test]
fn test_code_attributes_and_path_attributes_are_read_as_rustc_reads_them() {
    let tree = crate_of(&[
        (
            "src/lib.rs",
            "mod status;\nmod spec;\npub use status::Status;",
        ),
        // A derive attribute naming a type by string; a child in `src/spec/`; a `#[path]`.
        (
            "src/spec.rs",
            "#[kube(status = \"super::Status\")]\npub struct Spec;\nmod inner;\n\
             #[path = \"spec_extra.rs\"]\nmod extra;",
        ),
        ("src/spec/inner.rs", "pub struct Inner;"),
        ("src/spec_extra.rs", "fn f(_: super::inner::Inner) {}"),
        // Unit tests may use anything: `#[cfg(test)]` code is left out, and its file is not
        // even read (it does not exist here).
        (
            "src/status.rs",
            "pub struct Status;\n#[cfg(test)]\nmod tests;\n\
             #[cfg(test)]\nfn fixture() -> crate::spec::Spec { todo!() }",
        ),
    ]);
    assert_eq!(
        edges_of(&tree),
        BTreeSet::from([
            edge("src/spec.rs", "src/status.rs"),
            edge("src/spec_extra.rs", "src/spec/inner.rs"),
        ])
    );
}

#[test]
fn components_are_the_cycles_and_self_loops_are_none() {
    let edges: BTreeMap<(usize, usize), String> =
        [(0, 1), (1, 0), (2, 2), (3, 4), (4, 5), (5, 3), (5, 6)]
            .into_iter()
            .map(|e| (e, String::new()))
            .collect();
    assert_eq!(components(&edges), vec![vec![0, 1], vec![3, 4, 5]]);
}
