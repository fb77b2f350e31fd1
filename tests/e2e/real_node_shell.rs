//! `toolbox node-shell` and `toolbox debug-node` on the cluster's real node
//! (kubelet, containerd, runc), where namespaces, capabilities and the
//! kubelet's own checks are real rather than simulated.
//!
//! The node is a set of PID, mount, UTS and IPC namespaces whose PID 1 is
//! `localcluster node-init`; it shares the machine's network namespace. Its
//! images are local builds, so every run points toolbox at the cluster's
//! settings file. The tests fail, never skip, when the node is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use harness::{
    PtySession, RealNode, TestNs, assert_session_steps, exit_pty_session, random_suffix, real_node,
    spawn_on_pty, stderr_of, stdout_of,
};

/// The namespaces a node shell may share with the node, as /proc/PID/ns names them.
const NAMESPACES: [&str; 5] = ["mnt", "pid", "uts", "ipc", "net"];

/// Prints, one per line, `self NS LINK` and `init NS LINK` for the five
/// namespaces, the hostname and PID 1's command line. Written for busybox sh
/// as well as the node's own shell, since `--no-mount` and `-x` run in the image.
const DESCRIBE_NAMESPACES: &str = r#"for n in mnt pid uts ipc net; do
  echo "self $n $(readlink /proc/self/ns/$n)"
  echo "init $n $(readlink /proc/1/ns/$n)"
done
echo "hostname $(hostname)"
echo "init-cmdline $(tr '\0' ' ' </proc/1/cmdline)""#;

/// What a node shell saw of its namespaces, parsed from [`DESCRIBE_NAMESPACES`].
#[derive(Debug)]
struct NamespaceView {
    /// The shell's own namespace links, by name.
    own: BTreeMap<String, String>,
    /// The links of PID 1 as the shell sees it (the node's init when it shares
    /// the node's PID namespace).
    init: BTreeMap<String, String>,
    hostname: String,
    init_cmdline: String,
}

impl NamespaceView {
    fn parse(stdout: &str) -> Self {
        let mut view = NamespaceView {
            own: BTreeMap::new(),
            init: BTreeMap::new(),
            hostname: String::new(),
            init_cmdline: String::new(),
        };
        for line in stdout.lines() {
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "self" | "init" => {
                    let (name, link) = rest.split_once(' ').expect("`NS LINK`");
                    let map = if key == "self" {
                        &mut view.own
                    } else {
                        &mut view.init
                    };
                    map.insert(name.to_string(), link.to_string());
                }
                "hostname" => view.hostname = rest.to_string(),
                "init-cmdline" => view.init_cmdline = rest.trim().to_string(),
                _ => panic!("unexpected line {line:?} in {stdout}"),
            }
        }
        for name in NAMESPACES {
            let own = view.own.get(name).map(String::as_str).unwrap_or("");
            assert!(
                own.starts_with(&format!("{name}:[")),
                "no link for {name}: {stdout}"
            );
        }
        view
    }

    /// The namespaces whose link differs from `node`'s.
    fn differing_from(&self, node: &BTreeMap<String, String>) -> BTreeSet<&'static str> {
        NAMESPACES
            .into_iter()
            .filter(|name| self.own.get(*name) != node.get(*name))
            .collect()
    }
}

/// Runs [`DESCRIBE_NAMESPACES`] through node-shell with `flags`.
fn describe_namespaces(ns: &TestNs, node: &RealNode, flags: &[&str]) -> NamespaceView {
    let mut args = vec!["node-shell", node.name.as_str()];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "sh", "-c", DESCRIBE_NAMESPACES]);
    let out = ns.toolbox_on_real_node().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{flags:?}: {}", stderr_of(&out));
    NamespaceView::parse(&stdout_of(&out))
}

// ---------------------------------------------------------------------------
// node-shell
// ---------------------------------------------------------------------------

