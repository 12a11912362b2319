//! The workflow repository: [`WorkflowTx`] over diesel, for both backends.

mod leases;
mod logs;
mod repo;
mod rows;

use weir_kernel::{StoreError, Transactions, TxMode};
use weir_workflow::WorkflowTx;

use crate::database::Database;

impl Transactions<dyn WorkflowTx> for Database {
    fn run(
        &self,
        mode: TxMode,
        work: &mut dyn FnMut(&mut (dyn WorkflowTx + 'static)) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.transaction_owned(mode, |conn| {
            let mut repo = repo::WorkflowRepo { conn };
            let result = work(&mut repo);
            (repo.conn, result)
        })
    }
}
