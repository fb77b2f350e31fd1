//! toolbox as a process: the binary under test, the environment every run
//! gets, signals, waiting with a deadline, and its output as text.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::OnceLock;
use std::time::Duration;

use crate::repo_root;

/// The toolbox binary under test, built once per test run if needed.
pub fn toolbox_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(path) = std::env::var("TOOLBOX_BIN") {
            return PathBuf::from(path);
        }
        let root = repo_root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = StdCommand::new(cargo)
            .args(["build", "--quiet", "-p", "toolbox"])
            .current_dir(&root)
            .status()
            .expect("running cargo build");
        assert!(status.success(), "cargo build -p toolbox failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or(root.join("target"));
        target.join("debug/toolbox")
    })
    .as_path()
}

/// toolbox with only the environment a test gives it: no kubeconfig but
/// `kubeconfig`, a cache directory of the test's own, and no colour.
pub fn toolbox_command(kubeconfig: &Path, cache: &Path) -> StdCommand {
    let mut cmd = StdCommand::new(toolbox_bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kubeconfig)
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1");
    cmd
}

/// Sends a signal to a process by name ("INT", "TERM", "HUP", "KILL").
pub fn send_signal(pid: u32, signal: &str) {
    let status = StdCommand::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Waits for a child process with a deadline, killing it if it overstays.
pub fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for child") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process's stdout as text.
pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A process's stderr as text.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