#[tokio::test]
async fn node_shell_shares_all_five_namespaces_with_the_nodes_init() {
    let node = real_node();
    let ns = TestNs::new("real-namespaces").await;
    let script = format!("{DESCRIBE_NAMESPACES}\nexit 7");
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--", "sh", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "the remote status passes through: {}",
        stderr_of(&out)
    );
    let view = NamespaceView::parse(&stdout_of(&out));
    assert_eq!(view.own, view.init, "every namespace is PID 1's");
    assert!(
        view.init_cmdline.contains("node-init"),
        "PID 1 is the node's init: {view:?}"
    );
    assert_eq!(view.hostname, node.name);
    ns.finish().await;
}

#[tokio::test]
async fn piped_stdin_reaches_a_command_on_the_real_node() {
    let node = real_node();
    let ns = TestNs::new("real-stdin").await;
    let input = format!("first {}\nsecond line\n", random_suffix());
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--", "cat"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), input);
    ns.finish().await;
}

#[tokio::test]
async fn verbose_shows_where_a_sessions_time_goes_on_the_real_node() {
    let node = real_node();
    let ns = TestNs::new("real-steps").await;
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "-v", "--", "echo", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "hi\n");
    assert_session_steps(&stderr_of(&out));
    ns.finish().await;
}

/// A command that cannot be started ends as in a shell, 127 or 126 with the
/// reason on stderr, whether the recorder runs it (debug-node, `-x`), nsenter
/// does, or, unrecorded, the runtime itself: never as a cluster failure (3).
#[tokio::test]
async fn a_command_that_cannot_start_ends_as_in_a_shell_on_the_real_node() {
    let node = real_node();
    let ns = TestNs::new("real-notfound").await;
    for (args, code, says) in [
        (
            vec!["debug-node", node.name.as_str(), "--", "nonexistentcmd"],
            127,
            "nonexistentcmd: command not found",
        ),
        (
            vec![
                "node-shell",
                node.name.as_str(),
                "-x",
                "--",
                "nonexistentcmd",
            ],
            127,
            "nonexistentcmd: command not found",
        ),
        (
            vec!["node-shell", node.name.as_str(), "--", "nonexistentcmd"],
            127,
            "nonexistentcmd",
        ),
        (
            vec!["debug-node", node.name.as_str(), "--", "/etc/hostname"],
            126,
            "permission denied",
        ),
        (
            vec![
                "debug-node",
                node.name.as_str(),
                "--no-record",
                "--",
                "nonexistentcmd",
            ],
            127,
            "executable file not found",
        ),
    ] {
        let out = ns.toolbox_on_real_node().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr_of(&out)
        );
        assert!(
            stderr_of(&out).contains(says),
            "{args:?}: {}",
            stderr_of(&out)
        );
        assert!(
            !stderr_of(&out).contains("error:"),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
    ns.finish().await;
}

/// The exec starts as soon as the container takes it, not when the kubelet
/// has reported Running: on this node the report follows the container's
/// start by 15-20 ms, so nearly every session's exec is taken first. A few
/// sessions allow for one whose report happened to come first.
///
/// Only where the kubelet takes the exec itself (it declares
/// ExtendWebSocketsToKubelet, 1.36+): before that the API server translates
/// the stream and reports an early refusal inside it, so toolbox waits for
/// Running there, every time.
#[tokio::test]
async fn the_exec_does_not_wait_for_the_running_report_on_the_real_node() {
    let node = real_node();
    let ns = TestNs::new("real-early").await;
    let direct = ns.env.minor() >= 36;
    let mut logs = Vec::new();
    let mut taken_early = 0;
    for _ in 0..5 {
        let out = ns
            .toolbox_on_real_node()
            .args(["node-shell", &node.name, "-vv", "--", "echo", "hi"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        assert_eq!(stdout_of(&out), "hi\n");
        let stderr = stderr_of(&out);
        if stderr.contains("the exec was taken before the kubelet reported Running") {
            taken_early += 1;
        }
        logs.push(stderr);
        if direct && taken_early > 0 {
            break;
        }
    }
    if direct {
        assert!(
            taken_early > 0,
            "every exec waited for Running:\n{}",
            logs.join("\n---\n")
        );
    } else {
        assert_eq!(
            taken_early,
            0,
            "Kubernetes {} translates exec streams, so no exec may be tried early:\n{}",
            ns.env.version,
            logs.join("\n---\n")
        );
    }
    ns.finish().await;
}

/// node-shell with a login shell on a PTY, as a person at a terminal runs it.
fn spawn_interactive(ns: &TestNs, node: &RealNode) -> PtySession {
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["node-shell", &node.name]);
    spawn_on_pty(cmd, Duration::from_secs(30))
}

#[tokio::test]
async fn a_pty_session_on_the_real_node_follows_the_window_and_exits_with_its_status() {
    use expectrl::session::OsSession;
    use expectrl::{Expect, Regex};
    let node = real_node();
    let ns = TestNs::new("real-pty").await;
    let token = random_suffix();
    let mut session = spawn_interactive(&ns, node);
    let status = tokio::task::spawn_blocking(move || {
        let window_size = |session: &mut OsSession| -> (u16, u16) {
            // `$(...)` keeps the echoed command line from matching the pattern.
            session.send_line("echo size-$(stty size)-end").unwrap();
            let found = session
                .expect(Regex(r"size-(\d+) (\d+)-end"))
                .expect("stty size's output");
            let number = |i| {
                std::str::from_utf8(found.get(i).unwrap())
                    .unwrap()
                    .parse::<u16>()
                    .unwrap()
            };
            (number(1), number(2))
        };

        // The node's own bash prompt, with its hostname.
        session
            .expect(Regex(format!(r"root@{}:[^\r\n]*# ", node.name)))
            .expect("the node's prompt");
        // The typed line is echoed and the remote shell runs it.
        session
            .send_line(format!("echo typed-{token}-$((40+2))"))
            .unwrap();
        session
            .expect(format!("typed-{token}-$((40+2))"))
            .expect("the echo of the typed line");
        session
            .expect(format!("typed-{token}-42"))
            .expect("the command's output");

        let (cols, rows) = session.get_process().get_window_size().unwrap();
        assert_eq!(
            window_size(&mut session),
            (rows, cols),
            "the remote terminal starts at the local size"
        );

        session.get_process_mut().set_window_size(123, 41).unwrap();
        // The resize travels on its own channel, beside stdin: give it a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = window_size(&mut session);
        while seen != (41, 123) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            seen = window_size(&mut session);
        }
        assert_eq!(seen, (41, 123), "stty size after the window was resized");

        exit_pty_session(session, "exit 5")
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 5)),
        "{status:?}"
    );
    ns.finish().await;
}

