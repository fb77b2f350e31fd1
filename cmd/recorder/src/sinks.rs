//! The two places a recording goes, both fixed:
//!
//! - the container log: the holder's stdout. A toolbox pod shares the host's
//!   PID namespace, so the holder (the container's first process) is not
//!   PID 1; [`find_holder`] picks, among the processes in this process's
//!   cgroup, the one that started first.
//! - the node's file `SESSIONS/ID.cast`, created once (O_EXCL) and appended
//!   to. A shared `flock` on it tells retention that it is being written.
//!
//! [`Sinks::write`] writes one encoded event to both, each with one
//! `write(2)` (the log's lines sized so that none is ever torn, see
//! [`crate::cast::LOG_LINE_MAX`]), so a SIGKILL between two events loses
//! neither.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::cast::Encoded;
use crate::sys;

/// Why the container log could not be opened; the recorder then refuses to
/// run the command.
#[derive(Debug)]
pub enum HolderError {
    /// No other process shares this cgroup.
    NotFound,
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for HolderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HolderError::NotFound => f.write_str(
                "no other process shares this container's cgroup, so its log cannot be found",
            ),
            HolderError::Io(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

/// The PID of the container's first process: the one with this process's
/// cgroup (the same text in `/proc/PID/cgroup`) that started earliest
/// (field 22 of `/proc/PID/stat`), this process excepted.
pub fn find_holder(proc_root: &Path) -> Result<u32, HolderError> {
    let own_cgroup_path = proc_root.join("self/cgroup");
    let own_cgroup = fs::read(&own_cgroup_path).map_err(|e| HolderError::Io(own_cgroup_path, e))?;
    let own_pid = fs::read_link(proc_root.join("self"))
        .ok()
        .and_then(|link| link.to_str()?.parse::<u32>().ok());
    let pids = crate::process_ids(proc_root).map_err(|e| HolderError::Io(proc_root.into(), e))?;
    let mut earliest: Option<(u64, u32)> = None;
    for pid in pids {
        if Some(pid) == own_pid {
            continue;
        }
        let dir = proc_root.join(pid.to_string());
        // Processes come and go while this runs: one that is gone is skipped.
        match fs::read(dir.join("cgroup")) {
            Ok(cgroup) if cgroup == own_cgroup => {}
            _ => continue,
        }
        let Some(start) = fs::read_to_string(dir.join("stat"))
            .ok()
            .and_then(|stat| start_time(&stat))
        else {
            continue;
        };
        if earliest.is_none_or(|e| (start, pid) < e) {
            earliest = Some((start, pid));
        }
    }
    earliest.map(|(_, pid)| pid).ok_or(HolderError::NotFound)
}

/// Field 22 of `/proc/PID/stat`, the start time in clock ticks after boot.
/// The second field (the command name) may hold spaces and parentheses, so
/// fields are counted after its last `)`.
fn start_time(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name come field 3 (state) onwards: field 22 is the 20th.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Opens the holder's stdout for writing: the container runtime's pipe to
/// the container log. Never created: a missing one is an error.
pub fn open_log(proc_root: &Path, holder: u32) -> Result<File, HolderError> {
    let path = proc_root.join(holder.to_string()).join("fd/1");
    let log = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| HolderError::Io(path, e))?;
    sys::grow_pipe(log.as_raw_fd());
    Ok(log)
}

/// Where this pod reaches the node's sessions directory: the mounted one
/// (`mounted`, when a volume is mounted there: a directory that an image
/// merely carries would keep the recording in the container), or else the node's own through
/// `/proc/1/root` when PID 1 is the node's init (the pod shares the host's
/// PID namespace: PID 1 is in another cgroup than this container and is not
/// a pod's pause), created if missing. None when neither is there: a
/// PodSecurity-bounded pod, which records to the container log only.
pub fn sessions_dir(
    proc_root: &Path,
    mounted: &Path,
    must_be_mounted: bool,
) -> Result<PathBuf, FileError> {
    if is_mount_point(mounted) || (!must_be_mounted && mounted.is_dir()) {
        return Ok(mounted.to_path_buf());
    }
    let init = proc_root.join("1");
    if !init_is_the_nodes(proc_root) {
        return Err(FileError::Io(
            mounted.to_path_buf(),
            io::Error::new(
                io::ErrorKind::NotFound,
                "not mounted, and the node's root is out of reach",
            ),
        ));
    }
    let dir = init.join("root").join(crate::HOST_SESSIONS_DIR);
    std::os::unix::fs::DirBuilderExt::mode(fs::DirBuilder::new().recursive(true), 0o700)
        .create(&dir)
        .map_err(|e| FileError::Io(dir.clone(), e))?;
    Ok(dir)
}

/// Whether PID 1 in `proc_root` is the node's init: in another cgroup than
/// this container, and not a pod's pause (the pod shares the host's PID
/// namespace).
pub fn init_is_the_nodes(proc_root: &Path) -> bool {
    let own = fs::read(proc_root.join("self/cgroup")).ok();
    let init = proc_root.join("1");
    fs::read(init.join("cgroup")).is_ok_and(|cgroup| Some(&cgroup) != own.as_ref())
        && fs::read_to_string(init.join("comm")).is_ok_and(|comm| comm.trim_end() != "pause")
}

/// Whether `path` is a directory on another device than its parent: a
/// volume mounted there.
fn is_mount_point(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(dir), Some(Ok(parent))) = (fs::metadata(path), path.parent().map(fs::metadata)) else {
        return false;
    };
    dir.is_dir() && dir.dev() != parent.dev()
}

/// Why the node's file could not be created.
#[derive(Debug)]
pub enum FileError {
    /// A recording with this id exists: it is never overwritten or added to.
    Exists(PathBuf),
    Io(PathBuf, io::Error),
}

/// Creates `dir/ID.cast` (mode 0600, appended to) and holds a shared lock on
/// it while it is written.
pub fn create_file(dir: &Path, id: &str) -> Result<(File, PathBuf), FileError> {
    let path = dir.join(format!("{id}.cast"));
    let file = OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => FileError::Exists(path.clone()),
            _ => FileError::Io(path.clone(), e),
        })?;
    sys::flock(file.as_raw_fd(), libc::LOCK_SH).map_err(|e| FileError::Io(path.clone(), e))?;
    Ok((file, path))
}

