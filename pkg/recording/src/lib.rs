//! Reading toolbox's session recordings back: pure functions from the
//! bytes a recording is kept in (the node's `.cast` file, or the lines of a
//! pod's container log) to what `toolbox sessions` shows. Nothing here
//! talks to a cluster or a terminal, or reads a clock; the recorder that
//! writes recordings is `cmd/recorder` (docs/recorder.md).
//!
//! 1. [`cast`]: one recording in asciicast v2, parsed up to its last whole
//!    event, and marked truncated when it was cut (a last line cut mid-way,
//!    a corrupt line, no `exit N` marker). A bad header is [`Corrupt`].
//! 2. [`log`]: the container log's lines (`{"session":ID,"cast":LINE}`),
//!    split per session, with the output events the recorder split to fit
//!    a log line joined again.
//! 3. [`summary`]: one row of `toolbox sessions list`, from a recording,
//!    from a line of the recorder's `index`, and the merge of a session
//!    seen both in a log and in a node's file.
//! 4. [`text`]: the plain output, escape sequences removed, for grep.
//! 5. [`play`]: when each output event of a replay is due, at a speed and
//!    with idle gaps capped.
//!
//! [`id`] checks a session id and names the node it ran on; [`message`]
//! is a stream-less run's output in its termination message, written by
//! the recorder's `run` and read by toolbox.

pub mod cast;
pub mod id;
pub mod log;
pub mod message;
pub mod play;
pub mod summary;
pub mod text;

pub use cast::{Corrupt, Event, Recording, parse};
pub use id::{InvalidId, node_of, validate};
pub use log::{Logged, sessions_in_log};
pub use play::{Frame, schedule};
pub use summary::{Location, State, Summary, merge};
pub use text::plain_text;
