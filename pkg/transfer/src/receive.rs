//! The receiving end. Every entry is written under a staging directory
//! (`.toolbox-cp-XXXXXX`, made beside the final names, so that the last
//! step is a rename on one filesystem), each file hashed as it is written.
//! Then the trailer is read and compared with what was written, file by
//! file in the stream's order. Only when all of it matches are directory
//! modes and times set and the top-level entries renamed into place; a file
//! replaces what was there in one rename, so a reader never sees half of
//! one. On any failure (a cut stream, a mismatch, a full disk) the staging
//! directory is removed and no final path has changed.
//!
//! The stream's paths are checked before anything is written: relative,
//! no `..`, under a top-level name the stream introduced, and never through
//! a symlink the stream itself made. A stream from a node cannot write
//! outside the destination it was given.

use std::ffi::{CString, OsStr, OsString};
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use tar::EntryType;

use crate::TransferError;
use crate::dest::{Dest, DestError, Placement};
use crate::digest::HashingWriter;
use crate::manifest::{FileDigest, Manifest};

/// One read from the stream and one write to a file: large, so a 1 GB file
/// is a few thousand system calls, and small beside the pod's memory.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// Replace files and merge into directories that exist.
    pub force: bool,
    /// Give entries the stream's numeric owners: only where this end is
    /// root, and only on this machine (docs/cp.md, ownership).
    pub keep_owners: bool,
}

/// What was received and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Every file as written here, which matched the sender's; and what
    /// the sender left out.
    pub manifest: Manifest,
    /// The final path of each top-level entry.
    pub placed: Vec<PathBuf>,
}

/// A directory's mode, owner and time, set once everything in it is written.
struct DirMeta {
    staged: PathBuf,
    mode: u32,
    owner: (u32, u32),
    mtime: u64,
}

/// Receives the stream `input` into `placement`, as this module says.
pub fn receive(
    input: impl Read,
    placement: &Placement,
    options: ReceiveOptions,
) -> Result<Received, TransferError> {
    let dest = &placement.dest;
    let parent = dest.parent();
    let staging = tempfile::Builder::new()
        .prefix(".toolbox-cp-")
        .tempdir_in(&parent)
        .map_err(|e| TransferError::write(&parent, e))?;
    let root = staging.path();
    let mut input = BufReader::with_capacity(CHUNK, input);
    let mut archive = tar::Archive::new(&mut input);
    let mut tops: Vec<(OsString, bool)> = Vec::new();
    let mut written = Vec::new();
    let mut dirs = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    for entry in archive.entries().map_err(TransferError::Stream)? {
        let mut entry = entry.map_err(TransferError::Stream)?;
        let path = entry.path().map_err(TransferError::Stream)?.into_owned();
        let parts = safe_parts(&path)?;
        let kind = entry.header().entry_type();
        let top = parts[0].to_os_string();
        if parts.len() == 1 {
            if tops.iter().any(|(name, _)| *name == top) {
                return Err(unsafe_path(&path));
            }
            if matches!(dest, Dest::As { .. }) && !tops.is_empty() {
                return Err(
                    DestError::SeveralIntoOne(dest.final_path(&top).display().to_string()).into(),
                );
            }
            dest.check_kind(&top, kind.is_dir(), placement.force)?;
            tops.push((top, kind.is_dir()));
        } else if !tops.iter().any(|(name, is_dir)| *name == top && *is_dir) {
            return Err(unsafe_path(&path));
        }
        let staged = no_symlink_between(root, &parts)?;
        let header = entry.header();
        let mode = header.mode().map_err(TransferError::Stream)? & 0o7777;
        let mtime = header.mtime().map_err(TransferError::Stream)?;
        let owner = (
            header.uid().map_err(TransferError::Stream)? as u32,
            header.gid().map_err(TransferError::Stream)? as u32,
        );
        let owner = options.keep_owners.then_some(owner);
        match kind {
            EntryType::Directory => {
                fs::create_dir(&staged).map_err(|e| TransferError::write(&staged, e))?;
                dirs.push(DirMeta {
                    staged,
                    mode,
                    owner: owner.unwrap_or((u32::MAX, u32::MAX)),
                    mtime,
                });
            }
            EntryType::Regular | EntryType::Continuous => {
                let (size, sha256) = write_file(&mut entry, &staged, &mut buf, mode, mtime, owner)?;
                written.push(FileDigest {
                    path: path.to_string_lossy().into_owned(),
                    size,
                    sha256,
                });
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(TransferError::Stream)?
                    .ok_or_else(|| unsafe_path(&path))?;
                std::os::unix::fs::symlink(&target, &staged)
                    .map_err(|e| TransferError::write(&staged, e))?;
                if let Some((uid, gid)) = owner {
                    std::os::unix::fs::lchown(&staged, Some(uid), Some(gid))
                        .map_err(|e| TransferError::write(&staged, e))?;
                }
                let time = filetime::FileTime::from_unix_time(mtime as i64, 0);
                filetime::set_symlink_file_times(&staged, time, time)
                    .map_err(|e| TransferError::write(&staged, e))?;
            }
            other => {
                return Err(TransferError::Refused(format!(
                    "the stream holds {} as a {other:?} entry, which toolbox cp does not write",
                    path.display()
                )));
            }
        }
    }
    let _ = archive.into_inner();
    let sent = Manifest::read_trailer(&mut input)?;
    compare(&sent, &written)?;
    for dir in dirs.iter().rev() {
        set_dir_meta(dir, &dir.staged)?;
    }
    let mut placed = Vec::new();
    for (top, is_dir) in &tops {
        let staged = root.join(top);
        let target = dest.final_path(top);
        install(&staged, &target, placement.force)?;
        // A directory renamed to another parent may have its time changed.
        if *is_dir && let Some(meta) = dirs.iter().find(|d| d.staged == staged) {
            let _ = set_time(&target, meta.mtime);
        }
        placed.push(target);
    }
    if let Ok(dir) = File::open(&parent) {
        let _ = dir.sync_all();
    }
    Ok(Received {
        manifest: Manifest {
            files: written,
            skipped: sent.skipped,
        },
        placed,
    })
}

