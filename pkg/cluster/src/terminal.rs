//! The local terminal during an interactive session.

use std::io::IsTerminal;

/// Raw mode for as long as this value lives: every exit path, `?` and
/// panics included, puts the terminal back as it was.
pub struct RawMode(());

impl RawMode {
    pub fn enable() -> std::io::Result<RawMode> {
        crossterm::terminal::enable_raw_mode()?;
        Ok(RawMode(()))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// The mode of the terminal on stdin (its termios) as it was when saved,
/// put back when this value drops.
///
/// A prompt that reads keys puts the terminal in raw mode for each read
/// and back when the read returns. When a signal ends toolbox while the
/// prompt's thread still waits for a key, that read never returns, and
/// only this puts the mode back.
pub struct SavedMode {
    #[cfg(unix)]
    saved: Option<rustix::termios::Termios>,
}

impl SavedMode {
    /// Saves the mode of stdin's terminal; without one there is nothing to
    /// put back.
    pub fn save() -> SavedMode {
        SavedMode {
            #[cfg(unix)]
            saved: rustix::termios::tcgetattr(std::io::stdin()).ok(),
        }
    }
}

impl Drop for SavedMode {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(saved) = &self.saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                saved,
            );
        }
    }
}

/// Keys typed on stdin's terminal neither show nor wait for the shell
/// while this value lives (echo and line editing off; Ctrl-C still raises
/// SIGINT), as a replay wants: what is typed is thrown away when it drops,
/// and the terminal's mode is put back as it was, on every exit path.
pub struct EchoOff {
    #[cfg(unix)]
    saved: SavedMode,
}

impl EchoOff {
    /// Turns echo off on stdin's terminal; without one there is nothing to do.
    pub fn enable() -> std::io::Result<EchoOff> {
        let saved = SavedMode::save();
        #[cfg(unix)]
        if let Some(mode) = &saved.saved {
            use rustix::termios::{LocalModes, OptionalActions, tcsetattr};
            let mut quiet = mode.clone();
            quiet
                .local_modes
                .remove(LocalModes::ECHO | LocalModes::ICANON);
            tcsetattr(std::io::stdin(), OptionalActions::Now, &quiet)?;
        }
        Ok(EchoOff {
            #[cfg(unix)]
            saved,
        })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        if self.saved.saved.is_some() {
            // Keys typed during the replay must not reach the shell after it.
            let _ =
                rustix::termios::tcflush(std::io::stdin(), rustix::termios::QueueSelector::IFlush);
        }
        // `saved` drops next and puts the mode back.
    }
}

/// Whether a session should be interactive: stdin is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// The local terminal's size as (columns, rows).
pub fn terminal_size() -> Option<(u16, u16)> {
    crossterm::terminal::size()
        .ok()
        .filter(|(w, h)| *w > 0 && *h > 0)
}
