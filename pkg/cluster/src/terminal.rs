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
