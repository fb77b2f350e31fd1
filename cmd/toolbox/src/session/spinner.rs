//! Progress on stderr, only when stderr is a terminal (progress is for a
//! person watching): the spinner of a single session while its pod starts
//! ([`Spinner`], which also prints the line a command announces once the
//! pod exists), and the bare spinner a fan-out run shows its counts on
//! ([`terminal_spinner`]).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use toolbox_cluster::{Progress, WaitState};

/// A spinner with a message on stderr, only when stderr is a terminal:
/// progress is for a person watching.
pub fn terminal_spinner() -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    })
}

/// A spinner on stderr while the pod starts, only when stderr is a terminal.
pub struct Spinner {
    bar: Option<ProgressBar>,
    prefix: String,
    announce: Option<Announce>,
}

/// The line to print once the session's pod exists (its name, and whether
/// it was a persisting pod reused), as kubectl debug prints its own.
pub type Announce = Box<dyn Fn(&str, bool) -> String + Send + Sync>;

impl Spinner {
    pub fn new(prefix: String, announce: Option<Announce>) -> Spinner {
        let bar = terminal_spinner();
        if let Some(bar) = &bar {
            bar.set_message(prefix.clone());
        }
        Spinner {
            bar,
            prefix,
            announce,
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Spinner {
    fn wants_events(&self) -> bool {
        self.bar.is_some()
    }

    fn waiting(&self, state: &WaitState) {
        if let Some(bar) = &self.bar {
            let mut message = format!("{}: {}", self.prefix, state.phase);
            if let Some(detail) = &state.detail {
                message.push_str(&format!(" ({detail})"));
            }
            if let Some(event) = &state.last_event {
                message.push_str(&format!(" - {event}"));
            }
            bar.set_message(message);
        }
    }

    fn started(&self) {
        self.finish();
    }

    fn pod_ready(&self, pod: &str, reused: bool) {
        if let Some(announce) = &self.announce {
            self.note(&announce(pod, reused));
        }
    }

    fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}
