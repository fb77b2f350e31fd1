//! Retention of the node's recordings, run at each `record` start: recordings
//! older than [`MAX_AGE`] go, then the oldest until the directory holds less
//! than [`MAX_TOTAL`]. A recording another session is writing (it holds a
//! shared `flock`, see [`crate::sinks::create_file`]) is never deleted, nor
//! counted out of the total: the node's disk stays bounded by what is done
//! at once, not by what was done over time.

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::sys;

pub const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
pub const MAX_TOTAL: u64 = 1 << 30;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_age: Duration,
    pub max_total: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_age: MAX_AGE,
            max_total: MAX_TOTAL,
        }
    }
}

struct Recording {
    path: PathBuf,
    modified: SystemTime,
    size: u64,
}

/// Deletes what the limits say and returns the paths deleted, oldest first.
/// Best effort: a file that cannot be read or removed is left.
pub fn prune(dir: &Path, now: SystemTime, limits: Limits) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut recordings: Vec<Recording> = entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".cast"))
        .filter_map(|entry| {
            // Not followed: a link is not a recording, whatever it points at.
            let meta = entry.metadata().ok().filter(|m| m.is_file())?;
            Some(Recording {
                path: entry.path(),
                modified: meta.modified().ok()?,
                size: meta.len(),
            })
        })
        .collect();
    recordings.sort_by_key(|r| (r.modified, r.path.clone()));
    let mut total: u64 = recordings.iter().map(|r| r.size).sum();
    let mut removed = Vec::new();
    for recording in recordings {
        let too_old = now
            .duration_since(recording.modified)
            .is_ok_and(|age| age > limits.max_age);
        if !too_old && total < limits.max_total {
            continue;
        }
        if remove_unless_written(&recording.path) {
            total -= recording.size;
            removed.push(recording.path);
        }
    }
    removed
}

/// Removes a recording unless a recorder holds its lock; the exclusive lock
/// is held across the removal so no recorder can be mid-way.
fn remove_unless_written(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    match sys::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) {
        Ok(true) => fs::remove_file(path).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::create_file;

    fn recording(dir: &Path, name: &str, size: usize, modified: SystemTime) {
        let path = dir.join(name);
        fs::write(&path, vec![b'x'; size]).unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "toolbox-recorder-retention-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn old_recordings_go_first_then_the_oldest_until_under_the_size() {
        let dir = temp_dir("age-size");
        let now = SystemTime::now();
        let day = Duration::from_secs(24 * 3600);
        recording(&dir, "ancient.cast", 10, now - 40 * day);
        recording(&dir, "old.cast", 400, now - 3 * day);
        recording(&dir, "middle.cast", 400, now - 2 * day);
        recording(&dir, "new.cast", 400, now - day);
        recording(&dir, "notes.txt", 5000, now - 90 * day);
        let limits = Limits {
            max_age: 30 * day,
            max_total: 1000,
        };
        let removed = prune(&dir, now, limits);
        assert_eq!(removed, [dir.join("ancient.cast"), dir.join("old.cast")]);
        assert_eq!(names(&dir), ["middle.cast", "new.cast", "notes.txt"]);
        // Under both limits now: nothing more goes.
        assert!(prune(&dir, now, limits).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_recording_being_written_is_never_deleted() {
        let dir = temp_dir("busy");
        let now = SystemTime::now();
        let (file, _) = create_file(&dir, "busy").unwrap();
        file.set_modified(now - Duration::from_secs(90 * 24 * 3600))
            .unwrap();
        let limits = Limits {
            max_age: Duration::from_secs(1),
            max_total: 0,
        };
        assert!(prune(&dir, now, limits).is_empty());
        drop(file);
        assert_eq!(prune(&dir, now, limits), [dir.join("busy.cast")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_prunes_nothing() {
        assert!(
            prune(
                Path::new("/nonexistent/toolbox"),
                SystemTime::now(),
                Limits::default()
            )
            .is_empty()
        );
    }
}
