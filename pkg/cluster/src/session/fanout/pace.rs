//! How many of a run's creates are in flight at once: up to the run's width
//! while the API server takes them, fewer while it pushes back (a 429, or a
//! 503 with Retry-After: API Priority and Fairness refusing what it cannot
//! take now). As TCP does: a slow start from [`START_WIDTH`], one more at
//! once per create answered (twice as many per round) up to the width or
//! the first push-back; then additive increase, multiplicative decrease:
//! each create answered without a push-back widens the pace by 1/width (one
//! more at once per round), a push-back halves it, at most once per
//! [`CUT_INTERVAL`], since one burst of refusals is one signal, not a
//! hundred.
//!
//! The push-backs are counted on the link ([`Link::pushbacks`]), every
//! request's: the run's creates go through a client without kube's retry
//! (ClientSource::paced_client), and a refused one is sent again by the run
//! after the server's Retry-After, through this pace; the run's other
//! requests (its watch, its deletions) are retried by kube as usual, and
//! their refusals slow the creates too.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::transport::Link;

/// The least time between two cuts of the pace.
pub(super) const CUT_INTERVAL: Duration = Duration::from_secs(1);
/// How many creates a run sends at once before the server has answered any.
pub(super) const START_WIDTH: usize = 8;

/// A change of the pace worth saying: how many at once now, of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceChange {
    pub width: usize,
    pub max: usize,
}

pub(super) struct Pace {
    state: Mutex<State>,
    freed: Notify,
    link: Arc<Link>,
    /// False: the run keeps its width whatever the server says
    /// (`--no-back-off`, for comparison).
    adaptive: bool,
}

#[derive(Debug)]
struct State {
    width: f64,
    max: usize,
    in_flight: usize,
    /// The link's push-back count last looked at.
    pushbacks_seen: u64,
    last_cut: Option<Instant>,
}

impl State {
    fn new(max: usize, pushbacks: u64) -> State {
        State {
            width: START_WIDTH.min(max) as f64,
            max,
            in_flight: 0,
            pushbacks_seen: pushbacks,
            last_cut: None,
        }
    }

    /// The creates that may be in flight now.
    fn allowed(&self) -> usize {
        (self.width.floor() as usize).clamp(1, self.max)
    }

    /// Takes in the link's push-back count now: halves the width when the
    /// server pushed back since the last look, at most once per
    /// [`CUT_INTERVAL`]. Whether it pushed back.
    fn observe(&mut self, pushbacks: u64, now: Instant) -> bool {
        if pushbacks <= self.pushbacks_seen {
            return false;
        }
        self.pushbacks_seen = pushbacks;
        let due = self
            .last_cut
            .is_none_or(|cut| now.duration_since(cut) >= CUT_INTERVAL);
        if due {
            self.width = (self.width / 2.0).max(1.0);
            self.last_cut = Some(now);
        }
        true
    }

    /// Takes in a create answered (`pushbacks` being the link's count now)
    /// and returns the new width when it changed.
    fn settle(&mut self, pushbacks: u64, now: Instant) -> Option<usize> {
        let before = self.allowed();
        if !self.observe(pushbacks, now) {
            let step = if self.last_cut.is_none() {
                1.0
            } else {
                1.0 / self.width
            };
            self.width = (self.width + step).min(self.max as f64);
        }
        let after = self.allowed();
        (after != before).then_some(after)
    }
}

/// One create's place in the pace; given back when dropped.
pub(super) struct Admitted<'a> {
    pace: &'a Pace,
    settled: bool,
}

impl Pace {
    pub(super) fn new(max: usize, link: Arc<Link>, adaptive: bool) -> Pace {
        let max = max.max(1);
        let mut state = State::new(max, link.pushbacks());
        if !adaptive {
            state.width = max as f64;
        }
        Pace {
            state: Mutex::new(state),
            freed: Notify::new(),
            link,
            adaptive,
        }
    }

