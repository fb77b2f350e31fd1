//! `toolbox logs`' fallback pod: a short-lived pod on one node that reads
//! the node's service journals and log files when the kubelet's node log
//! query cannot, with the image's busybox and the node's own journalctl.
//!
//! It reaches the node the way node-shell's pod does, and no further: a
//! privileged container in the host's PID namespace (so that `nsenter
//! --target 1 --mount` runs the node's journalctl, and `/proc/1/root` is
//! the node's root), but neither the host's network nor its IPC, and no
//! volume. Its exec ([`node_logs_exec_command`]) is one fixed script whose
//! arguments are the logs asked for, so that the audit trail (the pod's
//! `toolbox.dev/command` annotation, its recording) says exactly what was
//! read.
//!
//! The script, per log:
//! - a UNIT the node's journal has (`journalctl --field _SYSTEMD_UNIT`
//!   lists `UNIT.service`, the kubelet's own test) is read with the node's
//!   journalctl and the options, as the kubelet would run it;
//! - else the kubelet's file heuristics: `/var/log/UNIT`,
//!   `/var/log/UNIT.log`, `/var/log/UNIT/UNIT.log`, the first that is a
//!   file, read through `/proc/1/root` with the image's `cat` (or `tail -F`
//!   to follow), so that a node without a shell or coreutils is read too;
//! - a FILE (an absolute path) is read the same way.
//!
//! Before each log it prints a mark line, `@toolbox-logs:TOKEN journal
//! UNIT` or `@toolbox-logs:TOKEN file SIZE PATH`, so that toolbox knows
//! which lines are a journal's (filtered by journalctl) and which a file's
//! (filtered by toolbox). A log it cannot read is one line on stderr, and
//! the script exits 1 after the others.

use k8s_openapi::api::core::v1::Pod;

use crate::PodCommon;
use crate::common::host_pid_holder_pod;
use crate::recording::{NodeFile, equip};

/// Pod-name prefix of the fallback pods of `toolbox logs`.
pub const LOGS_POD_PREFIX: &str = "toolbox-logs";
/// `toolbox.dev/subcommand` of those pods.
pub const LOGS_SUBCOMMAND: &str = "logs";
/// The pod's one container.
pub const LOGS_CONTAINER: &str = "logs";

/// The fallback pod of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLogsRequest {
    /// The pod's common parts: `image` must have busybox's `sh`, `sleep`,
    /// `cat`, `tail`, `wc`, `grep` and util-linux's `nsenter`, as
    /// toolbox's node-tools has.
    pub common: PodCommon,
}

/// Builds the fallback pod: a holder that sleeps for the pod's lifetime in
/// the host's PID namespace, privileged; recorded when `common.recording`
/// says so, through the node's init as node-shell's pod is.
pub fn node_logs_pod(req: &NodeLogsRequest) -> Pod {
    let common = &req.common;
    let mut pod = host_pid_holder_pod(common, LOGS_CONTAINER, LOGS_POD_PREFIX, LOGS_SUBCOMMAND);
    if let Some(recording) = &common.recording {
        equip(&mut pod, recording, NodeFile::ThroughHostPid);
    }
    pod
}

/// What the script reads, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsScriptArgs {
    /// Marks the script's mark lines as this run's: random, so that no log
    /// line can pass for one.
    pub token: String,
    /// Units (no `/`) and absolute file paths, in order.
    pub sources: Vec<String>,
    /// journalctl's options for a unit in the journal, after `--utc
    /// --no-pager --output=short-precise` (`--since=...`, `--lines=N`,
    /// `--grep=...`, `--boot=N`, `--follow`).
    pub journal_options: Vec<String>,
    /// `--boot` was given: a log kept as a file has no boots, and is refused.
    pub boot: bool,
    /// Follow a file as it grows (`tail -F`).
    pub follow: bool,
}

