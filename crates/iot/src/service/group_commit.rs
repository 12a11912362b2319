//! Group commit: writers that arrive while a transaction is under way share the next one.
//!
//! Each caller queues its write and waits. Whoever finds no transaction under way becomes
//! the leader: it takes every write already waiting (in arrival order, up to the
//! [`GroupLimits`]), commits them in one transaction, tells each writer how its write went,
//! and steps down; the next leader is one of the writers that queued meanwhile. Nothing
//! waits for a batch to fill: a writer alone commits alone, at once. A transaction costs
//! about the same for one write as for a few (one lock, one commit, one WAL flush), so
//! under load the writes a second take fewer of them, and on SQLite this process's value
//! writes go to the database one transaction at a time instead of queueing in its busy
//! handler.
//!
//! The queue holds at most one write per waiting caller, and callers wait until their own
//! write is committed, so it is bounded by the threads that write.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};

/// How large one group may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLimits {
    /// Most writes in one transaction (at least 1). 1 turns grouping off: each writer
    /// commits its own transaction, in parallel with the others.
    pub writes: usize,
    /// Most values in one transaction; a single write larger than this still goes alone.
    pub values: usize,
}

/// How a group is written, and what follows a write's commit.
pub(crate) struct Committer<'a, W, E> {
    /// Writes the group in one transaction, all or nothing.
    pub store: &'a dyn Fn(&[W]) -> Result<(), E>,
    /// For a group's failure every write would meet alone (the database is down): the copy
    /// each write answers. `None`: the group is tried again write by write, so that one bad
    /// write fails alone.
    pub shared: &'a dyn Fn(&E) -> Option<E>,
    /// Called for each committed write, in commit order, before the next group commits.
    pub committed: &'a dyn Fn(&W),
    /// The answer of a write whose leader panicked before it knew how the write went.
    pub lost: &'a dyn Fn() -> E,
}

/// The queue of writes waiting for a transaction.
pub(crate) struct GroupCommit<W, E> {
    limits: GroupLimits,
    queue: Mutex<Queue<W, E>>,
    changed: Condvar,
}

struct Queue<W, E> {
    next_ticket: u64,
    waiting: VecDeque<Waiting<W>>,
    done: HashMap<u64, Result<(), E>>,
    committing: bool,
}

struct Waiting<W> {
    ticket: u64,
    size: usize,
    write: W,
}

impl<W, E> GroupCommit<W, E> {
    pub(crate) fn new(limits: GroupLimits) -> Self {
        Self {
            limits: GroupLimits {
                writes: limits.writes.max(1),
                values: limits.values,
            },
            queue: Mutex::new(Queue {
                next_ticket: 0,
                waiting: VecDeque::new(),
                done: HashMap::new(),
                committing: false,
            }),
            changed: Condvar::new(),
        }
    }

