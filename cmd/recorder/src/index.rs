//! Reading the node's recordings back: `index` (one JSON line per `*.cast`,
//! in id order) and `cat` (one recording's bytes). `toolbox sessions` runs
//! them in a short-lived pod on the node once the session's pod is gone.
//!
//! A recording may be cut anywhere (the pod killed, the disk full): it is
//! read up to its last whole event, and marked truncated when its last line
//! is not whole or no exit marker ends it. Only the first line and the tail
//! are read, so a big recording costs little to index.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use toolbox_recording::Event;
use toolbox_recording::cast::header_of;

/// One line of `index`.
#[derive(Debug, Serialize, PartialEq)]
pub struct Entry {
    pub id: String,
    pub size: u64,
    /// RFC 3339, UTC.
    pub modified: String,
    /// The header object, or null when the first line is not one.
    pub header: Option<Value>,
    /// The time of the last whole event, in seconds.
    pub duration: f64,
    pub exit: Option<i64>,
    pub truncated: bool,
}

#[derive(Debug)]
pub enum IndexError {
    NoDirectory,
    Io(io::Error),
}

/// Writes one JSON line per recording in `dir` to `out`.
pub fn index(dir: &Path, out: &mut impl Write) -> Result<(), IndexError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(IndexError::NoDirectory),
        Err(e) => return Err(IndexError::Io(e)),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.metadata().is_ok_and(|m| m.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".cast"))
        .collect();
    names.sort();
    for name in names {
        // A recording removed meanwhile (retention) is left out.
        let Ok(entry) = inspect(&dir.join(&name)) else {
            continue;
        };
        serde_json::to_writer(&mut *out, &entry).map_err(|e| IndexError::Io(e.into()))?;
        out.write_all(b"\n").map_err(IndexError::Io)?;
    }
    Ok(())
}

/// How much of a recording's end is read for its last events first: more
/// than two whole events of the biggest kind (a 64 KiB read, escaped).
const TAIL: u64 = 1 << 20;

/// The index entry of one recording.
pub fn inspect(path: &Path) -> io::Result<Entry> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let size = meta.len();
    let id = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".cast"))
        .unwrap_or_default()
        .to_owned();

    let mut first = Vec::new();
    BufReader::new(&mut file)
        .take(TAIL)
        .read_until(b'\n', &mut first)?;
    // A first line that is not an asciicast v2 header is none: the
    // recording is corrupt, as `toolbox sessions get` judges it too.
    let header = first
        .strip_suffix(b"\n")
        .and_then(|line| serde_json::from_slice::<Value>(line).ok())
        .and_then(|value| header_of(value).ok())
        .map(Value::Object);

    let mut start = size.saturating_sub(TAIL);
    let (last, ends_whole) = loop {
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        Read::by_ref(&mut file)
            .take(size - start)
            .read_to_end(&mut tail)?;
        let last = last_event(&tail, start > 0);
        if last.is_some() || start == 0 {
            break (last, tail.last().is_none_or(|&b| b == b'\n'));
        }
        start = 0;
    };
    let (duration, exit) = match &last {
        Some(event) => (event.time, event.exit),
        None => (0.0, None),
    };
    Ok(Entry {
        id,
        size,
        modified: rfc3339(meta.modified()?),
        header,
        duration,
        exit,
        truncated: !ends_whole || exit.is_none(),
    })
}

struct LastEvent {
    time: f64,
    exit: Option<i64>,
}

/// The last whole event in `tail`, whose first line is cut when
/// `starts_mid_file`. An event is what `toolbox sessions` reads as one
/// (pkg/recording's [`Event`]).
fn last_event(tail: &[u8], starts_mid_file: bool) -> Option<LastEvent> {
    let mut lines: Vec<&[u8]> = tail.split_inclusive(|&b| b == b'\n').collect();
    if starts_mid_file && !lines.is_empty() {
        lines.remove(0);
    }
    lines
        .iter()
        .rev()
        .filter_map(|line| line.strip_suffix(b"\n"))
        .find_map(|line| {
            let event = Event::from_value(&serde_json::from_slice::<Value>(line).ok()?)?;
            Some(LastEvent {
                time: event.time,
                exit: event.exit_status(),
            })
        })
}

#[derive(Debug)]
pub enum CatError {
    Unknown(String),
    Io(io::Error),
}

/// Copies the recording of session `id` to `out`.
pub fn cat(dir: &Path, id: &str, out: &mut impl Write) -> Result<(), CatError> {
    let mut file = match File::open(dir.join(format!("{id}.cast"))) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CatError::Unknown(id.to_owned()));
        }
        Err(e) => return Err(CatError::Io(e)),
    };
    io::copy(&mut file, out).map_err(CatError::Io)?;
    out.flush().map_err(CatError::Io)
}

