//! What the engine's callbacks know of the run on their thread.
//!
//! The engine is shared by every thread, and its callbacks (`on_progress`, `on_var`) are told
//! nothing of the run they watch. A run is synchronous on its thread, so the run's deadline
//! and counters live in a thread-local cell, set when the run starts.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::{Dynamic, EvalAltResult, Scope};

use crate::{ScriptLimits, audit, errors};

/// How many operations a script runs between two looks at the clock (for the deadline and
/// for the audit of its variables, see the `audit` module). Most operations take well under
/// a microsecond; a few on values near the size limits take up to a millisecond (Rhai walks
/// the whole value to check its size). One clock reading costs about as much as one
/// operation, so this adds a few percent.
pub const CLOCK_EVERY: u64 = 16;

#[derive(Clone, Copy)]
struct Run {
    deadline: Instant,
    /// As last reported by Rhai.
    operations: u64,
    /// When the variables were last measured (at the start, before the first time).
    audited_at: Instant,
    /// The clock said it is time to measure them again.
    audit_due: bool,
}

thread_local! {
    static RUN: Cell<Option<Run>> = const { Cell::new(None) };
}

/// The run on this thread, from [`Watch::start`] to the drop, which puts back the run before
/// (none, unless runs nest), even when unwinding.
pub(crate) struct Watch {
    before: Option<Run>,
}

impl Watch {
    pub(crate) fn start(deadline: Instant) -> Self {
        let run = Run {
            deadline,
            operations: 0,
            audited_at: Instant::now(),
            audit_due: false,
        };
        Self {
            before: RUN.replace(Some(run)),
        }
    }

    /// The operations the run has performed.
    pub(crate) fn operations(&self) -> u64 {
        RUN.get().map_or(0, |run| run.operations)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        RUN.set(self.before);
    }
}

/// Rhai's `on_progress`, called at every operation: counts, stops a run past its deadline,
/// and notes when an audit is due.
pub(crate) fn on_progress(operations: u64, audit_interval: Option<Duration>) -> Option<Dynamic> {
    let mut run = RUN.get()?;
    run.operations = operations;
    let mut late = false;
    if operations.is_multiple_of(CLOCK_EVERY) {
        let now = Instant::now();
        late = now >= run.deadline;
        run.audit_due |= audit_interval.is_some_and(|interval| now >= run.audited_at + interval);
    }
    RUN.set(Some(run));
    late.then(|| Dynamic::from(errors::PAST_DEADLINE))
}

/// Rhai's `on_var`, called whenever a variable is looked up: the audit, when it is due.
pub(crate) fn on_var(scope: &Scope, limits: &ScriptLimits) -> Result<(), Box<EvalAltResult>> {
    let Some(mut run) = RUN.get().filter(|run| run.audit_due) else {
        return Ok(());
    };
    let answer = audit::audit(scope, limits);
    run.audit_due = false;
    run.audited_at = Instant::now();
    RUN.set(Some(run));
    answer
}
