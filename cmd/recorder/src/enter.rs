//! `enter`: node-shell `--pod`'s way into one container's namespaces from
//! its node (docs/node-shell.md, "A pod, from its node").
//!
//! The container's processes are found by what the node's kernel says, not
//! by asking the runtime: every process's `/proc/PID/cgroup` names the
//! cgroup it is in, and every runtime the kubelet drives (containerd,
//! CRI-O, cgroupfs or systemd driver, cgroup v1 or v2) puts the
//! container's ID in that path. The container's first process is the one
//! whose parent is not in the container.
//!
//! Then each namespace is the container's when asked for, and the node's
//! (PID 1's) otherwise, entered as `nsenter` does. What `/proc` shows
//! follows the PID namespace the command is in, so `ps` tells the truth:
//! - with `pid`, the command is a child in the container's PID namespace
//!   (a PID namespace is entered by children only), with a fresh `/proc`
//!   of that namespace;
//! - with `mnt` and not `pid`, the container's filesystem with a `/proc` of
//!   the node's PID namespace, so the node's root is `/proc/1/root`.
//!
//! Both mount a `/proc` in a private copy of the mount namespace the
//! command is in: the container's own mounts and the node's are never
//! changed. `TOOLBOX_NODE_ROOT` tells the command where the node's root
//! is: `/`, `/proc/1/root`, or with `mnt` and `pid` both, an open
//! directory that the command inherits (`/proc/self/fd/N`).

use std::ffi::{CString, OsString};
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

/// The exit status when no process of the container runs on this node:
/// it is not running, or it restarted under a new ID. toolbox then looks
/// at the pod again.
pub const NOT_FOUND: i32 = 125;

/// One kind of namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Net,
    Pid,
    Mnt,
    Ipc,
    Uts,
}