/// `tty` must name the session's terminal. In the node's mount namespace it
/// does not (yet): the PTY comes from the container's own devpts instance,
/// which the node's /dev/pts is not, so ttyname() finds no path and `tty`
/// prints "not a tty" (status 1), as does anything that needs the terminal's
/// name (screen, tmux, who, mesg). With `-x` or `--no-mount` it works.
#[tokio::test]
async fn tty_names_the_sessions_terminal_in_the_nodes_mount_namespace() {
    use expectrl::{Expect, Regex};
    let node = real_node();
    let ns = TestNs::new("real-tty").await;
    let mut session = spawn_interactive(&ns, node);
    let (tty, status) = tokio::task::spawn_blocking(move || {
        session.send_line("echo tty-[$(tty)]-$?").unwrap();
        let found = session
            .expect(Regex(r"tty-\[([^\]\r\n]*)\]-(\d+)"))
            .expect("tty's output and status");
        let text = |i| String::from_utf8_lossy(found.get(i).unwrap()).into_owned();
        let tty = (text(1), text(2));
        (tty, exit_pty_session(session, "exit 0"))
    })
    .await
    .unwrap();
    ns.finish().await;
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    assert!(
        tty.0.starts_with("/dev/pts/") && tty.1 == "0",
        "tty printed {:?} with status {}",
        tty.0,
        tty.1
    );
}