/// Receives a stream of one regular file into `out` (cp's `-` as DEST):
/// its bytes go out as they come, so a mismatch found at the end is an
/// error that cannot take them back.
pub fn receive_to_writer(input: impl Read, out: impl Write) -> Result<Manifest, TransferError> {
    let mut input = BufReader::with_capacity(CHUNK, input);
    let mut archive = tar::Archive::new(&mut input);
    let mut written = Vec::new();
    let mut out = HashingWriter::new(out);
    let mut buf = vec![0u8; CHUNK];
    for entry in archive.entries().map_err(TransferError::Stream)? {
        let mut entry = entry.map_err(TransferError::Stream)?;
        let path = entry.path().map_err(TransferError::Stream)?.into_owned();
        if !written.is_empty() || entry.header().entry_type() != EntryType::Regular {
            return Err(TransferError::Refused(format!(
                "{} is not one regular file: only a file can be written to standard output",
                path.display()
            )));
        }
        loop {
            let n = entry.read(&mut buf).map_err(TransferError::Stream)?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])
                .map_err(|e| TransferError::write(Path::new("standard output"), e))?;
        }
        out.flush()
            .map_err(|e| TransferError::write(Path::new("standard output"), e))?;
        written.push(path);
    }
    let _ = archive.into_inner();
    let (_, size, sha256) = out.finish();
    let sent = Manifest::read_trailer(&mut input)?;
    let here: Vec<FileDigest> = written
        .into_iter()
        .map(|path| FileDigest {
            path: path.to_string_lossy().into_owned(),
            size,
            sha256: sha256.clone(),
        })
        .collect();
    compare(&sent, &here)?;
    Ok(Manifest {
        files: here,
        skipped: sent.skipped,
    })
}

fn unsafe_path(path: &Path) -> TransferError {
    TransferError::UnsafePath(path.display().to_string())
}

/// The stream path's parts: relative and plain (no root, no `..`).
fn safe_parts(path: &Path) -> Result<Vec<&OsStr>, TransferError> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::RootDir | Component::ParentDir | Component::Prefix(_) => {
                return Err(unsafe_path(path));
            }
        }
    }
    if parts.is_empty() {
        return Err(unsafe_path(path));
    }
    Ok(parts)
}

/// Where `parts` is staged under `root`, once every directory on the way
/// is a directory the stream made, not a symlink.
fn no_symlink_between(root: &Path, parts: &[&OsStr]) -> Result<PathBuf, TransferError> {
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        if i + 1 < parts.len() {
            match fs::symlink_metadata(&at) {
                Ok(meta) if meta.is_dir() => {}
                _ => {
                    let shown: PathBuf = parts.iter().collect();
                    return Err(unsafe_path(&shown));
                }
            }
        }
    }
    Ok(at)
}

/// Writes one file's bytes, hashing them; runs of zeros become holes, so a
/// sparse file stays sparse. Mode, owner and time are set on the open file.
fn write_file(
    entry: &mut impl Read,
    staged: &Path,
    buf: &mut [u8],
    mode: u32,
    mtime: u64,
    owner: Option<(u32, u32)>,
) -> Result<(u64, String), TransferError> {
    let failed = |e| TransferError::write(staged, e);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(staged)
        .map_err(failed)?;
    let mut out = HashingWriter::new(Holes { file: &file });
    loop {
        let n = entry.read(buf).map_err(TransferError::Stream)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(failed)?;
    }
    let (_, size, sha256) = out.finish();
    file.set_len(size).map_err(failed)?;
    file.sync_data().map_err(failed)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(&file, Some(uid), Some(gid)).map_err(failed)?;
    }
    // After the owner: a chown clears the set-user-ID and set-group-ID bits.
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(failed)?;
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime))
        .map_err(failed)?;
    Ok((size, sha256))
}

/// A file written at its position, with all-zero writes skipped over.
struct Holes<'a> {
    file: &'a File,
}

