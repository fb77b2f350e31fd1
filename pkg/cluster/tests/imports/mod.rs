//! Which module of a crate imports which, read from its sources, for the
//! structure tests of toolbox's crates (docs/architecture.md states the
//! rules they check).
//!
//! Every `crate::` and `super::` path outside a file's unit tests, and every
//! `use child::...` of a folder's mod.rs, is an edge from its file's module
//! to the module it names. That is coarser than the compiler's view, and on
//! the safe side: a path to an item counts as an import of the module that
//! holds it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path in its crate; the crate root is empty.
pub type Module = Vec<String>;

/// `crate::a::b` for a module, "the crate root" for the root.
pub fn shown(module: &Module) -> String {
    if module.is_empty() {
        "the crate root".into()
    } else {
        module.join("::")
    }
}

/// The first import circle found, as the modules along it.
pub fn circle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<String>> {
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        if let Some(circle) = find_circle(graph, start, &mut Vec::new(), &mut done) {
            return Some(circle);
        }
    }
    None
}

fn find_circle(
    graph: &BTreeMap<Module, BTreeSet<Module>>,
    at: &Module,
    path: &mut Vec<Module>,
    done: &mut BTreeSet<Module>,
) -> Option<Vec<String>> {
    if let Some(from) = path.iter().position(|m| m == at) {
        let mut circle: Vec<String> = path[from..].iter().map(shown).collect();
        circle.push(shown(at));
        return Some(circle);
    }
    if done.contains(at) {
        return None;
    }
    path.push(at.clone());
    for next in graph.get(at).into_iter().flatten() {
        if let Some(circle) = find_circle(graph, next, path, done) {
            return Some(circle);
        }
    }
    path.pop();
    done.insert(at.clone());
    None
}

/// Every module of the crate but its root, and its file.
pub fn modules(root: &Path) -> BTreeMap<Module, PathBuf> {
    let root = root.to_path_buf();
    let mut found = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Module = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            // A folder's mod.rs is the folder's module; lib.rs and main.rs
            // are the crate root.
            let is_root = module.len() == 1 && (module[0] == "lib" || module[0] == "main");
            if is_root || module.last().is_some_and(|last| last == "mod") {
                module.pop();
            }
            if !module.is_empty() {
                found.insert(module, path);
            }
        }
    }
    found
}

/// Which modules each module's file names, the crate root's left out: it
/// declares the wings and re-exports their faces.
pub fn import_graph(root: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules(root);
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let mut targets = BTreeSet::new();
        for path in paths_named(&code_of(&text)) {
            let (anchor, rest) = path.split_first().unwrap();
            // `super` is the parent of the file's module: for a folder's
            // mod.rs, the folder's parent.
            let mut full: Module = match anchor.as_str() {
                "crate" => Vec::new(),
                "self" => module.clone(),
                _ => module[..module.len() - 1].to_vec(),
            };
            full.extend(rest.iter().cloned());
            // The longest prefix that is a module: a path to an item names
            // the module that holds it.
            while !full.is_empty() && !modules.contains_key(&full) {
                full.pop();
            }
            if &full != module {
                targets.insert(full);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// The file without its comments and without its unit tests, whose
/// `super` is the file's own module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::...` and `super::...` path, with `use` groups
/// (`super::{a::B, c}`) spelled out one path each.
fn paths_named(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    // `use child::X` in a folder's mod.rs names its child module.
    for line in code.lines() {
        let line = line.trim_start();
        let line = ["pub use ", "pub(crate) use ", "pub(super) use ", "use "]
            .iter()
            .find_map(|start| line.strip_prefix(start));
        if let Some(tree) = line.filter(|t| !t.starts_with("crate::") && !t.starts_with("super::"))
        {
            parse_tree(tree, vec!["self".to_string()], &mut found);
        }
    }
    let bytes = code.as_bytes();
    for anchor in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(anchor) {
            let start = from + at;
            from = start + anchor.len();
            let word_before =
                start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
            if word_before {
                continue;
            }
            let name = anchor.trim_end_matches("::").to_string();
            parse_tree(&code[from..], vec![name], &mut found);
        }
    }
    found
}

/// Reads `a::b::{c, d::e}` after `prefix`, adding each whole path.
fn parse_tree(text: &str, prefix: Vec<String>, found: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix;
    let mut at = 0;
    loop {
        let rest = &text[at..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut used = 1;
            let mut inner = group;
            loop {
                let skipped = inner.len() - inner.trim_start().len();
                used += skipped;
                inner = inner.trim_start();
                if let Some(after) = inner.strip_prefix('}') {
                    let _ = after;
                    return at + used + 1;
                }
                let taken = parse_tree(inner, path.clone(), found);
                used += taken;
                inner = &inner[taken..];
                let skipped = inner.len() - inner.trim_start().len();
                used += skipped;
                inner = inner.trim_start();
                if let Some(after) = inner.strip_prefix(',') {
                    used += 1;
                    inner = after;
                } else if inner.starts_with('}') {
                    continue;
                } else {
                    return at + used;
                }
            }
        }
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '*')
            .collect();
        if ident.is_empty() {
            found.push(path);
            return at;
        }
        at += ident.len();
        path.push(ident);
        match text[at..].strip_prefix("::") {
            Some(_) => at += 2,
            None => {
                found.push(path);
                return at;
            }
        }
    }
}
