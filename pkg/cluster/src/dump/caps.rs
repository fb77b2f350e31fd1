//! A dump's size caps: each node's (`--max-per-node`) and the whole run's
//! (`--max-total`), counted in the bytes read from the nodes and the API
//! server. Every chunk is taken from both before it is written; what does
//! not fit is not written, and the cap that stopped it is named.
//! No I/O: atomics, so that nodes running at once share the run's cap.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// The caps of a run, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Caps {
    pub max_per_node: u64,
    pub max_total: u64,
}

/// Which cap stopped an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cap {
    /// `--max-per-node`.
    PerNode,
    /// `--max-total`.
    Total,
}

impl Cap {
    /// The flag that sets it, for messages.
    pub fn flag(self) -> &'static str {
        match self {
            Cap::PerNode => "--max-per-node",
            Cap::Total => "--max-total",
        }
    }
}

/// The run's cap and what all its nodes have used of it.
#[derive(Debug)]
pub struct RunBudget {
    caps: Caps,
    used: AtomicU64,
}

/// One node's cap, and its share of the run's.
#[derive(Debug)]
pub struct NodeBudget<'a> {
    run: &'a RunBudget,
    used: AtomicU64,
}

/// What a request for bytes was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    pub bytes: u64,
    /// The cap that kept it below what was asked.
    pub cut: Option<Cap>,
}

/// Takes up to `wanted` of what `used` leaves below `cap`; what it took.
fn take_from(used: &AtomicU64, cap: u64, wanted: u64) -> u64 {
    let mut taken = 0;
    // fetch_update retries when another node took some meanwhile.
    let _ = used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
        taken = wanted.min(cap.saturating_sub(now));
        Some(now + taken)
    });
    taken
}

impl RunBudget {
    pub fn new(caps: Caps) -> RunBudget {
        RunBudget {
            caps,
            used: AtomicU64::new(0),
        }
    }

    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// What all nodes have used.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::SeqCst)
    }

    /// The budget of one more node.
    pub fn node(&self) -> NodeBudget<'_> {
        NodeBudget {
            run: self,
            used: AtomicU64::new(0),
        }
    }
}

impl NodeBudget<'_> {
    /// What this node has used.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::SeqCst)
    }

    /// What the next item may take at most, now, and the cap that decides
    /// it. Another node may take from the run's cap meanwhile: [`take`]
    /// is what counts.
    ///
    /// [`take`]: NodeBudget::take
    pub fn room(&self) -> (u64, Cap) {
        let node = self.run.caps.max_per_node.saturating_sub(self.used());
        let run = self.run.caps.max_total.saturating_sub(self.run.used());
        if run < node {
            (run, Cap::Total)
        } else {
            (node, Cap::PerNode)
        }
    }

    /// Takes up to `wanted` bytes from this node's cap and the run's.
    pub fn take(&self, wanted: u64) -> Granted {
        let from_node = take_from(&self.used, self.run.caps.max_per_node, wanted);
        let from_run = take_from(&self.run.used, self.run.caps.max_total, from_node);
        if from_run < from_node {
            // Given back: the run's cap did not have it.
            self.used.fetch_sub(from_node - from_run, Ordering::SeqCst);
        }
        let cut = if from_run == wanted {
            None
        } else if from_run < from_node {
            Some(Cap::Total)
        } else {
            Some(Cap::PerNode)
        };
        Granted {
            bytes: from_run,
            cut,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_takes_up_to_its_cap_and_the_cap_is_named() {
        let run = RunBudget::new(Caps {
            max_per_node: 100,
            max_total: 1000,
        });
        let node = run.node();
        assert_eq!(node.room(), (100, Cap::PerNode));
        assert_eq!(
            node.take(60),
            Granted {
                bytes: 60,
                cut: None
            }
        );
        assert_eq!(
            node.take(60),
            Granted {
                bytes: 40,
                cut: Some(Cap::PerNode)
            }
        );
        assert_eq!(node.room(), (0, Cap::PerNode));
        assert_eq!(node.take(1).cut, Some(Cap::PerNode));
        assert_eq!((node.used(), run.used()), (100, 100));
        assert_eq!(
            node.take(0),
            Granted {
                bytes: 0,
                cut: None
            }
        );
    }

    #[test]
    fn the_runs_cap_is_shared_and_what_it_refused_is_given_back_to_the_node() {
        let run = RunBudget::new(Caps {
            max_per_node: 100,
            max_total: 150,
        });
        let (a, b) = (run.node(), run.node());
        assert_eq!(a.take(100).bytes, 100);
        assert_eq!(b.room(), (50, Cap::Total));
        assert_eq!(
            b.take(80),
            Granted {
                bytes: 50,
                cut: Some(Cap::Total)
            }
        );
        assert_eq!((b.used(), run.used()), (50, 150));
        let c = run.node();
        assert_eq!(c.room(), (0, Cap::Total));
        assert_eq!(c.take(10).cut, Some(Cap::Total));
        assert_eq!(c.used(), 0);
    }

    #[test]
    fn nodes_at_once_never_take_more_than_the_runs_cap() {
        let run = RunBudget::new(Caps {
            max_per_node: 10_000,
            max_total: 25_000,
        });
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let node = run.node();
                    for _ in 0..1000 {
                        node.take(7);
                    }
                    assert!(node.used() <= 7000);
                });
            }
        });
        assert_eq!(run.used(), 25_000);
    }
}
