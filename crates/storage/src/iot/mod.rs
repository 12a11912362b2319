//! The IoT repository: [`IotTx`] over diesel, for both backends.

mod repo;
mod rows;

use weir_iot::ports::IotTx;
use weir_kernel::{StoreError, Transactions, TxMode};

use crate::database::Database;

impl Transactions<dyn IotTx> for Database {
    fn run(
        &self,
        mode: TxMode,
        work: &mut dyn FnMut(&mut (dyn IotTx + 'static)) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.transaction_owned(mode, |conn| {
            let mut repo = repo::IotRepo { conn };
            let result = work(&mut repo);
            (repo.conn, result)
        })
    }
}
