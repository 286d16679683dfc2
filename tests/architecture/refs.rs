//! The paths a module's code names: in types, expressions, patterns, trait bounds, `impl`
//! headers, macro arguments and attributes (`#[kube(status = "super::Status")]`). Doc
//! comments are not code: an intra-doc link is no dependency.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::visit::{self, Visit};

use crate::tree::{is_cfg_test, item_attrs, use_leaves};

#[derive(Debug, Default)]
pub struct Refs {
    pub paths: Vec<Vec<String>>,
}

impl Refs {
    /// The paths one item's code names (the item is not a `mod` or a module-level `use`).
    pub fn item(&mut self, item: &syn::Item) {
        self.visit_item(item);
    }

    /// The paths named in attributes (on a `mod` or `use`, whose bodies are read apart).
    pub fn attributes(&mut self, attrs: &[syn::Attribute]) {
        for attr in attrs {
            self.visit_attribute(attr);
        }
    }

    fn push(&mut self, path: Vec<String>) {
        if !path.is_empty() {
            self.paths.push(path);
        }
    }

    /// Macro arguments are tokens, not syntax: every `a::b::c` run of identifiers is taken
    /// for a path (conservative: a lone word that is no name of the module resolves to
    /// nothing). A path after a leading `::` is another crate's.
    fn tokens(&mut self, tokens: TokenStream) {
        let mut path: Vec<String> = Vec::new();
        let mut joined = false;
        let mut external = false;
        let mut iter = tokens.into_iter().peekable();
        while let Some(tree) = iter.next() {
            match tree {
                TokenTree::Ident(ident) => {
                    if !joined {
                        self.flush(&mut path, &mut external);
                    }
                    path.push(ident.unraw().to_string());
                    joined = false;
                }
                TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == Spacing::Joint => {
                    if matches!(iter.peek(), Some(TokenTree::Punct(q)) if q.as_char() == ':') {
                        iter.next();
                        if path.is_empty() {
                            external = true;
                        }
                        joined = true;
                    } else {
                        self.flush(&mut path, &mut external);
                        joined = false;
                    }
                }
                TokenTree::Group(g) => {
                    self.flush(&mut path, &mut external);
                    joined = false;
                    self.tokens(g.stream());
                }
                TokenTree::Literal(lit) => {
                    self.flush(&mut path, &mut external);
                    joined = false;
                    self.string_path(&lit.to_string());
                }
                TokenTree::Punct(_) => {
                    self.flush(&mut path, &mut external);
                    joined = false;
                }
            }
        }
        self.flush(&mut path, &mut external);
    }

    fn flush(&mut self, path: &mut Vec<String>, external: &mut bool) {
        let taken = std::mem::take(path);
        if !std::mem::take(external) {
            self.push(taken);
        }
    }

    /// A string literal that is a path of this crate (`"super::CloudDbJobStatus"` in a derive
    /// attribute) names that item.
    fn string_path(&mut self, literal: &str) {
        let Ok(lit) = syn::parse_str::<syn::LitStr>(literal) else {
            return;
        };
        let value = lit.value();
        if !["crate::", "super::", "self::"]
            .iter()
            .any(|p| value.starts_with(p))
        {
            return;
        }
        if let Ok(path) = syn::parse_str::<syn::Path>(&value) {
            self.visit_path(&path);
        }
    }
}

impl<'ast> Visit<'ast> for Refs {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_cfg_test(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs = match item {
            syn::ImplItem::Const(i) => &i.attrs,
            syn::ImplItem::Fn(i) => &i.attrs,
            syn::ImplItem::Type(i) => &i.attrs,
            syn::ImplItem::Macro(i) => &i.attrs,
            _ => return visit::visit_impl_item(self, item),
        };
        if !is_cfg_test(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    /// A `use` inside a function body names each path it imports.
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_some() {
            return;
        }
        for import in use_leaves(&item.tree, false) {
            self.push(import.path);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            let segments = path.segments.iter().map(|s| s.ident.unraw().to_string());
            self.push(segments.collect());
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.tokens(mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if attr.path().is_ident("doc") {
            return;
        }
        match &attr.meta {
            syn::Meta::Path(p) => self.visit_path(p),
            syn::Meta::List(list) => {
                self.visit_path(&list.path);
                self.tokens(list.tokens.clone());
            }
            syn::Meta::NameValue(nv) => {
                self.visit_path(&nv.path);
                match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => self.string_path(&s.token().to_string()),
                    other => self.visit_expr(other),
                }
            }
        }
    }
}
