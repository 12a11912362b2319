//! The identity repository: [`IdentityTx`] over diesel, for both backends.

mod repo;
mod rows;

use weir_identity::IdentityTx;
use weir_kernel::{StoreError, Transactions, TxMode};

use crate::database::Database;

impl Transactions<dyn IdentityTx> for Database {
    fn run(
        &self,
        mode: TxMode,
        work: &mut dyn FnMut(&mut (dyn IdentityTx + 'static)) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.transaction_owned(mode, |conn| {
            let mut repo = repo::IdentityRepo { conn };
            let result = work(&mut repo);
            (repo.conn, result)
        })
    }
}