impl Kind {
    /// In the order they are entered: the mount namespace last, since it
    /// changes what every path after it means.
    pub const ALL: [Kind; 5] = [Kind::Net, Kind::Ipc, Kind::Uts, Kind::Pid, Kind::Mnt];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Net => "net",
            Kind::Pid => "pid",
            Kind::Mnt => "mnt",
            Kind::Ipc => "ipc",
            Kind::Uts => "uts",
        }
    }

    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == word)
    }

    fn flag(self) -> libc::c_int {
        match self {
            Kind::Net => libc::CLONE_NEWNET,
            Kind::Pid => libc::CLONE_NEWPID,
            Kind::Mnt => libc::CLONE_NEWNS,
            Kind::Ipc => libc::CLONE_NEWIPC,
            Kind::Uts => libc::CLONE_NEWUTS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterArgs {
    /// The container's ID as the pod's status gives it, without the
    /// runtime's `containerd://` prefix.
    pub container_id: String,
    /// The container's namespaces to enter; the others are the node's.
    pub kinds: Vec<Kind>,
    /// What the one line on stderr calls the target (node, pod, container).
    pub label: String,
    /// The command and its arguments; never empty.
    pub argv: Vec<OsString>,
}

/// The container's first process, by the cgroups in `proc_root`.
pub fn find_pid(proc_root: &Path, container_id: &str) -> io::Result<Option<u32>> {
    // A process that ended meanwhile has no file left: not a member.
    let members: Vec<u32> = crate::process_ids(proc_root)?
        .into_iter()
        .filter(|pid| in_container(proc_root, *pid, container_id))
        .collect();
    let first = members
        .iter()
        .copied()
        .filter(|pid| parent(proc_root, *pid).is_none_or(|ppid| !members.contains(&ppid)))
        .min();
    Ok(first)
}

fn in_container(proc_root: &Path, pid: u32, container_id: &str) -> bool {
    fs::read_to_string(proc_root.join(pid.to_string()).join("cgroup"))
        .is_ok_and(|cgroups| cgroups.lines().any(|line| line.contains(container_id)))
}

fn parent(proc_root: &Path, pid: u32) -> Option<u32> {
    let status = fs::read_to_string(proc_root.join(pid.to_string()).join("status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("PPid:"))
        .and_then(|ppid| ppid.trim().parse().ok())
}

/// The namespaces as the line on stderr names them, in one order.
pub fn describe(kinds: &[Kind]) -> String {
    let mut names: Vec<&str> = kinds.iter().map(|kind| kind.name()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// `enter`: finds the container's process, enters its namespaces and runs
/// the command; returns its status (or [`NOT_FOUND`], 126, 127).
pub fn enter(args: &EnterArgs, proc_root: &Path) -> i32 {
    let pid = match find_pid(proc_root, &args.container_id) {
        Ok(Some(pid)) => pid,
        Ok(None) => {
            eprintln!(
                "toolbox-recorder: no process of container {} runs on this node: it is not running, or it restarted",
                short(&args.container_id)
            );
            return NOT_FOUND;
        }
        Err(e) => {
            eprintln!("toolbox-recorder: cannot read {}: {e}", proc_root.display());
            return 126;
        }
    };
    match enter_namespaces(args, proc_root, pid) {
        Ok(entered) => {
            eprintln!(
                "toolbox: in {}, PID {pid}: the container's {} namespace{}, the node's others",
                args.label,
                describe(&args.kinds),
                if args.kinds.len() == 1 { "" } else { "s" }
            );
            run(args, entered)
        }
        Err(e) => {
            eprintln!(
                "toolbox-recorder: cannot enter the namespaces of PID {pid} ({}): {e}",
                args.label
            );
            126
        }
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// What entering left for running the command.
struct Entered {
    /// The command becomes a child in the container's PID namespace, which
    /// mounts its `/proc` before it runs.
    fork: bool,
    node_root: String,
    /// The node's root, kept open for the command (`mnt` and `pid`).
    _node_root_fd: Option<OwnedFd>,
}

fn enter_namespaces(args: &EnterArgs, proc_root: &Path, pid: u32) -> io::Result<Entered> {
    let entered = |kind| args.kinds.contains(&kind);
    // Every file is opened before the first setns: the mount namespace
    // changes what the paths mean.
    let mut files = Vec::new();
    for kind in Kind::ALL {
        let owner = if entered(kind) { pid } else { 1 };
        let path = proc_root
            .join(owner.to_string())
            .join("ns")
            .join(kind.name());
        files.push((kind, File::open(&path)?));
    }
    let (mnt, pid_ns) = (entered(Kind::Mnt), entered(Kind::Pid));
    let node_root_fd = if mnt && pid_ns {
        Some(open_directory(&proc_root.join("1/root"))?)
    } else {
        None
    };
    for (kind, file) in &files {
        // SAFETY: setns on a namespace file this process opened; `enter`
        // runs single-threaded, as a mount namespace change requires.
        if unsafe { libc::setns(file.as_raw_fd(), kind.flag()) } != 0 {
            let err = io::Error::last_os_error();
            return Err(io::Error::new(
                err.kind(),
                format!("{}: {err}", kind.name()),
            ));
        }
    }
    std::env::set_current_dir("/")?;
    // A /proc is mounted below (here for mnt, in the child for pid): in a
    // copy of the mount namespace, never in the container's or the node's.
    if mnt || pid_ns {
        private_mounts()?;
    }
    let node_root = match &node_root_fd {
        Some(fd) => format!("/proc/self/fd/{}", fd.as_raw_fd()),
        None if mnt => "/proc/1/root".to_string(),
        None => "/".to_string(),
    };
    if mnt && !pid_ns {
        mount_proc_here()?;
    }
    Ok(Entered {
        fork: pid_ns,
        node_root,
        _node_root_fd: node_root_fd,
    })
}

/// A directory fd that the command inherits (no close-on-exec).
fn open_directory(path: &Path) -> io::Result<OwnedFd> {
    let path = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: open of a NUL-terminated path; the fd is owned at once.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_PATH | libc::O_DIRECTORY) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just opened and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A private copy of the mount namespace this process is in: what it
/// mounts from now on is seen by it and its children only.
fn private_mounts() -> io::Result<()> {
    // SAFETY: unshare and mount with constant, NUL-terminated arguments.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A fresh `/proc` of the PID namespace this process is in.
fn mount_proc_here() -> io::Result<()> {
    // SAFETY: mount with constant, NUL-terminated arguments.
    let mounted = unsafe {
        libc::mount(
            c"proc".as_ptr(),
            c"/proc".as_ptr(),
            c"proc".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        )
    };
    if mounted != 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(err.kind(), format!("mounting /proc: {err}")));
    }
    Ok(())
}

/// The child, once it runs: signals it should get from the parent.
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn pass_on(signal: libc::c_int) {
    let child = CHILD.load(Ordering::Relaxed);
    if child > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, signal) };
    }
}

fn run(args: &EnterArgs, entered: Entered) -> i32 {
    let mut command = std::process::Command::new(&args.argv[0]);
    command
        .args(&args.argv[1..])
        .env("TOOLBOX_NODE_ROOT", &entered.node_root);
    if !entered.fork {
        let err = command.exec();
        return cannot_run(&args.argv[0], &err);
    }
    // SAFETY: the closure runs in the child between fork and exec; the
    // recorder is single-threaded, so no lock is held across the fork.
    unsafe {
        command.pre_exec(mount_proc_here);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return cannot_run(&args.argv[0], &err),
    };
    CHILD.store(child.id() as i32, Ordering::Relaxed);
    // The parent only waits: the terminal's signals reach the child in its
    // own right (it shares the process group), and the pod's are passed on.
    // SAFETY: installing handlers that call kill only.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        for signal in [libc::SIGTERM, libc::SIGHUP] {
            libc::signal(signal, pass_on as *const () as libc::sighandler_t);
        }
    }
    match child.wait() {
        Ok(status) => status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
        Err(e) => {
            eprintln!("toolbox-recorder: waiting for the command: {e}");
            126
        }
    }
}

fn cannot_run(program: &OsString, err: &io::Error) -> i32 {
    eprintln!(
        "toolbox-recorder: cannot run {}: {err}",
        program.to_string_lossy()
    );
    if err.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f1c0a8e2b7d4e6f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f";

    fn process(root: &Path, pid: u32, ppid: u32, cgroup: &str) {
        let dir = root.join(pid.to_string());
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("cgroup"), cgroup).unwrap();
        fs::write(
            dir.join("status"),
            format!("Name:\tx\nPid:\t{pid}\nPPid:\t{ppid}\n"),
        )
        .unwrap();
    }

    #[test]
    fn the_first_process_is_the_one_whose_parent_is_outside_the_container() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        // cgroup v1 with the cgroupfs driver, as on the real node.
        let ours = format!("4:memory:/node/kubepods/besteffort/pod1234/{ID}\n1:cpu:/x\n");
        process(root, 1, 0, "0::/init.scope\n");
        process(root, 40, 1, "0::/shim\n");
        process(root, 300, 40, &ours);
        process(root, 52, 300, &ours);
        process(root, 77, 1, "0::/kubepods/other\n");
        fs::create_dir_all(root.join("self")).unwrap();
        assert_eq!(find_pid(root, ID).unwrap(), Some(300));
    }

    #[test]
    fn a_systemd_scope_name_is_found_too_and_an_absent_container_is_none() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        process(
            root,
            9,
            1,
            &format!("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-{ID}.scope\n"),
        );
        assert_eq!(find_pid(root, ID).unwrap(), Some(9));
        assert_eq!(find_pid(root, &ID.replace('4', "5")).unwrap(), None);
    }

    #[test]
    fn namespaces_are_named_in_one_order() {
        assert_eq!(describe(&[Kind::Pid, Kind::Net]), "net,pid");
        assert_eq!(describe(&Kind::ALL), "ipc,mnt,net,pid,uts");
        assert_eq!(Kind::parse("mnt"), Some(Kind::Mnt));
        assert_eq!(Kind::parse("user"), None);
    }
}
