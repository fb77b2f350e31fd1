//! The session lifecycle: the one path every toolbox pod takes, for a
//! node-shell or debug-node session, a `--persist` reuse, and each node of
//! a fan-out run.
//!
//! A session goes through these phases, each in a file of its own:
//!
//! 1. **create** ([`create`]): the pod is created, and a default lifetime
//!    the namespace refuses as too long is fitted to its maximum
//!    ([`lifetime`]). A refusal becomes one line that says why
//!    ([`podsecurity`] names the level a PodSecurity refusal needs).
//! 2. **start** ([`start`]): one watch ([`watch`]) follows the pod until it
//!    runs, fails, times out, or the link to the API server goes silent;
//!    [`assess`] judges each status the watch brings, with no I/O. The
//!    exec may be tried as soon as the sandbox is up, before Running.
//! 3. **exec** ([`exec`]): the command runs over an exec stream relayed to
//!    the local terminal, or captured line by line for a fan-out run.
//! 4. **end** ([`end`]): one decision, for a pod created for the session
//!    and for a persisting pod it reused alike: keep it, leave it
//!    persisting, or delete it, and say so when it could not be deleted.
//!    [`delete`] holds the guard that deletes the pod on every exit path
//!    (a panic, an early return) and the retries of a deletion.
//!
//! The drivers put the phases together:
//! - [`single`]: one session, [`run`], the entry point of node-shell and
//!   debug-node;
//! - [`reused`]: a session in the user's persisting pod (`--persist`),
//!   found and claimed through [`persist`];
//! - [`fanout`]: many nodes at once, with one watch and batched deletions;
//! - [`captured`]: one session whose output the program reads (`toolbox
//!   sessions`' reader pod), [`run_captured`];
//! - [`piped`]: one session whose stdin, stdout and stderr are all the
//!   program's, settled before its pod is deleted (`toolbox cp`'s stream),
//!   [`run_piped`];
//! - [`held`]: one pod that runs several commands one after another, each
//!   captured, and a writer that refuses output ends its command (`toolbox
//!   dump`'s items), [`run_held`].
//!
//! [`access`] checks beforehand that the identity may open sessions at all.
//! Every phase works through `Pods` ([`pods`]): the cluster context and the Api of
//! its namespace.

pub mod access;
mod assess;
mod captured;
mod create;
mod delete;
mod end;
mod exec;
pub mod fanout;
mod held;
pub(crate) mod lifetime;
mod persist;
mod piped;
mod pods;
pub mod podsecurity;
mod reused;
mod single;
mod spec;
mod start;
mod watch;

pub use captured::run_captured;
pub use delete::PodGuard;
pub use exec::{BoxedReader, BoxedWriter, ExecIo, PipedIo, Settle};
pub use held::{PodExecs, run_held};
pub use piped::{annotate, run_piped};
pub use single::run;
pub use spec::{Progress, SessionOutcome, SessionSpec, Silent, WaitState};
