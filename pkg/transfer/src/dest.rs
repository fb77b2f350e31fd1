//! Where a stream's top-level entries land: GNU cp's rules for its last
//! operand, decided from what is at DEST before anything is read.
//!
//! - DEST is an existing directory (or a symlink to one): each source lands
//!   inside it, as DEST/NAME, unless `-T` says DEST is the name itself.
//! - Otherwise there must be one source, and it lands as DEST. A DEST
//!   written with a trailing slash names a directory, so a file may not
//!   land there.
//! - Several sources need DEST to be an existing directory.
//!
//! Unlike GNU cp, nothing is overwritten without `--force`: a final path
//! that exists is refused before the transfer starts. With `--force`, a
//! file replaces a file or symlink (one rename), and a directory is merged
//! into a directory; a directory never replaces a file, nor a file a
//! directory.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What a path is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Missing,
    Dir,
    NonDir,
}

impl Existing {
    /// What `path` is, a symlink followed as cp follows DEST's.
    pub fn of(path: &Path) -> io::Result<Existing> {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Ok(Existing::Dir),
            Ok(_) => Ok(Existing::NonDir),
            // A dangling symlink is something, and not a directory.
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::symlink_metadata(path) {
                Ok(_) => Ok(Existing::NonDir),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing::Missing),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}

/// Where the stream's entries land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// Each top-level entry as DIR/NAME.
    Into(PathBuf),
    /// The one top-level entry as this path; `dir_only` when DEST ended
    /// with a slash.
    As { path: PathBuf, dir_only: bool },
}

