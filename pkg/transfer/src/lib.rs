//! `toolbox cp`'s stream, written once for both of its ends: `toolbox` on
//! this machine and `toolbox-recorder send|receive` on the node
//! (docs/cp.md). Neither end trusts the other to have written what it read.
//!
//! The stream is a tar archive (the `tar` crate's GNU headers: long names,
//! any size) followed by a trailer, one JSON line: the [`Manifest`] of every
//! regular file's size and sha256, as the sender computed them while it read
//! the file. Nothing else comes after it.
//!
//! 1. [`send`] walks the sources (a file, or a directory with what is in
//!    it), writes each entry, and hashes each file as it reads it; devices,
//!    sockets and FIFOs are left out and named in the manifest.
//! 2. [`dest`] decides where each of the stream's top-level names lands, as
//!    GNU cp does (into a directory, or as the named path), and checks what
//!    is there before anything is read (pure but for one `lstat`).
//! 3. [`receive`] writes every entry under a staging directory beside its
//!    final name, hashing each file as it writes it, then reads the trailer,
//!    compares, and only when every file matches renames the entries into
//!    place. A cut stream, a mismatch or a full disk removes the staging
//!    directory and leaves nothing under a final name.
//!
//! [`digest`] holds the hashing reader and writer both ends use.

pub mod dest;
pub mod digest;
pub mod manifest;
pub mod receive;
pub mod send;

pub use dest::{Dest, DestError, Placement};
pub use manifest::{FileDigest, Manifest, Skipped};
pub use receive::{ReceiveOptions, Received, receive, receive_to_writer};
pub use send::{SendError, send, total_size};

/// Why a stream could not be sent or received, in words: one line each.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{0}")]
    Dest(#[from] DestError),
    #[error(transparent)]
    Send(#[from] SendError),
    /// Reading the stream failed (cut, or not toolbox's stream).
    #[error("the stream was cut or damaged: {0}")]
    Stream(std::io::Error),
    #[error("the stream ended before its manifest: the transfer was cut short")]
    NoManifest,
    #[error("the stream's manifest could not be read: {0}")]
    BadManifest(String),
    #[error("{0}")]
    Mismatch(String),
    #[error("the stream holds {0:?}, a path outside its destination: refused")]
    UnsafePath(String),
    /// Writing here failed: the path, and the error (a full disk, say).
    #[error("{}: {source}", .path.display())]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

impl TransferError {
    pub(crate) fn write(path: &std::path::Path, source: std::io::Error) -> TransferError {
        TransferError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}
