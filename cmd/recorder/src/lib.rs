//! `toolbox-recorder`: records a toolbox session inside its pod, between the
//! exec and the command, so that neither a modified client nor a killed one
//! can skip, trim or forge the recording (docs/recorder.md).
//!
//! `main.rs` parses the command line with [`cli`] and calls one of the eight
//! subcommands with the sinks fixed in the binary ([`PROC_ROOT`],
//! [`SESSIONS_DIR`]); tests call the same functions with temporary ones.
//!
//! 1. [`record::record`] opens the two sinks ([`sinks`]: the holder's stdout,
//!    which is the container log, and the node's file), prunes old
//!    recordings ([`retention`]) and writes the header.
//! 2. It runs the command on a PTY of its own ([`tty`]) when fd 0 is a
//!    terminal, else on pipes ([`pipe`]). Both relays hand every chunk they
//!    copy to a [`record::Recorder`], which encodes it ([`cast`]) and writes
//!    it to both sinks at once.
//! 3. The exit marker closes the recording, and the command's status becomes
//!    the recorder's ([`child`]).
//!
//! [`run`] is the same recorder as a stream-less fleet run's container
//! process: the output also goes to the termination message.
//!
//! [`transfer`] is toolbox cp's node end (`send`, `receive`), recorded the
//! same way, with the stream in pkg/transfer.
//!
//! [`enter`] is node-shell `--pod`'s way into a container's namespaces,
//! found from the node by the container's cgroup.
//!
//! [`index`] reads the node's files back (`index`, `cat`); [`install`] copies
//! the binary into a pod's emptyDir for images that lack it. [`sys`] holds the
//! few raw system calls (poll, PTYs, termios, signals) the relays need.

pub mod cast;
pub mod child;
pub mod cli;
pub mod enter;
pub mod index;
pub mod install;
pub mod pipe;
pub mod record;
pub mod retention;
pub mod run;
pub mod sinks;
pub mod sys;
pub mod transfer;
pub mod tty;

/// Where the recorder reads other processes from. Fixed: in a toolbox pod,
/// which shares the host's PID namespace, this is the node's /proc.
pub const PROC_ROOT: &str = "/proc";

/// The node's sessions directory as the pod mounts it (the hostPath
/// `/var/log/toolbox/sessions`). Fixed: no flag or variable moves it.
pub const SESSIONS_DIR: &str = "/toolbox/sessions";

/// The node's sessions directory below the node's root, which a pod that
/// shares the host's PID namespace reaches as `/proc/1/root` (node-shell's
/// pods, which mount no volume: a volume costs the kubelet's volume manager
/// some 300 ms of every pod start).
pub const HOST_SESSIONS_DIR: &str = "var/log/toolbox/sessions";

/// How much one read takes from a stream: large enough that a `cat` of a big
/// file costs few events and system calls (a quarter of the 1 MiB the
/// command's pipes hold), small enough for a pod's memory.
pub const CHUNK: usize = 256 * 1024;

/// The processes in `proc_root`: every entry named by a number.
pub(crate) fn process_ids(proc_root: &std::path::Path) -> std::io::Result<Vec<u32>> {
    Ok(std::fs::read_dir(proc_root)?
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .collect())
}
