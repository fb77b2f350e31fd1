//! The stream's trailer: what the sender read, file by file. The receiver
//! compares it with what it wrote, in the stream's order, before anything
//! is renamed into place; the audit trail records it (or, when it is long,
//! [`Manifest::summary`]).

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::TransferError;
use crate::digest::sha256_hex;

/// The trailer's tag and version: a stream that ends with anything else is
/// not toolbox's, or not this version's.
const TAG: &str = "toolbox-transfer";
const VERSION: u32 = 1;
/// The most a trailer may take: some 100 bytes a file, so millions of
/// files, while a stream that is not toolbox's cannot make the receiver
/// hold more than this.
const TRAILER_MAX: u64 = 256 * 1024 * 1024;

/// Every regular file of a stream, in its order, and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub files: Vec<FileDigest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// One regular file: its path in the stream (relative, its source's name
/// first), its size and its sha256 in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What the sender left out, and what it is: "a socket", "a FIFO",
/// "a block device", "a character device".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub kind: String,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    #[serde(rename = "toolbox-transfer")]
    version: u32,
    #[serde(flatten)]
    manifest: Manifest,
}

/// What an audit annotation says of a manifest too long to list: how many
/// files, their bytes, and the sha256 of the whole manifest (its trailer's
/// JSON), which the node's record lists in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub count: usize,
    pub bytes: u64,
    pub manifest_sha256: String,
}

impl Manifest {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The manifest as one JSON document (its files and what was skipped).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The files as a JSON list when it fits in `limit` bytes, else the
    /// [`Summary`] of them as a JSON object.
    pub fn bounded_json(&self, limit: usize) -> String {
        let full = serde_json::to_string(&self.files).unwrap_or_default();
        if full.len() <= limit {
            return full;
        }
        serde_json::to_string(&Summary {
            count: self.files.len(),
            bytes: self.total_bytes(),
            manifest_sha256: sha256_hex(self.to_json().as_bytes()),
        })
        .unwrap_or_default()
    }

    /// Writes the trailer: one JSON line.
    pub fn write_trailer(&self, mut out: impl Write) -> io::Result<()> {
        let trailer = Trailer {
            version: VERSION,
            manifest: self.clone(),
        };
        let mut line = serde_json::to_vec(&trailer).map_err(io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
        out.flush()
    }

    /// Reads the trailer from what follows the archive's first end block:
    /// the second (zeros), then the JSON line, then nothing.
    pub fn read_trailer(input: impl Read) -> Result<Manifest, TransferError> {
        let mut rest = Vec::new();
        input
            .take(TRAILER_MAX)
            .read_to_end(&mut rest)
            .map_err(TransferError::Stream)?;
        let start = rest.iter().position(|&b| b != 0).unwrap_or(rest.len());
        let text = rest[start..].trim_ascii();
        if text.is_empty() {
            return Err(TransferError::NoManifest);
        }
        let value: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| TransferError::BadManifest(e.to_string()))?;
        match value.get(TAG).and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(TransferError::BadManifest(format!(
                    "version {v}, where this toolbox reads {VERSION}: use the same release on both ends"
                )));
            }
            None => return Err(TransferError::BadManifest("no toolbox-transfer tag".into())),
        }
        let trailer: Trailer =
            serde_json::from_value(value).map_err(|e| TransferError::BadManifest(e.to_string()))?;
        Ok(trailer.manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> FileDigest {
        FileDigest {
            path: path.into(),
            size,
            sha256: "0".repeat(64),
        }
    }

    #[test]
    fn the_trailer_reads_back_after_the_end_block() {
        let manifest = Manifest {
            files: vec![file("a/b", 3)],
            skipped: vec![Skipped {
                path: "a/s".into(),
                kind: "a socket".into(),
            }],
        };
        let mut stream = vec![0u8; 512];
        manifest.write_trailer(&mut stream).unwrap();
        assert_eq!(Manifest::read_trailer(&stream[..]).unwrap(), manifest);
        assert!(matches!(
            Manifest::read_trailer(&[0u8; 512][..]),
            Err(TransferError::NoManifest)
        ));
        assert!(matches!(
            Manifest::read_trailer(&b"{\"files\":[]}"[..]),
            Err(TransferError::BadManifest(_))
        ));
        assert!(matches!(
            Manifest::read_trailer(&b"{\"toolbox-transfer\":9,\"files\":[]}"[..]),
            Err(TransferError::BadManifest(m)) if m.contains("version 9")
        ));
    }

    #[test]
    fn a_long_list_is_summarised() {
        let manifest = Manifest {
            files: (0..100).map(|i| file(&format!("d/f{i}"), 10)).collect(),
            skipped: Vec::new(),
        };
        let listed = manifest.bounded_json(1 << 20);
        assert!(listed.starts_with("[{\"path\":\"d/f0\""), "{listed}");
        let summary: Summary = serde_json::from_str(&manifest.bounded_json(200)).unwrap();
        assert_eq!(summary.count, 100);
        assert_eq!(summary.bytes, 1000);
        assert_eq!(
            summary.manifest_sha256,
            sha256_hex(manifest.to_json().as_bytes())
        );
    }
}