    /// Waits until one more create may be sent.
    pub(super) async fn admit(&self) -> Admitted<'_> {
        loop {
            // Registered before looking, so that a place freed in between
            // is not missed.
            let freed = self.freed.notified();
            {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                // A push-back heard meanwhile (another create's, the
                // watch's) holds the next create back at once.
                if self.adaptive {
                    state.observe(self.link.pushbacks(), Instant::now());
                }
                if state.in_flight < state.allowed() {
                    state.in_flight += 1;
                    return Admitted {
                        pace: self,
                        settled: false,
                    };
                }
            }
            freed.await;
        }
    }

    /// The server's Retry-After of its last push-back, else a second: how
    /// long a create the server refused for good waits before it is sent
    /// again.
    pub(super) fn retry_after(&self) -> Duration {
        self.link
            .retry_after()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_millis(100))
    }
}

impl Admitted<'_> {
    /// The create has been answered: the pace takes in whether the server
    /// pushed back meanwhile, and says its new width if it changed.
    pub(super) fn settle(mut self) -> Option<PaceChange> {
        self.settled = true;
        let pace = self.pace;
        let mut state = pace.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.in_flight -= 1;
        let changed = if pace.adaptive {
            state.settle(pace.link.pushbacks(), Instant::now())
        } else {
            None
        };
        let max = state.max;
        drop(state);
        pace.freed.notify_waiters();
        changed.map(|width| PaceChange { width, max })
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut state = self
                .pace
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.in_flight -= 1;
            drop(state);
            self.pace.freed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_starts_narrow_and_doubles_each_round_until_the_server_pushes_back() {
        let start = Instant::now();
        let mut pace = State::new(64, 0);
        assert_eq!(pace.allowed(), START_WIDTH);
        for _ in 0..START_WIDTH {
            pace.settle(0, start);
        }
        assert_eq!(pace.allowed(), 2 * START_WIDTH, "one round doubles it");
        for _ in 0..100 {
            pace.settle(0, start);
        }
        assert_eq!(pace.allowed(), 64, "up to the run's width");
        assert_eq!(State::new(3, 0).allowed(), 3, "never past a narrow width");
    }

    #[test]
    fn a_push_back_halves_the_width_once_per_interval_and_successes_widen_it_again() {
        let start = Instant::now();
        let mut pace = State::new(64, 0);
        pace.width = 64.0;
        assert_eq!(pace.settle(1, start), Some(32));
        // More refusals of the same burst: no second cut within the interval.
        assert_eq!(pace.settle(5, start + Duration::from_millis(200)), None);
        assert_eq!(pace.allowed(), 32);
        assert_eq!(pace.settle(6, start + CUT_INTERVAL), Some(16));
        for cut in 2..10u32 {
            pace.settle(10 + u64::from(cut), start + CUT_INTERVAL * cut);
        }
        assert_eq!(pace.allowed(), 1, "never below one");
        // Answers without push-back: one more at once per round.
        let later = start + CUT_INTERVAL * 20;
        let mut rounds = 0;
        while pace.allowed() < 64 {
            let width = pace.allowed();
            for _ in 0..width {
                pace.settle(19, later);
            }
            rounds += 1;
            assert!(rounds < 100, "{pace:?}");
        }
        assert_eq!(pace.allowed(), 64, "never above the run's width");
        pace.settle(19, later);
        assert_eq!(pace.allowed(), 64);
    }

    #[tokio::test]
    async fn creates_wait_for_a_place_and_a_dropped_one_gives_it_back() {
        let link = Arc::new(Link::default());
        let pace = Pace::new(2, link, true);
        let first = pace.admit().await;
        let second = pace.admit().await;
        let third = pace.admit();
        tokio::pin!(third);
        assert!(
            futures::poll!(&mut third).is_pending(),
            "two at once at most"
        );
        drop(first);
        let third = third.await;
        assert_eq!(second.settle(), None, "no push-back: still two");
        drop(third);
        let _again = pace.admit().await;
    }
}