impl Write for Holes<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.iter().all(|&b| b == 0) {
            let mut file = self.file;
            file.seek(SeekFrom::Current(buf.len() as i64))?;
            return Ok(buf.len());
        }
        let mut file = self.file;
        file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn set_time(path: &Path, mtime: u64) -> io::Result<()> {
    let time = filetime::FileTime::from_unix_time(mtime as i64, 0);
    filetime::set_file_times(path, time, time)
}

fn set_dir_meta(dir: &DirMeta, path: &Path) -> Result<(), TransferError> {
    let failed = |e| TransferError::write(path, e);
    if dir.owner != (u32::MAX, u32::MAX) {
        std::os::unix::fs::chown(path, Some(dir.owner.0), Some(dir.owner.1)).map_err(failed)?;
    }
    fs::set_permissions(path, Permissions::from_mode(dir.mode)).map_err(failed)?;
    set_time(path, dir.mtime).map_err(failed)
}

/// The sender's manifest against what was written here, in order.
fn compare(sent: &Manifest, written: &[FileDigest]) -> Result<(), TransferError> {
    if sent.files.len() != written.len() {
        return Err(TransferError::Mismatch(format!(
            "the sender listed {} files and {} arrived: the stream was damaged",
            sent.files.len(),
            written.len()
        )));
    }
    for (theirs, ours) in sent.files.iter().zip(written) {
        if theirs.path != ours.path {
            return Err(TransferError::Mismatch(format!(
                "the sender listed {} where {} arrived: the stream was damaged",
                theirs.path, ours.path
            )));
        }
        if theirs.size != ours.size || theirs.sha256 != ours.sha256 {
            return Err(TransferError::Mismatch(format!(
                "{}: what was written ({} bytes, sha256 {}) is not what was read ({} bytes, sha256 {})",
                ours.path, ours.size, ours.sha256, theirs.size, theirs.sha256
            )));
        }
    }
    Ok(())
}

/// Moves a staged entry to its final path: without `force`, only where
/// nothing is (renameat2's RENAME_NOREPLACE, so that nothing made there
/// since the check is overwritten); with it, over a file or symlink in one
/// rename, or merged into a directory.
fn install(staged: &Path, target: &Path, force: bool) -> Result<(), TransferError> {
    if !force {
        return rename_noreplace(staged, target);
    }
    match fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() => {
            let staged_is_dir = fs::symlink_metadata(staged).is_ok_and(|m| m.is_dir());
            if !staged_is_dir {
                return Err(DestError::FileOverDirectory(target.display().to_string()).into());
            }
            check_merge(staged, target)?;
            merge(staged, target)
        }
        _ => fs::rename(staged, target).map_err(|e| TransferError::write(target, e)),
    }
}

fn children(dir: &Path) -> Result<Vec<OsString>, TransferError> {
    let mut names = fs::read_dir(dir)
        .and_then(|entries| {
            entries
                .map(|e| e.map(|e| e.file_name()))
                .collect::<io::Result<Vec<_>>>()
        })
        .map_err(|e| TransferError::write(dir, e))?;
    names.sort();
    Ok(names)
}

/// Refuses a merge that would put a directory over a file or the other way
/// round anywhere below, before anything moves.
fn check_merge(staged: &Path, target: &Path) -> Result<(), TransferError> {
    for name in children(staged)? {
        let (from, to) = (staged.join(&name), target.join(&name));
        let from_dir = fs::symlink_metadata(&from).is_ok_and(|m| m.is_dir());
        match fs::symlink_metadata(&to) {
            Ok(meta) if meta.is_dir() && from_dir => check_merge(&from, &to)?,
            Ok(meta) if meta.is_dir() => {
                return Err(DestError::FileOverDirectory(to.display().to_string()).into());
            }
            Ok(_) if from_dir => {
                return Err(DestError::DirectoryOverFile(to.display().to_string()).into());
            }
            _ => {}
        }
    }
    Ok(())
}

fn merge(staged: &Path, target: &Path) -> Result<(), TransferError> {
    for name in children(staged)? {
        let (from, to) = (staged.join(&name), target.join(&name));
        match fs::symlink_metadata(&to) {
            Ok(meta) if meta.is_dir() => merge(&from, &to)?,
            _ => fs::rename(&from, &to).map_err(|e| TransferError::write(&to, e))?,
        }
    }
    Ok(())
}

fn rename_noreplace(from: &Path, to: &Path) -> Result<(), TransferError> {
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(|_| unsafe_path(p));
    let (c_from, c_to) = (c(from)?, c(to)?);
    // SAFETY: two valid C strings; renameat2 reads them only.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c_from.as_ptr(),
            libc::AT_FDCWD,
            c_to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if done == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EEXIST) => Err(DestError::Exists(to.display().to_string()).into()),
        // A filesystem without RENAME_NOREPLACE: checked, then renamed.
        Some(libc::EINVAL | libc::ENOSYS) => {
            if fs::symlink_metadata(to).is_ok() {
                return Err(DestError::Exists(to.display().to_string()).into());
            }
            fs::rename(from, to).map_err(|e| TransferError::write(to, e))
        }
        _ => Err(TransferError::write(to, err)),
    }
}
