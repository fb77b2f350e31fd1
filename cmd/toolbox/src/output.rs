//! A command's results on stdout. A reader that goes away (`toolbox
//! sessions list | head`) ends the output, not the command: std's `print!`
//! panics on a closed pipe, and SIGPIPE's default action would kill toolbox
//! before a session's pod or a cleanup's next deletion.

use std::io::Write;

/// Writes `bytes` to stdout, dropping them once stdout's reader has gone.
pub fn write_stdout(bytes: impl AsRef<[u8]>) {
    let mut stdout = std::io::stdout().lock();
    // Nothing is left to tell a reader that has gone; every other write
    // error on a terminal or a file is as final.
    let _ = stdout
        .write_all(bytes.as_ref())
        .and_then(|()| stdout.flush());
}

/// `value` as `-o json` (pretty, one newline at the end) or `-o yaml`
/// prints it; any other format is the caller's own.
pub fn document(value: &impl serde::Serialize, format: &str) -> anyhow::Result<String> {
    Ok(match format {
        "json" => serde_json::to_string_pretty(value)? + "\n",
        _ => serde_yaml::to_string(value)?,
    })
}

/// `print!` that never panics (see the module).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format!($($arg)*))
    };
}

/// `println!` that never panics (see the module).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format!("{}\n", format_args!($($arg)*)))
    };
}