    /// Writes waiting for a transaction now (for tests and diagnostics).
    pub(crate) fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }

    /// Commits `write` (`size` values) with whichever writes wait beside it, and answers
    /// once it is committed or has failed: its own result, never another write's.
    pub(crate) fn submit(&self, write: W, size: usize, c: &Committer<'_, W, E>) -> Result<(), E> {
        if self.limits.writes == 1 {
            // No grouping: writers do not queue, so their transactions run in parallel.
            (c.store)(std::slice::from_ref(&write))?;
            (c.committed)(&write);
            return Ok(());
        }
        let mut q = self.lock();
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.waiting.push_back(Waiting {
            ticket,
            size,
            write,
        });
        loop {
            if let Some(result) = q.done.remove(&ticket) {
                return result;
            }
            if q.committing {
                q = self.changed.wait(q).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            q.committing = true;
            let group = self.take_group(&mut q.waiting);
            drop(q);
            let mut lead = Leadership {
                of: self,
                // The leader's own write needs no answer if it panics: it unwinds.
                tickets: group
                    .iter()
                    .map(|w| w.ticket)
                    .filter(|t| *t != ticket)
                    .collect(),
                lost: c.lost,
                done: false,
            };
            let results = commit_group(group, c);
            q = self.lock();
            q.done.extend(results);
            lead.done = true;
            q.committing = false;
            drop(lead);
            self.changed.notify_all();
        }
    }

    /// The writes at the head of the queue, as many as the limits allow (at least one).
    fn take_group(&self, waiting: &mut VecDeque<Waiting<W>>) -> Vec<Waiting<W>> {
        let mut group = Vec::new();
        let mut values = 0;
        while let Some(next) = waiting.front() {
            if !group.is_empty()
                && (group.len() >= self.limits.writes || values + next.size > self.limits.values)
            {
                break;
            }
            values += next.size;
            group.extend(waiting.pop_front());
        }
        group
    }

    fn lock(&self) -> MutexGuard<'_, Queue<W, E>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Commits a group: in one transaction, or, when that fails for a reason not every write
/// shares, write by write in their order.
fn commit_group<W, E>(
    group: Vec<Waiting<W>>,
    c: &Committer<'_, W, E>,
) -> Vec<(u64, Result<(), E>)> {
    let (tickets, writes): (Vec<u64>, Vec<W>) =
        group.into_iter().map(|w| (w.ticket, w.write)).unzip();
    let results: Vec<Result<(), E>> = match (c.store)(&writes) {
        Ok(()) => {
            writes.iter().for_each(c.committed);
            writes.iter().map(|_| Ok(())).collect()
        }
        Err(e) if writes.len() == 1 => vec![Err(e)],
        Err(e) => match (c.shared)(&e) {
            Some(_) => writes
                .iter()
                .map(|_| Err((c.shared)(&e).unwrap_or_else(c.lost)))
                .collect(),
            None => writes
                .iter()
                .map(|w| {
                    let alone = (c.store)(std::slice::from_ref(w));
                    if alone.is_ok() {
                        (c.committed)(w);
                    }
                    alone
                })
                .collect(),
        },
    };
    tickets.into_iter().zip(results).collect()
}

/// Held by the leader while it commits. If the leader panics, the writes it took answer
/// [`Committer::lost`] and another writer may lead, instead of every writer waiting forever.
struct Leadership<'a, W, E> {
    of: &'a GroupCommit<W, E>,
    tickets: Vec<u64>,
    lost: &'a dyn Fn() -> E,
    done: bool,
}

