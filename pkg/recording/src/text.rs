//! A recording as plain text, for grep: the output events joined, with the
//! terminal's escape sequences (colours, cursor moves, titles) removed by
//! `strip-ansi-escapes`, and a terminal's `\r\n` line ends made `\n`.

use crate::cast::Recording;

/// What the session showed, as text.
pub fn plain_text(recording: &Recording) -> String {
    let output: String = recording
        .events
        .iter()
        .filter(|e| e.code == "o")
        .map(|e| e.data.as_str())
        .collect();
    // A terminal's line ends are \r\n; grep wants \n.
    let output = output.replace("\r\n", "\n");
    strip_ansi_escapes::strip_str(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cast::Event;

    fn recording(outputs: &[&str]) -> Recording {
        let mut events: Vec<Event> = outputs
            .iter()
            .enumerate()
            .map(|(i, data)| Event {
                time: i as f64,
                code: "o".into(),
                data: (*data).into(),
            })
            .collect();
        events.insert(
            1,
            Event {
                time: 0.5,
                code: "r".into(),
                data: "10x10".into(),
            },
        );
        Recording::new(serde_json::Map::new(), events, false)
    }

    #[test]
    fn escapes_are_removed_and_line_ends_made_plain() {
        let rec = recording(&[
            "\u{1b}]0;root@node-1: ~\u{7}\u{1b}[01;32mroot@node-1\u{1b}[00m:~# ",
            "ls\r\n\u{1b}[0m\u{1b}[01;34mdir\u{1b}[0m  file\r\n",
            "\u{1b}[?2004lexit\r\n",
        ]);
        assert_eq!(plain_text(&rec), "root@node-1:~# ls\ndir  file\nexit\n");
    }

    #[test]
    fn a_split_escape_sequence_is_still_removed() {
        // The recorder cuts events where reads end, not where sequences do.
        let rec = recording(&["a\u{1b}[3", "1mred\u{1b}[0m\n"]);
        assert_eq!(plain_text(&rec), "ared\n");
    }
}
