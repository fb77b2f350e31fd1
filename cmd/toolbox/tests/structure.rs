//! The binary's shape, checked from its own sources (docs/architecture.md
//! states it): subcommands never import from each other, and no module
//! imports from a module that imports it.

#[path = "../../../pkg/cluster/tests/imports/mod.rs"]
mod imports;

use std::path::Path;

use imports::{import_graph, shown};

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_imports_from_a_module_that_imports_it() {
    if let Some(circle) = imports::circle(&import_graph(&src())) {
        panic!("an import circle: {}", circle.join(" -> "));
    }
}

#[test]
fn subcommands_never_import_from_each_other() {
    let mut wrong = Vec::new();
    for (from, targets) in import_graph(&src()) {
        if from.len() != 2 || from[0] != "commands" {
            continue;
        }
        for to in targets
            .iter()
            .filter(|to| to.first().map(String::as_str) == Some("commands"))
        {
            wrong.push(format!("{} uses {}", shown(&from), shown(to)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
