//! sha256 while the bytes pass: a reader for the sender, which hashes what
//! it reads from the file, and a writer for the receiver, which hashes what
//! it writes to the file. Each also counts the bytes.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// Lowercase hex of a sha256, as `sha256sum` prints it.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// The sha256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Reads exactly `size` bytes of `inner`, hashing them. A file that ends
/// before its size (it shrank while it was read) is an error, since the
/// tar header already promised that many bytes; one that grew is read up
/// to the size it had, as tar does.
pub struct HashingReader<R> {
    inner: R,
    left: u64,
    hasher: Sha256,
    read: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R, size: u64) -> Self {
        HashingReader {
            inner,
            left: size,
            hasher: Sha256::new(),
            read: 0,
        }
    }

    /// The bytes read and their sha256.
    pub fn finish(self) -> (u64, String) {
        (self.read, hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was read",
            ));
        }
        self.hasher.update(&buf[..n]);
        self.left -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

/// Writes through to `inner`, hashing what was written.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The writer back, the bytes written and their sha256.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.written, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_hash_as_sha256sum_does() {
        // sha256sum of "abc".
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), abc);
        let mut reader = HashingReader::new(&b"abcdef"[..], 3);
        let mut read = Vec::new();
        reader.read_to_end(&mut read).unwrap();
        assert_eq!(read, b"abc", "no more than the size");
        assert_eq!(reader.finish(), (3, abc.to_string()));
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"abc").unwrap();
        let (out, n, sum) = writer.finish();
        assert_eq!((out.as_slice(), n, sum.as_str()), (&b"abc"[..], 3, abc));
    }

    #[test]
    fn a_file_that_shrank_is_an_error() {
        let mut reader = HashingReader::new(&b"ab"[..], 3);
        let mut read = Vec::new();
        let err = reader.read_to_end(&mut read).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
