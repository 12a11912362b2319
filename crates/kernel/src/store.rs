//! The transaction port every domain's storage implements.
//!
//! A domain describes its repository as an object-safe trait (`IdentityTx`, ...); the
//! storage adapter runs a unit of work against it inside one database transaction.
//! [`read`] and [`write()`] let a use-case return its own error type through that boundary.

/// What storage can fail with, free of any driver type.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A unique constraint refused the write; the payload names the constraint.
    #[error("conflict on {0}")]
    Conflict(String),
    /// The database could not be reached or did not answer in time.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the text is for logs, never for clients.
    #[error("storage failure: {0}")]
    Internal(String),
    /// The unit of work asked to roll back (it carries its own error out of band).
    #[error("rolled back")]
    Rollback,
}

/// Whether a unit of work writes. Read-only work never takes a write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads only.
    Read,
    /// Reads and writes, committed together or not at all.
    Write,
}

/// Runs units of work against `Tx` in transactions.
pub trait Transactions<Tx: ?Sized>: Send + Sync {
    /// Runs `work` in one transaction of `mode`: committed when it answers `Ok`, rolled
    /// back when it answers an error (which `run` then answers).
    fn run(
        &self,
        mode: TxMode,
        work: &mut dyn FnMut(&mut Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// Runs `f` in a read-only transaction.
pub fn read<Tx: ?Sized, R, E: From<StoreError>>(
    store: &dyn Transactions<Tx>,
    f: impl FnOnce(&mut Tx) -> Result<R, E>,
) -> Result<R, E> {
    run(store, TxMode::Read, f)
}

/// Runs `f` in a write transaction: all of it commits, or none of it.
pub fn write<Tx: ?Sized, R, E: From<StoreError>>(
    store: &dyn Transactions<Tx>,
    f: impl FnOnce(&mut Tx) -> Result<R, E>,
) -> Result<R, E> {
    run(store, TxMode::Write, f)
}

fn run<Tx: ?Sized, R, E: From<StoreError>>(
    store: &dyn Transactions<Tx>,
    mode: TxMode,
    f: impl FnOnce(&mut Tx) -> Result<R, E>,
) -> Result<R, E> {
    let mut f = Some(f);
    let mut out: Option<Result<R, E>> = None;
    let status = store.run(mode, &mut |tx| {
        let Some(f) = f.take() else {
            return Err(StoreError::Internal("unit of work ran twice".into()));
        };
        match f(tx) {
            Ok(v) => {
                out = Some(Ok(v));
                Ok(())
            }
            Err(e) => {
                out = Some(Err(e));
                Err(StoreError::Rollback)
            }
        }
    });
    match (status, out) {
        (_, Some(Err(e))) => Err(e),
        (Ok(()), Some(Ok(v))) => Ok(v),
        (Err(e), _) => Err(e.into()),
        (Ok(()), None) => Err(StoreError::Internal("unit of work did not run".into()).into()),
    }
}
