//! The sending end: the sources, walked in a fixed order (each directory's
//! entries sorted by name), as tar entries and then the trailer.
//!
//! A source named on the command line is followed if it is a symlink (as
//! `cp -rH` does: `NODE:/var/log/syslog` is the log, not a link to it);
//! inside a directory, symlinks are sent as symlinks. Regular files are
//! read once, hashed as they are read, and sent with the size they had when
//! opened. Hard links are sent as separate files.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use crate::digest::HashingReader;
use crate::manifest::{FileDigest, Manifest, Skipped};

/// How much of the stream is gathered before one write: a quarter of
/// what the exec's pipes hold, so a 1 GB file is some 4,000 writes.
const WRITE_BUFFER: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A source or a file under it could not be read.
    #[error("{}: {}", .path.display(), words(.source))]
    Read { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Sources(String),
    /// The stream could not be written: its reader went away.
    #[error("the stream could not be written: {0}")]
    Stream(io::Error),
}

/// An I/O error as `cp` words it: "No such file or directory".
fn words(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "No such file or directory".into(),
        io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let text = err.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            }
        }
    }
}

/// What the sender tells as it goes.
pub enum Sent<'a> {
    File(&'a FileDigest),
    Skipped(&'a Skipped),
}

/// One entry of the walk: where it is, its path in the stream, what it is.
struct Visit {
    path: PathBuf,
    name: PathBuf,
    meta: Metadata,
}

/// The sources, depth first, each directory's entries in name order.
struct Walk {
    stack: Vec<(PathBuf, PathBuf, bool)>,
}

impl Walk {
    fn new(sources: &[PathBuf]) -> Result<Walk, SendError> {
        let mut names = BTreeSet::new();
        let mut stack = Vec::new();
        for source in sources.iter().rev() {
            let name = top_name(source)?;
            if !names.insert(name.clone()) {
                return Err(SendError::Sources(format!(
                    "two sources are named {:?}: they would land on the same path",
                    name.to_string_lossy()
                )));
            }
            stack.push((source.clone(), PathBuf::from(name), true));
        }
        Ok(Walk { stack })
    }

    fn next(&mut self) -> Option<Result<Visit, SendError>> {
        let (path, name, top) = self.stack.pop()?;
        let meta = if top {
            fs::metadata(&path)
        } else {
            fs::symlink_metadata(&path)
        };
        let meta = match meta {
            Ok(meta) => meta,
            Err(source) => return Some(Err(SendError::Read { path, source })),
        };
        if meta.is_dir() {
            let listed = fs::read_dir(&path).and_then(|entries| {
                entries
                    .map(|entry| entry.map(|e| e.file_name()))
                    .collect::<io::Result<Vec<OsString>>>()
            });
            let mut children = match listed {
                Ok(children) => children,
                Err(source) => return Some(Err(SendError::Read { path, source })),
            };
            children.sort();
            for child in children.into_iter().rev() {
                self.stack
                    .push((path.join(&child), name.join(&child), false));
            }
        }
        Some(Ok(Visit { path, name, meta }))
    }
}

/// A source's name in the stream: its last component.
fn top_name(source: &Path) -> Result<OsString, SendError> {
    source.file_name().map(OsString::from).ok_or_else(|| {
        SendError::Sources(format!(
            "{} has no name to copy it under: name a file or directory in it",
            source.display()
        ))
    })
}

/// The bytes of the regular files under `sources`, for a progress bar's
/// length: one walk of `lstat`s, before the stream starts.
pub fn total_size(sources: &[PathBuf]) -> Result<u64, SendError> {
    let mut walk = Walk::new(sources)?;
    let mut total = 0;
    while let Some(visit) = walk.next() {
        let visit = visit?;
        if visit.meta.is_file() {
            total += visit.meta.len();
        }
    }
    Ok(total)
}

/// The header every entry starts from: its kind, mode, owner and mtime.
fn header(meta: &Metadata, kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(meta.mode() & 0o7777);
    header.set_uid(u64::from(meta.uid()));
    header.set_gid(u64::from(meta.gid()));
    header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
    header.set_size(size);
    header
}

/// What a file that is not sent is, in words.
fn special_kind(meta: &Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_socket() {
        "a socket"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_char_device() {
        "a character device"
    } else {
        "not a file, directory or symlink"
    }
}

/// Writes `sources` to `out` as the stream, and returns its manifest.
pub fn send(
    sources: &[PathBuf],
    out: impl Write,
    tell: &mut dyn FnMut(Sent<'_>),
) -> Result<Manifest, SendError> {
    let mut walk = Walk::new(sources)?;
    let mut builder = tar::Builder::new(BufWriter::with_capacity(WRITE_BUFFER, out));
    builder.mode(tar::HeaderMode::Complete);
    let mut manifest = Manifest::default();
    while let Some(visit) = walk.next() {
        let Visit { path, name, meta } = visit?;
        let kind = meta.file_type();
        if kind.is_dir() {
            let mut h = header(&meta, EntryType::Directory, 0);
            builder
                .append_data(&mut h, &name, io::empty())
                .map_err(SendError::Stream)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&path).map_err(|source| SendError::Read {
                path: path.clone(),
                source,
            })?;
            let mut h = header(&meta, EntryType::Symlink, 0);
            builder
                .append_link(&mut h, &name, &target)
                .map_err(SendError::Stream)?;
        } else if kind.is_file() {
            manifest.files.push(send_file(&mut builder, &path, &name)?);
            if let Some(sent) = manifest.files.last() {
                tell(Sent::File(sent));
            }
        } else {
            manifest.skipped.push(Skipped {
                path: name.to_string_lossy().into_owned(),
                kind: special_kind(&meta).into(),
            });
            if let Some(skipped) = manifest.skipped.last() {
                tell(Sent::Skipped(skipped));
            }
        }
    }
    let mut out = builder.into_inner().map_err(SendError::Stream)?;
    manifest
        .write_trailer(&mut out)
        .map_err(SendError::Stream)?;
    out.flush().map_err(SendError::Stream)?;
    Ok(manifest)
}

/// One regular file: opened, its size and mode taken from the open file,
/// its bytes hashed as the archive takes them.
fn send_file<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &Path,
    name: &Path,
) -> Result<FileDigest, SendError> {
    let read_error = |source| SendError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    let mut h = header(&meta, EntryType::Regular, meta.len());
    let mut reader = Noting::new(HashingReader::new(&file, meta.len()));
    if let Err(err) = builder.append_data(&mut h, name, &mut reader) {
        return Err(match reader.failed.take() {
            Some(source) => read_error(source),
            None => SendError::Stream(err),
        });
    }
    let (size, sha256) = reader.inner.finish();
    Ok(FileDigest {
        path: name.to_string_lossy().into_owned(),
        size,
        sha256,
    })
}

/// A reader that keeps the error it returned, so that a failed copy can
/// tell the file's fault from the stream's.
struct Noting<R> {
    inner: R,
    failed: Option<io::Error>,
}

impl<R> Noting<R> {
    fn new(inner: R) -> Self {
        Noting {
            inner,
            failed: None,
        }
    }
}

impl<R: io::Read> io::Read for Noting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|err| {
            self.failed = Some(io::Error::new(err.kind(), err.to_string()));
        })
    }
}
