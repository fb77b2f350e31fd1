//! The crate's shape, checked from its own sources (docs/architecture.md
//! draws it): wings that only use the wings below them, and no module that
//! imports from a module that imports it.

mod imports;

use std::path::{Path, PathBuf};

use imports::{Module, import_graph, modules, shown};

/// The wings from the bottom up; a wing may use its own modules and those
/// of the wings below it. The leaves (errors, signals, the terminal, the
/// steps' timing) are at the bottom, where every wing reaches them.
const WINGS: &[&[&str]] = &[
    &["error", "signals", "terminal", "steps"],
    &["input"],
    &["client"],
    &["nodes"],
    &["session"],
    &["nodelogs"],
    &["inspect", "leftovers", "recordings"],
    &["dump"],
];

#[test]
fn no_module_imports_from_a_module_that_imports_it() {
    if let Some(circle) = imports::circle(&import_graph(&src())) {
        panic!("an import circle: {}", circle.join(" -> "));
    }
}

#[test]
fn wings_use_only_their_own_modules_and_the_wings_below() {
    let mut wrong = Vec::new();
    for (from, targets) in import_graph(&src()) {
        for to in targets {
            if to.is_empty() {
                wrong.push(format!(
                    "{}: uses the crate root; name the wing's module instead",
                    shown(&from)
                ));
                continue;
            }
            let (from_rank, to_rank) = (rank(&from), rank(&to));
            let same_wing = from[0] == to[0] || from_rank == 0 && to_rank == 0;
            if to_rank > from_rank || (to_rank == from_rank && !same_wing) {
                wrong.push(format!("{} uses {}", shown(&from), shown(&to)));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_file_of_the_session_lifecycle_is_over_600_lines() {
    for (module, file) in modules(&src()) {
        if module.first().map(String::as_str) == Some("session") {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            assert!(lines <= 600, "{} has {lines} lines", file.display());
        }
    }
}

fn rank(module: &Module) -> usize {
    WINGS
        .iter()
        .position(|wing| wing.contains(&module[0].as_str()))
        .unwrap_or_else(|| panic!("{} is in no wing: add it to WINGS", shown(module)))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}
