//! A large stack for every run, kept by each thread and reused from run to run.
//!
//! Rhai walks nested arrays and maps by recursion (to copy, compare, print, drop them or
//! check their size), and a stack overflow aborts the whole process, so runs do not use the
//! caller's stack (2 MiB on a tokio blocking thread, which overflows at about 3,000 levels)
//! but one of [`ScriptLimits::stack_size`](crate::ScriptLimits::stack_size) bytes. The stack
//! is reserved address space: only the pages a run touches become memory.
//!
//! Reserving a stack for each run costs about 7 µs (map, protect, fault in, unmap), six times
//! a short script's run, so each thread keeps its stack and switches to it (a few
//! nanoseconds). A run of more than [`KEEP_AFTER_OPERATIONS`] operations gives its stack
//! back instead, so that the pages a deep run touched do not stay with the thread: a run
//! that short cannot have nested its values deep enough to touch more than a few MiB.

use std::cell::RefCell;

use corosensei::stack::DefaultStack;
use weir_workflow::engine::NodeError;

/// The most operations a run may perform and still leave its stack to the next run.
pub(crate) const KEEP_AFTER_OPERATIONS: u64 = 1024;

thread_local! {
    /// This thread's stack and its size; taken while a run uses it.
    static STACK: RefCell<Option<(usize, DefaultStack)>> = const { RefCell::new(None) };
}

/// Runs `run` on a stack of `size` bytes, or on the caller's with `size` 0. `run` answers
/// its value and how many operations it performed.
pub(crate) fn on_large_stack<R>(
    size: usize,
    run: impl FnOnce() -> (R, u64),
) -> Result<R, NodeError> {
    if size == 0 {
        return Ok(run().0);
    }
    let mut stack = match STACK.take() {
        Some((kept_size, stack)) if kept_size == size => stack,
        _ => DefaultStack::new(size).map_err(|error| {
            NodeError::new(format!(
                "could not reserve {size} bytes of stack for the script: {error}"
            ))
        })?,
    };
    let (answer, operations) = corosensei::on_stack(&mut stack, run);
    if operations <= KEEP_AFTER_OPERATIONS {
        STACK.set(Some((size, stack)));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept() -> bool {
        STACK.with_borrow(Option::is_some)
    }

    /// Recurses `depth` times with a 1 KiB frame.
    fn deep(depth: usize) -> usize {
        let frame = std::hint::black_box([1_u8; 1024]);
        if depth == 0 {
            usize::from(frame[0])
        } else {
            deep(depth - 1) + usize::from(frame[1023])
        }
    }

    #[test]
    fn runs_what_would_overflow_the_callers_stack() {
        // 16 MiB of frames, on a thread of 2 MiB.
        let sum = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| on_large_stack(64 << 20, || (deep(16 * 1024), 0)).unwrap())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(sum, 16 * 1024 + 1);
    }

    #[test]
    fn keeps_its_stack_after_a_short_run_only() {
        std::thread::spawn(|| {
            on_large_stack(1 << 20, || ((), 10)).unwrap();
            assert!(kept());
            on_large_stack(1 << 20, || ((), KEEP_AFTER_OPERATIONS + 1)).unwrap();
            assert!(!kept());
            on_large_stack(0, || ((), 0)).unwrap();
            assert!(!kept(), "size 0 runs on the caller's stack");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_panic_comes_back_to_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            on_large_stack(1 << 20, || -> ((), u64) { panic!("boom") })
        });
        assert!(caught.is_err());
        assert_eq!(
            on_large_stack(1 << 20, || (7, 0)).unwrap(),
            7,
            "usable afterwards"
        );
    }
}