#[tokio::test]
async fn host_mount_shows_the_nodes_files_under_host() {
    let node = real_node();
    let ns = TestNs::new("real-host-mount").await;
    let token = format!("toolbox-e2e-{}", random_suffix());
    let written = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--", "sh", "-c"])
        .arg(format!("echo {token} > /tmp/{token}"))
        .output()
        .unwrap();
    assert_eq!(written.status.code(), Some(0), "{}", stderr_of(&written));

    let read = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "-x", "--", "sh", "-c"])
        .arg(format!(
            "cat /host/tmp/{token}; \
             test -f /host/etc/os-release && echo node-has-os-release; \
             test -e /etc/os-release || echo image-has-none"
        ))
        .output()
        .unwrap();
    // Remove the file before asserting, so that a failure leaves nothing on the node.
    let removed = ns
        .toolbox_on_real_node()
        .args([
            "node-shell",
            &node.name,
            "--",
            "rm",
            &format!("/tmp/{token}"),
        ])
        .output()
        .unwrap();

    assert_eq!(read.status.code(), Some(0), "{}", stderr_of(&read));
    assert_eq!(
        stdout_of(&read),
        format!("{token}\nnode-has-os-release\nimage-has-none\n"),
        "-x runs in the image, with the node's / at /host"
    );
    assert_eq!(removed.status.code(), Some(0), "{}", stderr_of(&removed));
    ns.finish().await;
}

/// Which of the five namespace links differ from the node's, for each way of
/// running node-shell. Measured on the real node (containerd 1.6, runc).
///
/// - `--no-uts` alone changes nothing: the pod is hostNetwork, and the
///   runtime then gives the container the node's UTS namespace already, so
///   skipping `nsenter --uts` still leaves the shell in it (and `hostname` is
///   the node's). Only with `--no-net` as well does the shell have a UTS
///   namespace (and hostname, the pod's name) of its own.
/// - `--no-ipc` and `--no-net` drop hostIPC and hostNetwork, so the shell is
///   in the pod's own IPC or network namespace.
/// - `--no-pid` drops hostPID, so `nsenter --target 1` targets the pod's own
///   PID 1 (the holder, `sleep`): the shell gets the pod's PID namespace *and
///   the pod's mount namespace*, i.e. the image's files, not the node's. UTS,
///   IPC and network are still the node's, through hostNetwork and hostIPC.
/// - `-x` runs in the container without nsenter: only the mount namespace is
///   the image's (with the node's / at /host); the rest is shared through
///   hostPID, hostNetwork and hostIPC.
const FLAG_EFFECTS: &[FlagEffect] = &[
    FlagEffect::new(&["--no-mount"], &["mnt"], NODE),
    FlagEffect::new(&["--no-uts"], &[], NODE),
    FlagEffect::new(&["--no-uts", "--no-net"], &["uts", "net"], POD),
    FlagEffect::new(&["--no-ipc"], &["ipc"], NODE),
    FlagEffect::new(&["--no-net"], &["net"], NODE),
    FlagEffect::new(&["--no-pid"], &["mnt", "pid"], NODE),
    FlagEffect::new(&["-x"], &["mnt"], NODE),
];

/// Whose hostname the shell sees.
const NODE: bool = true;
const POD: bool = false;

/// One row of [`FLAG_EFFECTS`].
struct FlagEffect {
    flags: &'static [&'static str],
    /// The namespaces whose link is not the node's.
    differing: &'static [&'static str],
    hostname_is_the_nodes: bool,
}

impl FlagEffect {
    const fn new(
        flags: &'static [&'static str],
        differing: &'static [&'static str],
        hostname_is_the_nodes: bool,
    ) -> Self {
        FlagEffect {
            flags,
            differing,
            hostname_is_the_nodes,
        }
    }
}

