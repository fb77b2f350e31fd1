//! Who may use the shared cluster at once. All e2e tests are one binary, and
//! libtest runs any test beside any other. Most tests keep to a namespace and
//! nodes of their own and may run side by side: they hold the cluster
//! *shared*, which [`TestNs`](crate::TestNs) does for them from `new` to
//! `finish` (or a panic). A test that disturbs the whole cluster or the
//! machine (restarts the API server or the real node's kubelet, fills the
//! real node, changes cluster-wide configuration, compares the machine's
//! state before and after) holds it *whole* for its full length, with
//! [`whole_cluster`] as its first line, and runs alone; each such call says
//! why.
//!
//! A test asking for the cluster whole waits for the shared holders to end,
//! and tests asking for it shared meanwhile wait behind it, so that it is
//! not starved. Within one test, holding it again is free: a test holding the
//! cluster whole still creates namespaces, and a test may create a second
//! namespace while another test waits for the whole cluster.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// What the tests of this process hold.
struct Holders {
    shared: usize,
    whole: bool,
    /// Tests waiting for the whole cluster: new shared holders wait behind them.
    waiting_for_whole: usize,
}

static HOLDERS: Mutex<Holders> = Mutex::new(Holders {
    shared: 0,
    whole: false,
    waiting_for_whole: 0,
});
static RELEASED: Condvar = Condvar::new();

/// What the current test (its thread: libtest runs each test on one, and a
/// `#[tokio::test]` runs on it too) holds already.
#[derive(Clone, Copy, PartialEq)]
enum Held {
    Nothing,
    Shared(usize),
    Whole,
}

thread_local! {
    static HELD: Cell<Held> = const { Cell::new(Held::Nothing) };
}

fn holders() -> MutexGuard<'static, Holders> {
    // No code panics while holding the mutex, but a poisoned one still
    // holds true counts.
    HOLDERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a [`ClusterHold`] lets go of when dropped.
enum HoldKind {
    /// A shared hold inside the test's whole one: nothing of its own.
    WithinWhole,
    Shared,
    Whole,
}

/// The test's hold on the cluster; dropping it lets go. It stays on the
/// test's thread (it is not `Send`), where the counts of [`HELD`] live.
#[must_use = "the cluster is held only while this lives"]
pub struct ClusterHold {
    kind: HoldKind,
    _on_this_thread: PhantomData<MutexGuard<'static, ()>>,
}

/// Holds the cluster shared, beside other shared holders; waits while a test
/// holds it whole or waits for it.
pub fn shared_cluster() -> ClusterHold {
    let kind = match HELD.get() {
        Held::Whole => HoldKind::WithinWhole,
        Held::Shared(n) => {
            holders().shared += 1;
            HELD.set(Held::Shared(n + 1));
            HoldKind::Shared
        }
        Held::Nothing => {
            let mut h = holders();
            while h.whole || h.waiting_for_whole > 0 {
                h = RELEASED.wait(h).unwrap_or_else(PoisonError::into_inner);
            }
            h.shared += 1;
            HELD.set(Held::Shared(1));
            HoldKind::Shared
        }
    };
    ClusterHold {
        kind,
        _on_this_thread: PhantomData,
    }
}

/// Holds the whole cluster: waits until no other test holds it, and keeps
/// every other test that uses it waiting until this hold is dropped.
///
/// It panics when the test already holds the cluster shared: take it whole
/// first, before any [`TestNs`](crate::TestNs).
pub fn whole_cluster() -> ClusterHold {
    assert!(
        HELD.get() == Held::Nothing,
        "whole_cluster() must come before the test's first TestNs"
    );
    let mut h = holders();
    h.waiting_for_whole += 1;
    while h.whole || h.shared > 0 {
        h = RELEASED.wait(h).unwrap_or_else(PoisonError::into_inner);
    }
    h.waiting_for_whole -= 1;
    h.whole = true;
    drop(h);
    HELD.set(Held::Whole);
    ClusterHold {
        kind: HoldKind::Whole,
        _on_this_thread: PhantomData,
    }
}

impl Drop for ClusterHold {
    fn drop(&mut self) {
        match self.kind {
            HoldKind::WithinWhole => return,
            HoldKind::Whole => {
                holders().whole = false;
                HELD.set(Held::Nothing);
            }
            HoldKind::Shared => {
                holders().shared -= 1;
                HELD.set(match HELD.get() {
                    Held::Shared(n) if n > 1 => Held::Shared(n - 1),
                    _ => Held::Nothing,
                });
            }
        }
        RELEASED.notify_all();
    }
}
