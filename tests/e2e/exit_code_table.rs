//! The exit-code table of docs/node-shell.md and the e2e tests cannot drift
//! apart: each code in the table names the e2e test that produces it, and
//! this test checks that the table lists exactly those codes and that each
//! named test exists and asserts its code. It reads files only; it needs no
//! cluster.

use std::collections::BTreeSet;

use harness::repo_root;

/// Each code of the table (the remote command's status as "remote"), and
/// the e2e test, as FILE::FUNCTION, that makes toolbox exit with it.
const PROOFS: &[(&str, &str)] = &[
    (
        "0",
        "node_shell.rs::a_command_runs_with_its_output_and_exit_status",
    ),
    (
        "remote",
        "node_shell.rs::a_command_runs_with_its_output_and_exit_status",
    ),
    (
        "127",
        "real_node_shell.rs::a_command_that_cannot_start_ends_as_in_a_shell_on_the_real_node",
    ),
    (
        "126",
        "real_node_shell.rs::a_command_that_cannot_start_ends_as_in_a_shell_on_the_real_node",
    ),
    (
        "1",
        "faults.rs::a_cut_mid_session_ends_it_with_one_error_and_the_pod_is_deleted",
    ),
    (
        "2",
        "policy.rs::policy_usage_errors_are_one_line_and_create_nothing",
    ),
    (
        "3",
        "node_shell.rs::dev_without_pods_exec_is_told_what_is_missing_and_leaves_nothing",
    ),
    (
        "4",
        "node_shell.rs::a_crashed_container_is_one_line_with_where_to_read_why",
    ),
    (
        "5",
        "fanout.rs::debug_node_takes_the_same_targets_with_its_profile",
    ),
    (
        "6",
        "fanout.rs::a_node_whose_pod_cannot_start_is_listed_and_the_run_exits_6",
    ),
    (
        "129",
        "node_shell.rs::signals_during_a_session_delete_the_pod",
    ),
    (
        "130",
        "node_shell.rs::signals_during_a_session_delete_the_pod",
    ),
    (
        "141",
        "real_node_shell.rs::a_session_whose_reader_goes_ends_quietly_and_deletes_its_pod",
    ),
    (
        "143",
        "node_shell.rs::signals_during_a_session_delete_the_pod",
    ),
];

/// The codes in the first column of the table under "## Exit codes".
fn documented_codes() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(repo_root().join("docs/node-shell.md")).unwrap();
    let table = doc
        .split("## Exit codes")
        .nth(1)
        .expect("docs/node-shell.md has an Exit codes section");
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header and its rule
        .flat_map(|row| {
            let cell = row.split('|').nth(1).unwrap_or_default().trim().to_string();
            if cell.contains("remote command") {
                return vec!["remote".to_string()];
            }
            cell.split(',')
                .map(|code| code.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The body of `function` in tests/e2e/`file`.
fn body_of(file: &str, function: &str) -> String {
    let source = std::fs::read_to_string(repo_root().join("tests/e2e").join(file))
        .unwrap_or_else(|e| panic!("tests/e2e/{file}: {e}"));
    let start = source
        .find(&format!("fn {function}("))
        .unwrap_or_else(|| panic!("tests/e2e/{file} has no fn {function}"));
    let rest = &source[start..];
    let end = rest.find("\n}\n").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn every_documented_exit_code_is_produced_by_a_named_e2e_test() {
    let documented = documented_codes();
    let proven: BTreeSet<String> = PROOFS.iter().map(|(code, _)| code.to_string()).collect();
    assert_eq!(
        documented, proven,
        "docs/node-shell.md's exit codes and the codes this test knows a proof of"
    );
    for (code, proof) in PROOFS {
        let (file, function) = proof.split_once("::").unwrap();
        let body = body_of(file, function);
        let asserted = if *code == "remote" {
            // A status that is none of toolbox's own passes through.
            body.contains("Some(7)")
        } else {
            body.split(|c: char| !c.is_ascii_digit())
                .any(|token| token == *code)
        };
        assert!(asserted, "{proof} does not assert exit code {code}");
        assert!(
            body.contains(".code()"),
            "{proof} checks no exit status at all"
        );
    }
}
