//! The module tree of one crate, read with `syn` from its files: which file holds each
//! module, the names each module defines, its `use` declarations and the paths its code
//! names. `#[cfg(test)]` items are left out (see main.rs for why).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::ext::IdentExt;
use syn::{Attribute, Item, UseTree, Visibility};

use crate::refs::Refs;

pub type ModId = usize;
pub type FileId = usize;

/// Where source text comes from: the disk, or (in the resolver's unit tests) a map.
pub trait Source {
    fn read(&self, path: &Path) -> Option<String>;
}

/// The repository's files.
pub struct Disk;

impl Source for Disk {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

impl Source for BTreeMap<PathBuf, String> {
    fn read(&self, path: &Path) -> Option<String> {
        self.get(path).cloned()
    }
}

/// One leaf of a `use` declaration: `use a::b::{c as d, e::*}` gives `d` bound to `a::b::c`
/// and a glob over `a::b::e`.
#[derive(Debug)]
pub struct Import {
    /// The name the import binds in the module (empty for a glob).
    pub binding: String,
    pub path: Vec<String>,
    pub glob: bool,
    /// `pub`, `pub(crate)`, `pub(super)`...: a re-export, which forwards a name rather than
    /// using it.
    pub public: bool,
}

#[derive(Debug)]
pub struct Module {
    pub parent: Option<ModId>,
    pub file: FileId,
    /// Child modules, inline (`mod a { .. }`, same file) or in their own file.
    pub children: BTreeMap<String, ModId>,
    /// Items defined here (types, functions, traits, constants, macros...).
    pub items: BTreeSet<String>,
    /// The variants of each enum defined here (for `use Enum::*`).
    pub variants: BTreeMap<String, BTreeSet<String>>,
    pub imports: Vec<Import>,
    /// Paths named by this module's code (not by its child modules'), as written.
    pub refs: Vec<Vec<String>>,
}

#[derive(Debug, Default)]
pub struct Tree {
    /// The files, as found from the crate root's path.
    pub files: Vec<PathBuf>,
    /// The modules; the crate root is module 0.
    pub modules: Vec<Module>,
}

/// Where `mod x;` looks for its file, and what `#[path]` is relative to, in one module body.
struct Dirs {
    children: PathBuf,
    path_attr: PathBuf,
}

/// Reads the crate whose root file is `root` and every module file it declares.
pub fn load(source: &dyn Source, root: &Path) -> Result<Tree, String> {
    let mut tree = Tree::default();
    tree.load_file(source, root, None, true)?;
    Ok(tree)
}

impl Tree {
    /// Reads one module file. `mod_rs` is true for crate roots, `mod.rs` files and files
    /// named by `#[path]`: their child modules live beside them rather than in a directory
    /// named after them.
    fn load_file(
        &mut self,
        source: &dyn Source,
        path: &Path,
        parent: Option<ModId>,
        mod_rs: bool,
    ) -> Result<ModId, String> {
        let text = source
            .read(path)
            .ok_or_else(|| format!("cannot read {}", path.display()))?;
        let file = syn::parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        self.files.push(path.to_path_buf());
        let file_id = self.files.len() - 1;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let children = match path.file_stem() {
            Some(stem) if !mod_rs => dir.join(stem),
            _ => dir.clone(),
        };
        let module = self.new_module(parent, file_id);
        let dirs = Dirs {
            children,
            path_attr: dir,
        };
        self.load_items(source, module, &file.items, &dirs)?;
        Ok(module)
    }

    fn new_module(&mut self, parent: Option<ModId>, file: FileId) -> ModId {
        self.modules.push(Module {
            parent,
            file,
            children: BTreeMap::new(),
            items: BTreeSet::new(),
            variants: BTreeMap::new(),
            imports: Vec::new(),
            refs: Vec::new(),
        });
        self.modules.len() - 1
    }

