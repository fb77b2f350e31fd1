//! Where a dump is written: a directory, or a gzip'd tar, never half-written
//! under its final name. Items are written into a temporary directory
//! beside the destination; at the end the index goes in, and the directory
//! is renamed to its final name, or tarred and gzipped into a temporary
//! file that is renamed. An existing destination is never replaced (the
//! rename itself refuses one), and a bundle dropped unfinished (an error,
//! Ctrl-C) removes its temporary files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use super::index::Index;

/// Where the bundle goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Directory(PathBuf),
    /// A path that ends in `.tar.gz` (or `.tgz`).
    TarGz(PathBuf),
}

impl Destination {
    /// `-o PATH`: a gzip'd tar for `.tar.gz` and `.tgz`, else a directory.
    pub fn from_output(path: &Path) -> Destination {
        let name = path.to_string_lossy();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Destination::TarGz(path.to_path_buf())
        } else {
            Destination::Directory(path.to_path_buf())
        }
    }

    /// The default: a new directory `toolbox-dump-TIMESTAMP` here, the time
    /// compact (`20261204T101500Z`).
    pub fn default_at(rfc3339: &str) -> Destination {
        let compact: String = rfc3339
            .chars()
            .filter(|c| !matches!(c, '-' | ':'))
            .collect();
        Destination::Directory(PathBuf::from(format!("toolbox-dump-{compact}")))
    }

    pub fn path(&self) -> &Path {
        match self {
            Destination::Directory(path) | Destination::TarGz(path) => path,
        }
    }

    /// The bundle's top directory inside a tar (its file name less
    /// `.tar.gz`), or the directory's own name.
    fn root_name(&self) -> String {
        let name = self
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "toolbox-dump".into());
        match self {
            Destination::Directory(_) => name,
            Destination::TarGz(_) => name
                .trim_end_matches(".tar.gz")
                .trim_end_matches(".tgz")
                .to_string(),
        }
    }
}

/// A bundle cannot be written, in one line.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(
        "{path} already exists: toolbox dump never replaces a file or directory; name another with -o"
    )]
    Exists { path: String },
    #[error("{path}: the directory to write the bundle in does not exist")]
    NoParent { path: String },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BundleError {
    let path = path.display().to_string();
    move |source| BundleError::Io { what, path, source }
}

/// A bundle being written.
#[derive(Debug)]
pub struct Bundle {
    destination: Destination,
    /// The temporary directory the items are written into.
    build: PathBuf,
    /// The temporary tar.gz, while it is written.
    partial: Option<PathBuf>,
    finished: bool,
}

