//! How long after toolbox started each step of a session ended, for `-v`:
//! where a session's time goes (connecting, the pod created, running, the
//! first output, the end, the pod deleted).

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Starts the clock; the binary calls this first thing.
pub fn start() {
    START.get_or_init(Instant::now);
}

/// Logs that `what` just happened, with the time since [`start`].
pub fn step(what: &str) {
    let elapsed = START.get_or_init(Instant::now).elapsed();
    tracing::debug!(
        target: "toolbox_cluster::steps",
        "step: {what} at {:.1} ms",
        elapsed.as_secs_f64() * 1000.0
    );
}