    fn load_items(
        &mut self,
        source: &dyn Source,
        module: ModId,
        items: &[Item],
        dirs: &Dirs,
    ) -> Result<(), String> {
        let mut refs = Refs::default();
        for item in items {
            if is_cfg_test(item_attrs(item)) {
                continue;
            }
            match item {
                Item::Mod(m) => {
                    let name = m.ident.unraw().to_string();
                    let child = match &m.content {
                        Some((_, inner)) => {
                            let file = self.modules[module].file;
                            let child = self.new_module(Some(module), file);
                            let dir = dirs.children.join(&name);
                            let sub = Dirs {
                                children: dir.clone(),
                                path_attr: dir,
                            };
                            self.load_items(source, child, inner, &sub)?;
                            child
                        }
                        None => {
                            let (path, mod_rs) = match path_attr(&m.attrs) {
                                Some(p) => (dirs.path_attr.join(p), true),
                                None => {
                                    let flat = dirs.children.join(format!("{name}.rs"));
                                    if source.read(&flat).is_some() {
                                        (flat, false)
                                    } else {
                                        (dirs.children.join(&name).join("mod.rs"), true)
                                    }
                                }
                            };
                            self.load_file(source, &path, Some(module), mod_rs)?
                        }
                    };
                    self.modules[module].children.insert(name, child);
                    refs.attributes(&m.attrs);
                }
                Item::Use(u) => {
                    let public = !matches!(u.vis, Visibility::Inherited);
                    if u.leading_colon.is_none() {
                        let leaves = use_leaves(&u.tree, public);
                        self.modules[module].imports.extend(leaves);
                    }
                    refs.attributes(&u.attrs);
                }
                other => {
                    if let Some(name) = defined_name(other) {
                        self.modules[module].items.insert(name);
                    }
                    if let Item::Enum(e) = other {
                        let variants = e.variants.iter().map(|v| v.ident.unraw().to_string());
                        let name = e.ident.unraw().to_string();
                        self.modules[module]
                            .variants
                            .insert(name, variants.collect());
                    }
                    refs.item(other);
                }
            }
        }
        self.modules[module].refs.extend(refs.paths);
        Ok(())
    }
}

/// The leaves of a use tree, each with the full path it imports.
pub fn use_leaves(tree: &UseTree, public: bool) -> Vec<Import> {
    let mut out = Vec::new();
    flatten(tree, &mut Vec::new(), public, &mut out);
    out
}

fn flatten(tree: &UseTree, prefix: &mut Vec<String>, public: bool, out: &mut Vec<Import>) {
    let mut leaf = |binding: String, path: Vec<String>, glob: bool| {
        out.push(Import {
            binding,
            path,
            glob,
            public,
        })
    };
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.unraw().to_string());
            flatten(&p.tree, prefix, public, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.unraw().to_string();
            if name == "self" {
                let binding = prefix.last().cloned().unwrap_or_default();
                leaf(binding, prefix.clone(), false);
            } else {
                leaf(name.clone(), [prefix.as_slice(), &[name]].concat(), false);
            }
        }
        UseTree::Rename(r) => {
            let name = r.ident.unraw().to_string();
            let path = if name == "self" {
                prefix.clone()
            } else {
                [prefix.as_slice(), &[name]].concat()
            };
            leaf(r.rename.unraw().to_string(), path, false);
        }
        UseTree::Glob(_) => leaf(String::new(), prefix.clone(), true),
        UseTree::Group(g) => {
            for tree in &g.items {
                flatten(tree, prefix, public, out);
            }
        }
    }
}

/// The name an item defines in its module's namespace, if any.
fn defined_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
        Item::Fn(i) => &i.sig.ident,
        Item::Macro(i) => i.ident.as_ref()?,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::TraitAlias(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.unraw().to_string())
}

pub fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[cfg(test)]`: code compiled only into the crate's own unit tests.
pub fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|arg| arg == "test")
    })
}

/// The file a `#[path = "..."]` attribute names.
fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}
