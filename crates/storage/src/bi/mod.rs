//! The BI catalog repository: [`CatalogTx`] over diesel, for both backends.

mod repo;
mod rows;

use weir_bi_catalog::catalog::CatalogTx;
use weir_kernel::{StoreError, Transactions, TxMode};

use crate::database::Database;

impl Transactions<dyn CatalogTx> for Database {
    fn run(
        &self,
        mode: TxMode,
        work: &mut dyn FnMut(&mut (dyn CatalogTx + 'static)) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.transaction_owned(mode, |conn| {
            let mut repo = repo::CatalogRepo { conn };
            let result = work(&mut repo);
            (repo.conn, result)
        })
    }
}