#[tokio::test]
async fn each_no_flag_changes_exactly_the_namespaces_measured_on_the_node() {
    let node = real_node();
    let ns = TestNs::new("real-no-flags").await;
    let shared = describe_namespaces(&ns, node, &[]);
    assert_eq!(shared.own, shared.init);
    let node_links = shared.init;

    let views: Vec<NamespaceView> = std::thread::scope(|scope| {
        let runs: Vec<_> = FLAG_EFFECTS
            .iter()
            .map(|effect| scope.spawn(|| describe_namespaces(&ns, node, effect.flags)))
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    for (effect, view) in FLAG_EFFECTS.iter().zip(&views) {
        let flags = effect.flags;
        assert_eq!(
            view.differing_from(&node_links),
            effect.differing.iter().copied().collect(),
            "{flags:?}: {view:?}"
        );
        if effect.hostname_is_the_nodes {
            assert_eq!(view.hostname, node.name, "{flags:?}");
        } else {
            assert!(
                view.hostname.starts_with("toolbox-shell-"),
                "{flags:?}: the pod's name, {view:?}"
            );
        }
        let sees_the_nodes_init = view.init_cmdline.contains("node-init");
        assert_eq!(
            sees_the_nodes_init,
            !flags.contains(&"--no-pid"),
            "{flags:?}: PID 1 is the node's init only with hostPID: {view:?}"
        );
    }
    ns.finish().await;
}

// ---------------------------------------------------------------------------
// debug-node
// ---------------------------------------------------------------------------

/// What a debug-node profile gives a user on the real node, per kubectl's
/// profiles: whether the node's / is at /host, and whether entering the
/// node's mount namespace works.
struct ProfileCase {
    profile: &'static str,
    host_at_host: bool,
    /// `None` when `nsenter -t 1 -m` works, else what it prints when refused.
    nsenter_refusal: Option<&'static str>,
}

const PROFILES: &[ProfileCase] = &[
    // Not privileged and no CAP_SYS_PTRACE: the node's /proc/1/ns links
    // cannot be opened even though the pod is hostPID.
    ProfileCase {
        profile: "legacy",
        host_at_host: true,
        nsenter_refusal: Some("can't open '/proc/1/ns/mnt': Permission denied"),
    },
    ProfileCase {
        profile: "general",
        host_at_host: true,
        nsenter_refusal: Some("can't open '/proc/1/ns/mnt': Permission denied"),
    },
    // No host namespaces: PID 1 is the pod's own, and setns needs CAP_SYS_ADMIN.
    ProfileCase {
        profile: "baseline",
        host_at_host: false,
        nsenter_refusal: Some("Operation not permitted"),
    },
    ProfileCase {
        profile: "netadmin",
        host_at_host: false,
        nsenter_refusal: Some("can't open '/proc/1/ns/mnt': Permission denied"),
    },
    ProfileCase {
        profile: "sysadmin",
        host_at_host: true,
        nsenter_refusal: None,
    },
];

/// Capability bits in /proc/PID/status's CapEff.
const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

#[tokio::test]
async fn each_debug_profile_gives_what_kubectl_defines_on_the_real_node() {
    let node = real_node();
    let ns = TestNs::new("real-profiles").await;
    let script = "test -f /host/etc/os-release && echo host-mounted; \
                  grep CapEff /proc/self/status; \
                  nsenter -t 1 -m -- true && echo nsenter-ok; \
                  exit 0";
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = PROFILES
            .iter()
            .map(|case| {
                let ns = &ns;
                scope.spawn(move || {
                    ns.toolbox_on_real_node()
                        .args(["debug-node", &node.name, "--profile", case.profile, "-q"])
                        .args(["--", "sh", "-c", script])
                        .output()
                        .unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });

    for (case, out) in PROFILES.iter().zip(&outputs) {
        let (profile, stdout, stderr) = (case.profile, stdout_of(out), stderr_of(out));
        assert_eq!(out.status.code(), Some(0), "{profile}: {stderr}");
        assert_eq!(
            stdout.contains("host-mounted"),
            case.host_at_host,
            "{profile}: /host: {stdout}"
        );
        match case.nsenter_refusal {
            None => assert!(stdout.contains("nsenter-ok"), "{profile}: {stderr}"),
            Some(refusal) => {
                assert!(!stdout.contains("nsenter-ok"), "{profile}: {stdout}");
                assert!(stderr.contains(refusal), "{profile}: {stderr}");
            }
        }
        let effective = stdout
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .map(|hex| u64::from_str_radix(hex.trim(), 16).unwrap())
            .unwrap_or_else(|| panic!("{profile}: no CapEff in {stdout}"));
        let has = |bit: u32| effective & (1 << bit) != 0;
        assert_eq!(
            has(CAP_NET_ADMIN),
            matches!(profile, "netadmin" | "sysadmin"),
            "{profile}"
        );
        assert_eq!(has(CAP_SYS_ADMIN), profile == "sysadmin", "{profile}");
        if profile == "legacy" {
            assert!(stderr.contains("deprecated"), "{stderr}");
        }
    }
    ns.finish().await;
}

#[tokio::test]
async fn sysadmin_chroot_runs_the_nodes_own_binaries() {
    let node = real_node();
    let ns = TestNs::new("real-chroot").await;
    let chroot = |command: &[&str]| {
        ns.toolbox_on_real_node()
            .args(["debug-node", &node.name, "--profile", "sysadmin", "-q"])
            .args(["--chroot", "--"])
            .args(command)
            .output()
            .unwrap()
    };
    // coreutils' readlink exists on the node, not in the image (busybox's is /bin).
    let init_mnt = chroot(&["/usr/bin/readlink", "/proc/1/ns/mnt"]);
    let os_release = chroot(&["cat", "/etc/os-release"]);
    let in_image = ns
        .toolbox_on_real_node()
        .args(["debug-node", &node.name, "--profile", "sysadmin", "-q"])
        .args(["--", "sh", "-c", "test -e /etc/os-release || echo none"])
        .output()
        .unwrap();
    let node_shell = describe_namespaces(&ns, node, &[]);

    assert_eq!(init_mnt.status.code(), Some(0), "{}", stderr_of(&init_mnt));
    assert_eq!(stdout_of(&init_mnt).trim(), node_shell.init["mnt"]);
    assert_eq!(
        os_release.status.code(),
        Some(0),
        "{}",
        stderr_of(&os_release)
    );
    assert!(
        stdout_of(&os_release).contains("ID=debian"),
        "the node's os-release: {}",
        stdout_of(&os_release)
    );
    assert_eq!(
        stdout_of(&in_image),
        "none\n",
        "the image has no os-release"
    );
    ns.finish().await;
}

#[tokio::test]
async fn restricted_with_a_root_image_is_refused_by_the_kubelet_in_one_line() {
    let node = real_node();
    let ns = TestNs::new("real-restricted").await;
    let started = Instant::now();
    let out = ns
        .toolbox_on_real_node()
        .args(["debug-node", &node.name, "--profile", "restricted", "-q"])
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "the pod could not start: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("CreateContainerConfigError"), "{stderr}");
    assert!(
        stderr.contains("runAsNonRoot and image will run as root"),
        "the kubelet's reason: {stderr}"
    );
    assert!(stdout_of(&out).is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    ns.finish().await;
}

#[tokio::test]
async fn a_session_whose_reader_goes_ends_quietly_and_deletes_its_pod() {
    // `toolbox node-shell NODE -- CMD | head -1` with a command that never
    // ends by itself: once head has its line and exits, toolbox's next
    // write finds no reader (SIGPIPE), and the session ends, pod deleted.
    let ns = TestNs::new("real-pipe").await;
    let mut toolbox = ns.toolbox_process_on_real_node();
    toolbox.args([
        "node-shell",
        &real_node().name,
        "--",
        "sh",
        "-c",
        "i=0; while :; do i=$((i+1)); echo line $i; sleep 0.2; done",
    ]);
    let session = harness::spawn_session(toolbox, std::process::Stdio::null());
    let end = session.end_by_closing_stdout("line 1", || (), Duration::from_secs(60));
    assert_eq!(end.status.code(), Some(141), "{}", end.stderr);
    assert!(
        !end.stderr.contains("error"),
        "no error line: {}",
        end.stderr
    );
    assert_eq!(end.rest, "line 1\n");
    assert!(
        ns.toolbox_pods().await.is_empty(),
        "the pod is deleted when the reader goes"
    );
    ns.finish().await;
}
