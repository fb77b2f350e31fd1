//! Many toolbox processes at once against the local cluster: fifty sessions
//! side by side in one namespace, and two cleanups racing over the same
//! leftovers.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use harness::{NodeSpec, TOOLBOX_SELECTOR, TestNs, stderr_of, stdout_of};
use kube::api::ListParams;
use serde_json::Value;

/// Runs every command at once, each on a thread of its own (the harness's
/// commands carry their own timeout), and returns their outputs in order.
async fn run_all(commands: Vec<assert_cmd::Command>) -> Vec<std::process::Output> {
    let handles: Vec<_> = commands
        .into_iter()
        .map(|mut command| tokio::task::spawn_blocking(move || command.output()))
        .collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(
            handle
                .await
                .expect("the thread running toolbox")
                .expect("running toolbox"),
        );
    }
    outputs
}

#[tokio::test]
async fn fifty_sessions_at_once_all_succeed_and_leave_nothing() {
    // A load test: fifty processes at once would stretch the time bounds
    // of the tests beside it, and their load would be part of its own.
    let _whole = harness::whole_cluster();
    const SESSIONS: usize = 50;
    let mut ns = TestNs::new("cc-sessions").await;
    let mut nodes = Vec::new();
    for suffix in ["a", "b", "c"] {
        nodes.push(ns.node(suffix, NodeSpec::default()).await);
    }
    let commands = (0..SESSIONS)
        .map(|i| {
            let mut command = ns.toolbox();
            command.args(["node-shell", &nodes[i % nodes.len()], "--", "true"]);
            command
        })
        .collect();

    let started = Instant::now();
    let outputs = run_all(commands).await;
    let took = started.elapsed();
    let failures: Vec<String> = outputs
        .iter()
        .enumerate()
        .filter(|(_, out)| out.status.code() != Some(0))
        .map(|(i, out)| format!("session {i}: {:?}: {}", out.status, stderr_of(out)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {SESSIONS} sessions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for out in &outputs {
        assert_eq!(stdout_of(out), "", "`true` prints nothing");
    }
    eprintln!("{SESSIONS} concurrent sessions took {took:?}");
    ns.finish().await;
}

/// Two `cleanup -y` runs over the same leftovers: a pod the other run
/// deleted first is done, not an error.
#[tokio::test]
async fn two_cleanups_racing_over_the_same_leftovers_both_succeed() {
    // A load test with a time bound: 200 pods deleted twice at once, with
    // nothing else loading the server.
    let _whole = harness::whole_cluster();
    const COUNT: usize = 200;
    let mut ns = TestNs::new("cc-cleanup").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    let names: BTreeSet<String> = ns
        .create_leftovers(&node, COUNT)
        .await
        .into_iter()
        .collect();

    let commands = (0..2)
        .map(|_| {
            let mut command = ns.toolbox();
            command.args([
                "-n", &ns.name, "cleanup", "--node", &node, "-y", "-o", "json",
            ]);
            command
        })
        .collect();
    let started = Instant::now();
    let outputs = run_all(commands).await;
    let took = started.elapsed();

    // Which runs deleted each pod, and what each run said of it.
    let mut deleted_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut already_gone = 0;
    for (run, out) in outputs.iter().enumerate() {
        assert_eq!(
            out.status.code(),
            Some(0),
            "cleanup run {run}: {}",
            stderr_of(out)
        );
        assert_eq!(stderr_of(out), "", "cleanup run {run} reports no error");
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("run {run}: {e}: {}", stdout_of(out)));
        assert_eq!(report["failed"].as_u64(), Some(0), "run {run}: {report}");
        assert_eq!(report["found"], report["deleted"], "run {run}: {report}");
        for pod in report["pods"].as_array().unwrap() {
            let name = pod["name"].as_str().unwrap().to_string();
            assert!(names.contains(&name), "run {run} found a stranger: {name}");
            match pod["result"].as_str() {
                Some("deleted") => *deleted_by.entry(name).or_default() += 1,
                Some("already-gone") => already_gone += 1,
                other => panic!("run {run}: {name}: {other:?}"),
            }
        }
    }
    let never_deleted: Vec<&String> = names
        .iter()
        .filter(|n| !deleted_by.contains_key(*n))
        .collect();
    assert!(
        never_deleted.is_empty(),
        "neither run reports these pods deleted: {never_deleted:?}"
    );
    let left = pods
        .list(&ListParams::default().labels(TOOLBOX_SELECTOR))
        .await
        .unwrap()
        .items;
    assert!(left.is_empty(), "{} pods left", left.len());
    assert!(
        took < Duration::from_secs(60),
        "two cleanups of {COUNT} pods took {took:?}"
    );
    eprintln!(
        "two concurrent cleanups of {COUNT} pods took {took:?}; {} pods deleted by both, {already_gone} already gone for one",
        deleted_by.values().filter(|n| **n > 1).count()
    );
    ns.finish().await;
}
