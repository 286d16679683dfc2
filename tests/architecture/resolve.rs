//! Name resolution, as far as the file graph needs it: a path named in a module resolves to
//! the FILE that defines the item, following `use` and `pub use` (re-exports) to the
//! definition, so that a parent re-exporting its child's type is not, by itself, a
//! dependency of anyone on the parent.

use std::collections::BTreeMap;

use crate::tree::{FileId, ModId, Tree};

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A module of the crate (naming one is no dependency on its file by itself).
    Module(ModId),
    /// An item (or something inside it: a variant, an associated item) defined in module
    /// `module`.
    Item { module: ModId, file: FileId },
    /// Another crate, the prelude, a local variable or generic: nothing of this crate.
    Outside,
}

/// Deep enough for any chain of re-exports; it stops loops of glob imports.
const MAX_DEPTH: u8 = 32;

/// The dependencies between the crate's files: `(from, to)` with the first path (as written)
/// that makes it. Edges come from
/// - every private `use` of an item (even one used only for its methods, as a trait is);
/// - every path in code that resolves to an item of another file.
///
/// A `mod` declaration (ownership), a `pub use` (forwarding) and naming a module are not
/// edges.
pub fn file_graph(tree: &Tree) -> BTreeMap<(FileId, FileId), String> {
    let mut edges = BTreeMap::new();
    for (id, module) in tree.modules.iter().enumerate() {
        let imports = module.imports.iter().filter(|i| !i.public && !i.glob);
        let paths = imports
            .map(|i| (&i.path, "use "))
            .chain(module.refs.iter().map(|r| (r, "")));
        for (path, how) in paths {
            if let Target::Item { file, .. } = resolve(tree, id, path) {
                if file != module.file {
                    edges
                        .entry((module.file, file))
                        .or_insert_with(|| format!("{how}{}", path.join("::")));
                }
            }
        }
    }
    edges
}

/// Resolves `path` as written in module `from`.
pub fn resolve(tree: &Tree, from: ModId, path: &[String]) -> Target {
    resolve_at(tree, from, path, 0)
}

fn resolve_at(tree: &Tree, from: ModId, path: &[String], depth: u8) -> Target {
    if depth > MAX_DEPTH {
        return Target::Outside;
    }
    let Some((first, rest)) = path.split_first() else {
        return Target::Module(from);
    };
    let mut current = match first.as_str() {
        "crate" => 0,
        "self" => from,
        "super" => match tree.modules[from].parent {
            Some(parent) => parent,
            None => return Target::Outside,
        },
        name => match lookup(tree, from, name, depth) {
            Target::Module(m) => m,
            other => return other,
        },
    };
    for segment in rest {
        current = match segment.as_str() {
            "self" => current,
            "super" => match tree.modules[current].parent {
                Some(parent) => parent,
                None => return Target::Outside,
            },
            name => match lookup(tree, current, name, depth) {
                Target::Module(m) => m,
                other => return other,
            },
        };
    }
    Target::Module(current)
}

/// What `name` means in module `module`: a child module, an item defined there, an import
/// (explicit ones first, then globs, as in Rust), else nothing of this crate.
fn lookup(tree: &Tree, module: ModId, name: &str, depth: u8) -> Target {
    let m = &tree.modules[module];
    if let Some(&child) = m.children.get(name) {
        return Target::Module(child);
    }
    if m.items.contains(name) {
        return Target::Item {
            module,
            file: m.file,
        };
    }
    let explicit = m.imports.iter().find(|i| !i.glob && i.binding == name);
    if let Some(import) = explicit {
        return resolve_at(tree, module, &import.path, depth + 1);
    }
    for glob in m.imports.iter().filter(|i| i.glob) {
        match resolve_at(tree, module, &glob.path, depth + 1) {
            Target::Module(g) if g != module => match lookup(tree, g, name, depth + 1) {
                Target::Outside => {}
                found => return found,
            },
            Target::Item {
                module: owner,
                file,
            } => {
                // `use Enum::*`: the variants of an enum of this crate.
                let enum_name = glob.path.last().map(String::as_str).unwrap_or_default();
                let variants = tree.modules[owner].variants.get(enum_name);
                if variants.is_some_and(|v| v.contains(name)) {
                    return Target::Item {
                        module: owner,
                        file,
                    };
                }
            }
            _ => {}
        }
    }
    Target::Outside
}