impl Bundle {
    /// Starts a bundle for `destination`, which must not exist yet and
    /// whose directory must: checked before any request is made.
    pub fn create(destination: Destination, unique: &str) -> Result<Bundle, BundleError> {
        let path = destination.path();
        if path.symlink_metadata().is_ok() {
            return Err(BundleError::Exists {
                path: path.display().to_string(),
            });
        }
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(BundleError::NoParent {
                path: path.display().to_string(),
            });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let build = parent.join(format!(".{name}.partial-{unique}"));
        std::fs::create_dir(&build).map_err(io_error("cannot create", &build))?;
        Ok(Bundle {
            destination,
            build,
            partial: None,
            finished: false,
        })
    }

    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// The file of item `name` (`NAME` or `NAME/PATH`) of `node`: its path
    /// relative to the bundle's root, and where it is written now. Its
    /// directories are made.
    pub fn item_file(&self, node: &str, name: &str) -> Result<(String, PathBuf), BundleError> {
        let relative = format!("nodes/{node}/{name}");
        let safe = Path::new(&relative)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(BundleError::Io {
                what: "refused to write",
                path: relative,
                source: std::io::Error::other("a path that leaves the bundle"),
            });
        }
        let path = self.build.join(&relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error("cannot create", dir))?;
        }
        Ok((relative, path))
    }

    /// Writes the index and moves the bundle to its final name; the path.
    pub fn finish(mut self, index: &Index) -> Result<PathBuf, BundleError> {
        let index_path = self.build.join("index.json");
        let json = serde_json::to_vec_pretty(index).map_err(|e| BundleError::Io {
            what: "cannot write",
            path: index_path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        write_synced(&index_path, &json)?;
        let destination = self.destination.path().to_path_buf();
        match &self.destination {
            Destination::Directory(_) => {
                rename_new(&self.build, &destination)?;
            }
            Destination::TarGz(_) => {
                let partial = PathBuf::from(format!("{}.tar.gz", self.build.display()));
                self.partial = Some(partial.clone());
                self.write_tar(&partial)?;
                rename_new(&partial, &destination)?;
                self.partial = None;
                let _ = std::fs::remove_dir_all(&self.build);
            }
        }
        self.finished = true;
        Ok(destination)
    }

    fn write_tar(&self, partial: &Path) -> Result<(), BundleError> {
        let fail = || io_error("cannot write", partial);
        let file = File::create_new(partial).map_err(fail())?;
        let gzip =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
        let mut tar = tar::Builder::new(gzip);
        tar.follow_symlinks(false);
        tar.append_dir_all(self.destination.root_name(), &self.build)
            .map_err(fail())?;
        let file = tar
            .into_inner()
            .and_then(|gzip| gzip.finish())
            .and_then(|buffered| buffered.into_inner().map_err(|e| e.into_error()))
            .map_err(fail())?;
        file.sync_all().map_err(fail())
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.build);
            if let Some(partial) = &self.partial {
                let _ = std::fs::remove_file(partial);
            }
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let fail = || io_error("cannot write", path);
    let mut file = File::create_new(path).map_err(fail())?;
    file.write_all(bytes).map_err(fail())?;
    file.sync_all().map_err(fail())
}

/// Renames `from` to `to`, refusing to replace anything at `to` (even an
/// empty directory, which a plain rename(2) would).
fn rename_new(from: &Path, to: &Path) -> Result<(), BundleError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::EXIST) => Err(BundleError::Exists {
            path: to.display().to_string(),
        }),
        // A file system without RENAME_NOREPLACE: checked, then renamed.
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) if !to.exists() => {
            std::fs::rename(from, to).map_err(io_error("cannot rename to", to))
        }
        Err(err) => Err(io_error("cannot rename to", to)(err.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::caps::Caps;
    use crate::dump::index::RunFacts;

    fn index() -> Index {
        let run = RunFacts {
            context: "c".into(),
            spec: "built-in".into(),
            since: "1h".into(),
            since_time: "t".into(),
            pod_logs: false,
            namespace: "default".into(),
        };
        let caps = Caps {
            max_per_node: 1,
            max_total: 1,
        };
        Index::new("t".into(), run, caps, Vec::new())
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("toolbox-bundle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_directory_appears_whole_under_its_name_and_never_replaces_one() {
        let dir = scratch("dir");
        let target = dir.join("out");
        let bundle = Bundle::create(Destination::Directory(target.clone()), "a").unwrap();
        let (relative, path) = bundle.item_file("node-1", "df.txt").unwrap();
        assert_eq!(relative, "nodes/node-1/df.txt");
        std::fs::write(&path, "x").unwrap();
        assert!(
            !target.exists(),
            "nothing under the final name before the end"
        );
        assert_eq!(bundle.finish(&index()).unwrap(), target);
        assert_eq!(
            std::fs::read_to_string(target.join("nodes/node-1/df.txt")).unwrap(),
            "x"
        );
        assert!(target.join("index.json").is_file());
        let again = Bundle::create(Destination::Directory(target.clone()), "b");
        assert!(matches!(again, Err(BundleError::Exists { .. })));
        assert!(bundle_leftovers(&dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_tar_gz_holds_the_bundle_under_its_own_name() {
        let dir = scratch("tar");
        let target = dir.join("dump.tar.gz");
        let destination = Destination::from_output(&target);
        assert!(matches!(destination, Destination::TarGz(_)));
        let bundle = Bundle::create(destination, "a").unwrap();
        let (_, path) = bundle.item_file("n", "a.txt").unwrap();
        std::fs::write(&path, "hello").unwrap();
        bundle.finish(&index()).unwrap();
        let file = File::open(&target).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .filter(|p| !p.ends_with('/'))
            .collect();
        names.sort();
        assert!(names.contains(&"dump/index.json".to_string()), "{names:?}");
        assert!(
            names.contains(&"dump/nodes/n/a.txt".to_string()),
            "{names:?}"
        );
        assert!(bundle_leftovers(&dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unfinished_bundle_leaves_nothing_and_paths_stay_inside() {
        let dir = scratch("drop");
        let bundle = Bundle::create(Destination::Directory(dir.join("out")), "a").unwrap();
        assert!(bundle.item_file("n", "../../etc/x").is_err());
        let (_, path) = bundle.item_file("n", "pod-logs/ns_p_1/c/0.log").unwrap();
        std::fs::write(path, "x").unwrap();
        drop(bundle);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        assert!(matches!(
            Bundle::create(Destination::Directory(dir.join("no/such/out")), "a"),
            Err(BundleError::NoParent { .. })
        ));
        assert_eq!(
            Destination::default_at("2026-12-04T10:15:00Z"),
            Destination::Directory(PathBuf::from("toolbox-dump-20261204T101500Z"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn bundle_leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".partial-"))
            .collect()
    }
}