/// A time as RFC 3339 in UTC, to the second (`2026-12-03T00:00:00Z`).
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "toolbox-recorder-index-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    const HEADER: &str = r#"{"version":2,"width":80,"height":24,"timestamp":1,"command":"sh","env":{},"toolbox":{"session":"a"}}"#;

    fn entries(dir: &Path) -> Vec<Value> {
        let mut out = Vec::new();
        index(dir, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn whole_truncated_and_corrupt_recordings() {
        let dir = temp_dir("kinds");
        let whole = format!("{HEADER}\n[0.5,\"o\",\"hi\\r\\n\"]\n[1.25,\"m\",\"exit 3\"]\n");
        fs::write(dir.join("a.cast"), &whole).unwrap();
        // Killed mid-write: the last line is cut.
        fs::write(
            dir.join("b.cast"),
            format!("{HEADER}\n[0.5,\"o\",\"hi\"]\n[0.7,\"o\",\"th"),
        )
        .unwrap();
        // Ended by a kill between two events: whole lines, no exit marker.
        fs::write(
            dir.join("c.cast"),
            format!("{HEADER}\n[2.5,\"r\",\"100x40\"]\n"),
        )
        .unwrap();
        // Not a recording at all.
        fs::write(dir.join("d.cast"), "garbage\n\u{0}\u{1}").unwrap();
        fs::write(dir.join("e.cast"), "").unwrap();
        // JSON, but not an asciicast v2 header.
        fs::write(
            dir.join("f.cast"),
            "{\"version\":1}\n[0.1,\"m\",\"exit 0\"]\n",
        )
        .unwrap();
        fs::write(dir.join("notes.txt"), "x").unwrap();
        let got = entries(&dir);
        let ids: Vec<&str> = got.iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(got[0]["size"], whole.len());
        assert_eq!(got[0]["header"]["command"], "sh");
        assert_eq!(
            (
                got[0]["duration"].as_f64(),
                got[0]["exit"].as_i64(),
                got[0]["truncated"].as_bool()
            ),
            (Some(1.25), Some(3), Some(false))
        );
        assert_eq!(
            (
                got[1]["duration"].as_f64(),
                got[1]["exit"].as_i64(),
                got[1]["truncated"].as_bool()
            ),
            (Some(0.5), None, Some(true))
        );
        assert_eq!(
            (
                got[2]["duration"].as_f64(),
                got[2]["exit"].as_i64(),
                got[2]["truncated"].as_bool()
            ),
            (Some(2.5), None, Some(true))
        );
        assert_eq!(
            (
                got[3]["header"].is_null(),
                got[3]["duration"].as_f64(),
                got[3]["truncated"].as_bool()
            ),
            (true, Some(0.0), Some(true))
        );
        assert_eq!(
            (got[4]["header"].is_null(), got[4]["truncated"].as_bool()),
            (true, Some(true))
        );
        assert!(got[5]["header"].is_null(), "{:?}", got[5]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_big_recording_is_read_from_its_tail() {
        let dir = temp_dir("big");
        let mut body = format!("{HEADER}\n");
        let line = format!("[1.0,\"o\",\"{}\"]\n", "x".repeat(1000));
        for _ in 0..3000 {
            body.push_str(&line);
        }
        body.push_str("[9.5,\"m\",\"exit 0\"]\n");
        fs::write(dir.join("big.cast"), &body).unwrap();
        // One event longer than the tail window: the whole file is read.
        let long = format!("{HEADER}\n[4.0,\"o\",\"{}\"]\n", "y".repeat(3 << 20));
        fs::write(dir.join("long.cast"), long + "[4.5,\"o\",\"cut").unwrap();
        let got = entries(&dir);
        assert_eq!(
            (got[0]["duration"].as_f64(), got[0]["exit"].as_i64()),
            (Some(9.5), Some(0))
        );
        assert_eq!(
            (got[1]["duration"].as_f64(), got[1]["truncated"].as_bool()),
            (Some(4.0), Some(true))
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_its_own_error() {
        assert!(matches!(
            index(Path::new("/nonexistent/toolbox"), &mut Vec::new()),
            Err(IndexError::NoDirectory)
        ));
    }

    #[test]
    fn cat_copies_the_bytes_and_knows_an_unknown_id() {
        let dir = temp_dir("cat");
        fs::write(dir.join("a.cast"), "x\ny").unwrap();
        let mut out = Vec::new();
        cat(&dir, "a", &mut out).unwrap();
        assert_eq!(out, b"x\ny");
        assert!(matches!(cat(&dir, "b", &mut out), Err(CatError::Unknown(id)) if id == "b"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_796_256_000 + 3661)),
            "2026-12-03T01:01:01Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
