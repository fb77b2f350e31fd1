//! A replay's timing: when each output event is due, from the start of the
//! replay. `speed` divides every gap; `idle_limit` caps a gap before that,
//! as `asciinema play -i` does, so a long pause (someone reading a man page)
//! takes at most that long. Only output is replayed: input is what the
//! output echoed already, and a resize cannot be done to the viewer's
//! terminal, so both only count for the timing.

use std::time::Duration;

use crate::cast::Event;

/// One output event and when it is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame<'a> {
    pub at: Duration,
    pub data: &'a str,
}

/// The frames of `events` at `speed` (above 0), with gaps capped at
/// `idle_limit` seconds.
pub fn schedule(events: &[Event], speed: f64, idle_limit: Option<f64>) -> Vec<Frame<'_>> {
    let mut frames = Vec::new();
    let (mut last, mut elapsed) = (0.0_f64, 0.0_f64);
    for event in events {
        let mut gap = (event.time - last).max(0.0);
        if let Some(limit) = idle_limit {
            gap = gap.min(limit);
        }
        elapsed += gap;
        last = event.time;
        if event.code == "o" {
            frames.push(Frame {
                at: Duration::from_secs_f64(elapsed / speed),
                data: &event.data,
            });
        }
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time: f64, code: &str, data: &str) -> Event {
        Event {
            time,
            code: code.into(),
            data: data.into(),
        }
    }

    fn ats(frames: &[Frame<'_>]) -> Vec<f64> {
        frames.iter().map(|f| f.at.as_secs_f64()).collect()
    }

    #[test]
    fn speed_divides_and_the_idle_limit_caps_each_gap() {
        let events = [
            event(1.0, "o", "a"),
            event(2.0, "r", "10x10"),
            event(12.0, "o", "b"),
            event(12.5, "o", "c"),
            event(13.0, "m", "exit 0"),
        ];
        let frames = schedule(&events, 1.0, None);
        assert_eq!(ats(&frames), [1.0, 12.0, 12.5]);
        assert_eq!(
            frames.iter().map(|f| f.data).collect::<String>(),
            "abc",
            "output only, in order"
        );
        assert_eq!(ats(&schedule(&events, 2.0, None)), [0.5, 6.0, 6.25]);
        // 1 + (1 + 2 capped from 10) + 0.5
        assert_eq!(ats(&schedule(&events, 1.0, Some(2.0))), [1.0, 4.0, 4.5]);
        assert_eq!(ats(&schedule(&events, 2.0, Some(2.0))), [0.5, 2.0, 2.25]);
    }

    #[test]
    fn a_time_that_goes_back_is_no_gap() {
        let events = [event(2.0, "o", "a"), event(1.0, "o", "b")];
        assert_eq!(ats(&schedule(&events, 1.0, None)), [2.0, 2.0]);
    }
}