impl<W, E> Drop for Leadership<'_, W, E> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut q = self.of.lock();
        for ticket in self.tickets.drain(..) {
            q.done.insert(ticket, Err((self.lost)()));
        }
        q.committing = false;
        drop(q);
        self.of.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::mpsc;
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    /// A write of the tests: who wrote it, its number, and whether the store refuses it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct W {
        writer: usize,
        seq: usize,
        bad: bool,
    }

    fn w(writer: usize, seq: usize) -> W {
        W {
            writer,
            seq,
            bad: false,
        }
    }

    /// What the fake store saw: each transaction tried, with whether it committed.
    #[derive(Default)]
    struct Log {
        tried: Mutex<Vec<(Vec<W>, bool)>>,
        committed: Mutex<Vec<W>>,
    }

    impl Log {
        fn store(&self, group: &[W]) -> Result<(), String> {
            let ok = !group.iter().any(|w| w.bad);
            self.tried.lock().unwrap().push((group.to_vec(), ok));
            if ok {
                Ok(())
            } else {
                Err(format!("refused {:?}", group.iter().find(|w| w.bad)))
            }
        }
    }

    fn wait_for_waiting<W, E>(gc: &GroupCommit<W, E>, n: usize) {
        for _ in 0..2000 {
            if gc.waiting() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("{n} writes never queued");
    }

    #[test]
    fn concurrent_writes_commit_once_each_in_groups_and_in_each_writers_order() {
        let limits = GroupLimits {
            writes: 5,
            values: 12,
        };
        let gc = Arc::new(GroupCommit::<W, String>::new(limits));
        let log = Arc::new(Log::default());
        let (writers, each) = (8, 150);
        let start = Arc::new(Barrier::new(writers));
        let threads: Vec<_> = (0..writers)
            .map(|writer| {
                let (gc, log, start) = (gc.clone(), log.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for seq in 0..each {
                        let store = |g: &[W]| {
                            // A transaction takes a moment, so writers queue behind it.
                            std::thread::sleep(Duration::from_micros(200));
                            log.store(g)
                        };
                        let committed = |w: &W| log.committed.lock().unwrap().push(*w);
                        let c = Committer {
                            store: &store,
                            shared: &|_| None,
                            committed: &committed,
                            lost: &|| "lost".to_owned(),
                        };
                        gc.submit(w(writer, seq), 1 + seq % 3, &c).unwrap();
                        // Answered only once committed.
                        assert!(log.committed.lock().unwrap().contains(&w(writer, seq)));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let tried = log.tried.lock().unwrap();
        let committed = log.committed.lock().unwrap();
        // Each write committed exactly once, events in the order of the transactions.
        let flat: Vec<W> = tried.iter().flat_map(|(g, _)| g.clone()).collect();
        assert_eq!(*committed, flat);
        assert_eq!(committed.len(), writers * each);
        for writer in 0..writers {
            let mine: Vec<usize> = committed
                .iter()
                .filter(|w| w.writer == writer)
                .map(|w| w.seq)
                .collect();
            assert_eq!(mine, (0..each).collect::<Vec<_>>());
        }
        assert!(tried.iter().all(|(g, ok)| *ok
            && g.len() <= limits.writes
            && g.iter().map(|w| 1 + w.seq % 3).sum::<usize>() <= limits.values));
        assert!(
            tried.iter().any(|(g, _)| g.len() > 1),
            "no write ever shared a transaction"
        );
        assert!(gc.lock().done.is_empty());
    }

    /// Starts a leader whose transaction waits for `release`, so that the writes submitted
    /// meanwhile form the next group.
    fn blocked_leader(
        gc: &Arc<GroupCommit<W, String>>,
        log: &Arc<Log>,
        release: mpsc::Receiver<()>,
    ) -> std::thread::JoinHandle<Result<(), String>> {
        let (gc, log) = (gc.clone(), log.clone());
        let release = Mutex::new(release);
        std::thread::spawn(move || {
            let store = |g: &[W]| {
                release.lock().unwrap().recv().unwrap();
                log.store(g)
            };
            let c = Committer {
                store: &store,
                shared: &|_| None,
                committed: &|w| log.committed.lock().unwrap().push(*w),
                lost: &|| "lost".to_owned(),
            };
            gc.submit(w(0, 0), 1, &c)
        })
    }

    fn writer(
        gc: &Arc<GroupCommit<W, String>>,
        log: &Arc<Log>,
        write: W,
        shared: bool,
    ) -> std::thread::JoinHandle<Result<(), String>> {
        let (gc, log) = (gc.clone(), log.clone());
        std::thread::spawn(move || {
            let share = |e: &String| shared.then(|| e.clone());
            let c = Committer {
                store: &|g| log.store(g),
                shared: &share,
                committed: &|w| log.committed.lock().unwrap().push(*w),
                lost: &|| "lost".to_owned(),
            };
            gc.submit(write, 1, &c)
        })
    }

    #[test]
    fn one_bad_write_fails_alone_and_the_rest_of_its_group_commits() {
        let gc = Arc::new(GroupCommit::new(GroupLimits {
            writes: 10,
            values: 100,
        }));
        let log = Arc::new(Log::default());
        let (release, gate) = mpsc::channel();
        let leader = blocked_leader(&gc, &log, gate);
        while !gc.lock().committing {
            std::thread::yield_now();
        }
        let bad = W {
            writer: 2,
            seq: 0,
            bad: true,
        };
        let mut others = Vec::new();
        for (n, write) in [w(1, 0), bad, w(3, 0)].into_iter().enumerate() {
            others.push(writer(&gc, &log, write, false));
            wait_for_waiting(&gc, n + 1);
        }
        release.send(()).unwrap();
        assert_eq!(leader.join().unwrap(), Ok(()));
        let results: Vec<_> = others.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results[0], Ok(()));
        assert_eq!(results[1], Err(format!("refused {:?}", Some(bad))));
        assert_eq!(results[2], Ok(()));
        let tried = log.tried.lock().unwrap();
        assert_eq!(
            *tried,
            vec![
                (vec![w(0, 0)], true),
                (vec![w(1, 0), bad, w(3, 0)], false),
                (vec![w(1, 0)], true),
                (vec![bad], false),
                (vec![w(3, 0)], true),
            ]
        );
        assert_eq!(
            *log.committed.lock().unwrap(),
            vec![w(0, 0), w(1, 0), w(3, 0)]
        );
    }

    #[test]
    fn a_failure_every_write_shares_is_answered_to_each_without_retrying() {
        let gc = Arc::new(GroupCommit::new(GroupLimits {
            writes: 10,
            values: 100,
        }));
        let log = Arc::new(Log::default());
        let (release, gate) = mpsc::channel();
        let leader = blocked_leader(&gc, &log, gate);
        while !gc.lock().committing {
            std::thread::yield_now();
        }
        let bad = W {
            writer: 1,
            seq: 0,
            bad: true,
        };
        let first = writer(&gc, &log, bad, true);
        wait_for_waiting(&gc, 1);
        let second = writer(&gc, &log, w(2, 0), true);
        wait_for_waiting(&gc, 2);
        release.send(()).unwrap();
        leader.join().unwrap().unwrap();
        let refused = Err(format!("refused {:?}", Some(bad)));
        assert_eq!(first.join().unwrap(), refused);
        assert_eq!(second.join().unwrap(), refused);
        assert_eq!(log.tried.lock().unwrap().len(), 2);
    }

    #[test]
    fn with_groups_of_one_writers_commit_in_parallel() {
        let gc = GroupCommit::<W, String>::new(GroupLimits {
            writes: 1,
            values: 100,
        });
        let inside = std::sync::atomic::AtomicUsize::new(0);
        let met = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for writer in 0..2 {
                let (gc, inside, met) = (&gc, &inside, &met);
                s.spawn(move || {
                    let store = |_: &[W]| {
                        inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        // Both transactions under way at once, or the wait runs out.
                        for _ in 0..2000 {
                            if inside.load(std::sync::atomic::Ordering::SeqCst) == 2 {
                                met.store(true, std::sync::atomic::Ordering::SeqCst);
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        Ok(())
                    };
                    let c = Committer {
                        store: &store,
                        shared: &|_| None,
                        committed: &|_| {},
                        lost: &|| "lost".to_owned(),
                    };
                    gc.submit(w(writer, 0), 1, &c).unwrap();
                });
            }
        });
        assert!(met.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_leader_that_panics_lets_the_writes_after_it_commit() {
        let gc = Arc::new(GroupCommit::<W, String>::new(GroupLimits {
            writes: 10,
            values: 100,
        }));
        let log = Arc::new(Log::default());
        let (release, gate) = mpsc::channel::<()>();
        let leader = {
            let gc = gc.clone();
            let gate = Mutex::new(gate);
            std::thread::spawn(move || {
                let store = |_: &[W]| -> Result<(), String> {
                    gate.lock().unwrap().recv().unwrap();
                    panic!("the store panicked")
                };
                let c = Committer {
                    store: &store,
                    shared: &|_| None,
                    committed: &|_| {},
                    lost: &|| "lost".to_owned(),
                };
                gc.submit(w(0, 0), 1, &c)
            })
        };
        while !gc.lock().committing {
            std::thread::yield_now();
        }
        let first = writer(&gc, &log, w(1, 0), false);
        wait_for_waiting(&gc, 1);
        release.send(()).unwrap();
        assert!(leader.join().is_err());
        // The waiting write was not in the panicking group: it commits under a new leader.
        assert_eq!(first.join().unwrap(), Ok(()));
        assert_eq!(writer(&gc, &log, w(2, 0), false).join().unwrap(), Ok(()));
        assert!(!gc.lock().committing);
    }
}
