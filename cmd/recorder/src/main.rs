//! `toolbox-recorder`: the command line over the library, with the sinks
//! fixed. Exit codes: the recorded command's status for `record` and `run` (126/127
//! when it could not start or could not be recorded), 126 for a `send` or
//! `receive` that could not be recorded, the command's status for `enter`
//! (125 when the container has no process on the node, 126/127 when it
//! could not be entered or run), 1 for a failed `index`, `cat`,
//! `send`, `receive` or `install`, 2 for a command line it refuses.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use toolbox_recorder::cli::{self, Command};
use toolbox_recorder::index::{self, CatError, IndexError};
use toolbox_recorder::record::{self, SinkPaths};
use toolbox_recorder::transfer::{self, Root};
use toolbox_recorder::{PROC_ROOT, SESSIONS_DIR, enter, install, run, sinks, sys};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("toolbox-recorder: {e}");
            eprint!("{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    // Where `record` writes, `index` and `cat` read: the mounted directory,
    // or the node's through its init (see sinks::sessions_dir).
    let sessions = || {
        sinks::sessions_dir(Path::new(PROC_ROOT), Path::new(SESSIONS_DIR), true)
            .unwrap_or_else(|_| SESSIONS_DIR.into())
    };
    match command {
        Command::Help => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Command::Record(args) => {
            ExitCode::from(record::record(&args, &SinkPaths::fixed()).clamp(0, 255) as u8)
        }
        Command::Run(args) => exit(run::run(
            &args,
            &SinkPaths::fixed(),
            Path::new(run::MESSAGE_PATH),
        )),
        Command::Index => {
            let sessions = sessions();
            let sessions = sessions.as_path();
            let mut out = std::io::stdout().lock();
            match index::index(sessions, &mut out)
                .and_then(|()| out.flush().map_err(IndexError::Io))
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(IndexError::NoDirectory) => {
                    eprintln!("no sessions directory");
                    ExitCode::SUCCESS
                }
                Err(IndexError::Io(e)) => fail(format_args!("index: {}: {e}", sessions.display())),
            }
        }
        Command::Cat { id } => match index::cat(&sessions(), &id, &mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(CatError::Unknown(id)) => {
                fail(format_args!("no recording of session {id} on this node"))
            }
            Err(CatError::Io(e)) => fail(format_args!("cat {id}: {e}")),
        },
        Command::Send(args) => {
            let out = stdout_file();
            sys::grow_pipe(1);
            exit(transfer::send(&args, &SinkPaths::fixed(), Root::Node, out))
        }
        Command::Receive(args) => {
            sys::grow_pipe(0);
            let input = std::io::stdin().lock();
            let out = std::io::stdout().lock();
            exit(transfer::receive(
                &args,
                &SinkPaths::fixed(),
                Root::Node,
                input,
                out,
            ))
        }
        Command::Enter(args) => exit(enter::enter(&args, Path::new(PROC_ROOT))),
        Command::Install { dest } => {
            match install::install(Path::new("/proc/self/exe"), Path::new(&dest)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format_args!("install {}: {e}", Path::new(&dest).display())),
            }
        }
    }
}

fn exit(status: i32) -> ExitCode {
    ExitCode::from(status.clamp(0, 255) as u8)
}

/// fd 1 as a file: the stream goes out in the sender's own large writes,
/// not through the line buffering of `std::io::stdout`.
fn stdout_file() -> std::fs::File {
    use std::os::fd::FromRawFd;
    // SAFETY: fd 1 is this process's stdout, open for its whole life, and
    // nothing else here writes to it while the stream is sent.
    unsafe { std::fs::File::from_raw_fd(1) }
}

fn fail(message: std::fmt::Arguments<'_>) -> ExitCode {
    eprintln!("toolbox-recorder: {message}");
    ExitCode::FAILURE
}