/// The open sinks of one session.
pub struct Sinks {
    log: Option<File>,
    file: Option<(File, PathBuf)>,
}

impl Sinks {
    pub fn new(log: File, file: Option<(File, PathBuf)>) -> Sinks {
        Sinks {
            log: Some(log),
            file,
        }
    }

    /// No sink: an unrecorded `run`, whose recorder only keeps the output.
    pub fn none() -> Sinks {
        Sinks {
            log: None,
            file: None,
        }
    }

    /// Writes one event to both sinks. A sink that fails (a full disk, a log
    /// pipe gone) is reported once on stderr and dropped; the session goes
    /// on with the other, as stopping it would lose the rest of what is done.
    pub fn write(&mut self, encoded: &Encoded) {
        if let Some((file, path)) = &mut self.file
            && let Err(e) = file.write_all(&encoded.file_line)
        {
            eprintln!(
                "toolbox-recorder: {}: {e}: recording to the container log only",
                path.display()
            );
            self.file = None;
        }
        if let Some(log) = &mut self.log
            && let Err(e) = log.write_all(encoded.log_write())
        {
            eprintln!("toolbox-recorder: writing the container log: {e}");
            self.log = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A fake /proc: `self` is 300; 100 is the holder, 200 a later process of
    /// the same container, 50 an earlier one of another container.
    fn fake_proc(root: &Path) {
        let stat = |pid: u32, name: &str, start: u64| {
            format!(
                "{pid} ({name}) S 1 {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1 1\n"
            )
        };
        for (pid, cgroup, name, start) in [
            (50, "0::/other\n", "init", 10),
            (100, "0::/pod/c1\n", "sleep", 500),
            (200, "0::/pod/c1\n", "sh ) (x", 900),
            (300, "0::/pod/c1\n", "toolbox-recorder", 400),
        ] {
            let dir = root.join(pid.to_string());
            fs::create_dir_all(dir.join("fd")).unwrap();
            fs::write(dir.join("cgroup"), cgroup).unwrap();
            fs::write(dir.join("stat"), stat(pid, name, start)).unwrap();
        }
        symlink("300", root.join("self")).unwrap();
        fs::write(root.join("log"), "").unwrap();
        symlink(root.join("log"), root.join("100/fd/1")).unwrap();
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("toolbox-recorder-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_holder_is_the_earliest_other_process_of_the_same_cgroup() {
        let root = temp_dir("holder");
        fake_proc(&root);
        // The recorder itself started before the holder here (clock ticks can
        // tie or be coarse): it is still never its own holder.
        assert_eq!(find_holder(&root).unwrap(), 100);
        fs::write(root.join("100/cgroup"), "0::/pod/c2\n").unwrap();
        assert_eq!(find_holder(&root).unwrap(), 200);
        fs::remove_dir_all(root.join("200")).unwrap();
        assert!(matches!(find_holder(&root), Err(HolderError::NotFound)));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_start_time_is_counted_after_the_name() {
        assert_eq!(
            start_time("7 (a) b) c) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 12345 99"),
            Some(12345)
        );
        assert_eq!(start_time("7 (short) R 1"), None);
    }

    #[test]
    fn the_log_is_the_holders_stdout_and_is_never_created() {
        let root = temp_dir("log");
        fake_proc(&root);
        let mut log = open_log(&root, 100).unwrap();
        log.write_all(b"x\n").unwrap();
        assert_eq!(fs::read_to_string(root.join("log")).unwrap(), "x\n");
        assert!(open_log(&root, 200).is_err());
        assert!(!root.join("200/fd/1").exists());
        fs::remove_dir_all(&root).unwrap();
    }

    /// What [`crate::cast::LOG_LINE_MAX`] relies on: a write of page-sized
    /// lines to a full pipe, cut short (here by a signal; a SIGKILL stops it
    /// at the same place), has written whole lines only.
    #[test]
    fn a_big_events_write_cut_short_leaves_whole_lines() {
        use crate::cast::{Encoder, LOG_LINE_MAX};
        use std::os::unix::thread::JoinHandleExt;

        extern "C" fn nothing(_: libc::c_int) {}
        let mut fds = [0; 2];
        // SAFETY: plain calls on descriptors and a handler that does nothing,
        // installed without SA_RESTART so that the write returns.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            libc::fcntl(fds[1], libc::F_SETPIPE_SZ, 4 * LOG_LINE_MAX as libc::c_int);
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = nothing as *const () as libc::sighandler_t;
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut());
        }
        let (read_end, write_end) = (fds[0], fds[1]);
        let capacity = unsafe { libc::fcntl(write_end, libc::F_GETPIPE_SZ) } as usize;
        let mut encoder = Encoder::new("n.1");
        let data = "a line of output\n".repeat(4 * capacity / 17);
        let bytes = encoder.event(1, "o", &data).log_write().to_vec();
        assert_eq!(bytes.len() % LOG_LINE_MAX, 0);
        let total = bytes.len();
        let writer = std::thread::spawn(move || {
            // SAFETY: bytes is valid for its length.
            unsafe { libc::write(write_end, bytes.as_ptr().cast(), bytes.len()) }
        });
        // Once the pipe is full the writer sleeps in write(2); until then
        // the signal could find it copying, and is sent again.
        let written = loop {
            let mut queued: libc::c_int = 0;
            // SAFETY: FIONREAD fills an int.
            unsafe { libc::ioctl(read_end, libc::FIONREAD, &mut queued) };
            if queued as usize >= capacity {
                unsafe { libc::pthread_kill(writer.as_pthread_t(), libc::SIGUSR1) };
            }
            if writer.is_finished() {
                break writer.join().unwrap();
            }
            std::thread::yield_now();
        };
        assert!(
            written > 0 && (written as usize) < total,
            "{written} of {total}"
        );
        assert_eq!(written as usize % LOG_LINE_MAX, 0);
        let mut got = vec![0; written as usize];
        assert_eq!(sys::read(read_end, &mut got).unwrap(), got.len());
        for line in got.split_inclusive(|&b| b == b'\n') {
            let value: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert_eq!(value["session"], "n.1");
        }
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
    }

    #[test]
    fn the_sessions_directory_is_the_mounted_one_else_the_nodes_through_its_init() {
        let root = temp_dir("sessions-dir");
        fake_proc(&root);
        let mounted = root.join("mounted");
        // PID 1 of the fake /proc is missing: a pod's own PID namespace
        // whose init is out of sight.
        assert!(sessions_dir(&root, &mounted, true).is_err());
        // The node's init, in a cgroup of its own, with a root.
        let init = root.join("1");
        fs::create_dir_all(init.join("root/var/log")).unwrap();
        fs::write(init.join("cgroup"), "0::/init.scope\n").unwrap();
        fs::write(init.join("comm"), "systemd\n").unwrap();
        let dir = sessions_dir(&root, &mounted, true).unwrap();
        assert_eq!(dir, init.join("root/var/log/toolbox/sessions"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // A pod's pause as PID 1 (a shared process namespace) is no node.
        fs::write(init.join("comm"), "pause\n").unwrap();
        assert!(sessions_dir(&root, &mounted, true).is_err());
        // Nor is this container's own holder.
        fs::write(init.join("comm"), "sleep\n").unwrap();
        fs::write(init.join("cgroup"), "0::/pod/c1\n").unwrap();
        assert!(sessions_dir(&root, &mounted, true).is_err());
        // A directory that is no mount point (an image's own) is passed
        // over; a mounted one (/dev/shm: another device than /dev) is taken.
        fs::create_dir_all(&mounted).unwrap();
        assert!(sessions_dir(&root, &mounted, true).is_err());
        assert!(is_mount_point(Path::new("/dev/shm")) || !Path::new("/dev/shm").is_dir());
        if is_mount_point(Path::new("/dev/shm")) {
            assert_eq!(
                sessions_dir(&root, Path::new("/dev/shm"), true).unwrap(),
                Path::new("/dev/shm")
            );
        }
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_recording_is_created_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("file");
        let (_file, path) = create_file(&dir, "n.1").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(
            create_file(&dir, "n.1"),
            Err(FileError::Exists(_))
        ));
        assert!(matches!(
            create_file(&dir.join("missing"), "n.2"),
            Err(FileError::Io(..))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