/// The script the fallback pod's exec runs (see the module).
pub const LOGS_SCRIPT: &str = r#"token=$1; follow=$2; boot=$3; shift 3
n=0
for a in "$@"; do [ "$a" = -- ] && break; n=$((n+1)); done
i=1
while [ "$i" -le "$n" ]; do eval "o$i=\${$i}"; i=$((i+1)); done
shift $((n+1))
status=0
say() { echo "toolbox logs: $*" >&2; }
mark() { printf '@toolbox-logs:%s %s\n' "$token" "$*"; }
from_journal() {
  cmd='nsenter --target 1 --mount -- journalctl --utc --no-pager --output=short-precise'
  i=1
  while [ "$i" -le "$n" ]; do cmd="$cmd \"\$o$i\""; i=$((i+1)); done
  eval "$cmd --unit=\"\$1\""
}
from_file() {
  f="/proc/1/root$1"
  if [ -d "$f" ]; then say "$1 is a directory"; status=1; return; fi
  if [ ! -f "$f" ]; then say "no file $1 on this node"; status=1; return; fi
  if [ -n "$boot" ]; then say "$2 logs to the file $1, which has no boots: --boot applies to the journal"; status=1; return; fi
  mark file "$(wc -c <"$f" | tr -d ' ')" "$1"
  if [ "$follow" = 1 ]; then tail -c +1 -F "$f"; else cat "$f" || status=1; fi
}
for src in "$@"; do
  case "$src" in
    /*) from_file "$src" "$src" ;;
    *)
      if nsenter --target 1 --mount -- journalctl --field _SYSTEMD_UNIT 2>/dev/null | grep -qF "$src.service"; then
        mark journal "$src"
        from_journal "$src" || status=1
      else
        found=
        for name in "$src" "$src.log" "$src/$src.log"; do
          if [ -f "/proc/1/root/var/log/$name" ]; then found="/var/log/$name"; break; fi
        done
        if [ -n "$found" ]; then
          from_file "$found" "$src"
        else
          say "no log of $src: not in the journal, nor in /var/log/$src, /var/log/$src.log or /var/log/$src/$src.log"
          status=1
        fi
      fi ;;
  esac
done
exit $status
"#;

/// The exec that reads the logs: [`LOGS_SCRIPT`] with its arguments, each
/// its own word (nothing is quoted into the script's text).
pub fn node_logs_exec_command(args: &LogsScriptArgs) -> Vec<String> {
    let mut argv: Vec<String> = ["sh", "-c", LOGS_SCRIPT, "toolbox-logs"]
        .map(str::to_owned)
        .to_vec();
    argv.push(args.token.clone());
    argv.push(if args.follow { "1" } else { "0" }.to_owned());
    argv.push(if args.boot { "1" } else { "" }.to_owned());
    argv.extend(args.journal_options.iter().cloned());
    argv.push("--".to_owned());
    argv.extend(args.sources.iter().cloned());
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::sample_common;

    #[test]
    fn the_pod_shares_only_the_host_s_pids_and_mounts_nothing() {
        let pod = node_logs_pod(&NodeLogsRequest {
            common: sample_common(),
        });
        let spec = pod.spec.unwrap();
        assert_eq!(spec.host_pid, Some(true));
        assert_eq!(spec.host_network, None);
        assert_eq!(spec.host_ipc, None);
        assert_eq!(spec.volumes, None);
        assert_eq!(spec.containers[0].command.as_deref().unwrap()[0], "sleep");
        assert_eq!(
            pod.metadata.name.as_deref(),
            Some("toolbox-logs-ip-10-0-1-23-ec2-internal-x7k2p")
        );
    }

    #[test]
    fn the_exec_passes_every_value_as_its_own_word() {
        let argv = node_logs_exec_command(&LogsScriptArgs {
            token: "t0k".into(),
            sources: vec!["kubelet".into(), "/var/log/my app.log".into()],
            journal_options: vec!["--grep=a b'c".into()],
            boot: false,
            follow: false,
        });
        assert_eq!(argv[..2], ["sh", "-c"]);
        assert_eq!(
            argv[3..],
            [
                "toolbox-logs",
                "t0k",
                "0",
                "",
                "--grep=a b'c",
                "--",
                "kubelet",
                "/var/log/my app.log"
            ]
        );
    }

    /// The script run by this machine's sh on a tree laid out as a node's
    /// `/proc/1/root` would be: the marks, a file's bytes, and the one-line
    /// refusals. (The journal half needs a node's PID 1; the e2e tests run
    /// it on the real node.)
    #[test]
    fn the_script_marks_each_log_and_refuses_what_it_cannot_read() {
        let script = LOGS_SCRIPT.replace("/proc/1/root", "$ROOT");
        let root = std::env::temp_dir().join(format!("toolbox-logs-script-{}", std::process::id()));
        std::fs::create_dir_all(root.join("var/log/pods")).unwrap();
        std::fs::write(root.join("var/log/kubelet.log"), "one\ntwo\n").unwrap();
        let mut argv = node_logs_exec_command(&LogsScriptArgs {
            token: "t".into(),
            sources: vec![
                "kubelet".into(),
                "nosuch".into(),
                "/var/log/pods".into(),
                "/var/log/kubelet.log".into(),
            ],
            journal_options: vec!["--lines=5".into()],
            boot: false,
            follow: false,
        });
        argv[2] = script;
        // An nsenter that fails: the journal test fails, as on a node
        // without a journal.
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("nsenter"), "#!/bin/sh\nexit 1\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("nsenter"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .env("ROOT", &root)
            .env("PATH", path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stdout,
            "@toolbox-logs:t file 8 /var/log/kubelet.log\none\ntwo\n@toolbox-logs:t file 8 /var/log/kubelet.log\none\ntwo\n"
        );
        assert_eq!(
            stderr,
            "toolbox logs: no log of nosuch: not in the journal, nor in /var/log/nosuch, /var/log/nosuch.log or /var/log/nosuch/nosuch.log\ntoolbox logs: /var/log/pods is a directory\n"
        );
        assert_eq!(out.status.code(), Some(1));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