/// A destination and whether it may overwrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub dest: Dest,
    pub force: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestError {
    #[error("target {0} is not a directory, and there are several sources")]
    NotADirectory(String),
    #[error("{0} exists: toolbox cp overwrites nothing without --force")]
    Exists(String),
    #[error("cannot create {path}: its directory {parent} does not exist")]
    NoParent { path: String, parent: String },
    #[error("cannot overwrite non-directory {0} with a directory")]
    DirectoryOverFile(String),
    #[error("cannot overwrite directory {0} with a non-directory")]
    FileOverDirectory(String),
    #[error("cannot create regular file {0}: Not a directory")]
    FileAtDirectoryPath(String),
    #[error("the stream holds several sources, but {0} is not a directory to put them in")]
    SeveralIntoOne(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// DEST's placement for `sources` sources, from what DEST is now;
/// `no_target_directory` is cp's `-T`.
pub fn place(
    dest: &Path,
    existing: Existing,
    sources: usize,
    no_target_directory: bool,
) -> Result<Dest, DestError> {
    let dir_only = dest.as_os_str().as_encoded_bytes().ends_with(b"/");
    if sources > 1 && (no_target_directory || existing != Existing::Dir) {
        return Err(DestError::NotADirectory(shown(dest)));
    }
    if existing == Existing::Dir && !no_target_directory {
        return Ok(Dest::Into(dest.to_path_buf()));
    }
    Ok(Dest::As {
        path: dest.to_path_buf(),
        dir_only,
    })
}

impl Dest {
    /// Where the top-level entry `name` lands.
    pub fn final_path(&self, name: &OsStr) -> PathBuf {
        match self {
            Dest::Into(dir) => dir.join(name),
            Dest::As { path, .. } => path.clone(),
        }
    }

    /// The directory the final paths are in, where the staging directory
    /// goes so that the last renames stay on one filesystem.
    pub fn parent(&self) -> PathBuf {
        match self {
            Dest::Into(dir) => dir.clone(),
            Dest::As { path, .. } => match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
        }
    }

    /// Refuses, before anything is read, a final path for `names` that
    /// exists without `force`, and a DEST whose directory is missing.
    pub fn check(&self, names: &[OsString], force: bool) -> Result<(), DestError> {
        if let Dest::As { path, .. } = self {
            if names.len() > 1 {
                return Err(DestError::SeveralIntoOne(shown(path)));
            }
            let parent = self.parent();
            if !parent.is_dir() {
                return Err(DestError::NoParent {
                    path: shown(path),
                    parent: shown(&parent),
                });
            }
        }
        for name in names {
            let path = self.final_path(name);
            if !force && fs::symlink_metadata(&path).is_ok() {
                return Err(DestError::Exists(shown(&path)));
            }
        }
        Ok(())
    }

    /// Refuses an entry of the stream that may not land where it would:
    /// called with each top-level entry's kind once the stream shows it.
    pub fn check_kind(&self, name: &OsStr, is_dir: bool, force: bool) -> Result<(), DestError> {
        let path = self.final_path(name);
        if let Dest::As { dir_only: true, .. } = self
            && !is_dir
        {
            return Err(DestError::FileAtDirectoryPath(shown(&path)));
        }
        let existing = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(DestError::Io {
                    path: shown(&path),
                    message: e.to_string(),
                });
            }
        };
        if !force {
            return Err(DestError::Exists(shown(&path)));
        }
        match (existing.is_dir(), is_dir) {
            (false, true) => Err(DestError::DirectoryOverFile(shown(&path))),
            (true, false) => Err(DestError::FileOverDirectory(shown(&path))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn into_an_existing_directory_else_as_the_path() {
        assert_eq!(
            place(&p("logs"), Existing::Dir, 1, false),
            Ok(Dest::Into(p("logs")))
        );
        assert_eq!(
            place(&p("logs"), Existing::Dir, 1, true),
            Ok(Dest::As {
                path: p("logs"),
                dir_only: false
            })
        );
        assert_eq!(
            place(&p("crash/"), Existing::Missing, 1, false),
            Ok(Dest::As {
                path: p("crash/"),
                dir_only: true
            })
        );
        assert_eq!(
            place(&p("syslog"), Existing::NonDir, 1, false),
            Ok(Dest::As {
                path: p("syslog"),
                dir_only: false
            })
        );
        assert_eq!(
            place(&p("x"), Existing::Dir, 2, false),
            Ok(Dest::Into(p("x")))
        );
        for (existing, t) in [
            (Existing::Missing, false),
            (Existing::NonDir, false),
            (Existing::Dir, true),
        ] {
            assert_eq!(
                place(&p("x"), existing, 2, t),
                Err(DestError::NotADirectory("x".into()))
            );
        }
    }

    #[test]
    fn final_paths_and_their_directory() {
        let into = Dest::Into(p("/tmp/d"));
        assert_eq!(into.final_path(OsStr::new("syslog")), p("/tmp/d/syslog"));
        assert_eq!(into.parent(), p("/tmp/d"));
        let bare = Dest::As {
            path: p("syslog"),
            dir_only: false,
        };
        assert_eq!(bare.final_path(OsStr::new("other")), p("syslog"));
        assert_eq!(bare.parent(), p("."));
    }

    #[test]
    fn nothing_is_overwritten_without_force() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), "x").unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        let into = Dest::Into(dir.path().to_path_buf());
        let names = |n: &[&str]| n.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(matches!(
            into.check(&names(&["f"]), false),
            Err(DestError::Exists(_))
        ));
        assert!(into.check(&names(&["f"]), true).is_ok());
        assert!(into.check(&names(&["new"]), false).is_ok());
        assert!(matches!(
            into.check_kind(OsStr::new("f"), true, true),
            Err(DestError::DirectoryOverFile(_))
        ));
        assert!(matches!(
            into.check_kind(OsStr::new("d"), false, true),
            Err(DestError::FileOverDirectory(_))
        ));
        assert!(into.check_kind(OsStr::new("d"), true, true).is_ok());
        let missing_parent = Dest::As {
            path: dir.path().join("no/such"),
            dir_only: false,
        };
        assert!(matches!(
            missing_parent.check(&names(&["a"]), false),
            Err(DestError::NoParent { .. })
        ));
        let slash = Dest::As {
            path: dir.path().join("new/"),
            dir_only: true,
        };
        assert!(matches!(
            slash.check_kind(OsStr::new("a"), false, false),
            Err(DestError::FileAtDirectoryPath(_))
        ));
    }
}
