//! The IoT repository: [`IotTx`] over diesel, for both backends, one file per aggregate
//! port. Every query filters by the tenant.

mod dashboards;
mod devices;
mod entities;
mod rollups;
mod rows;
mod shared;
mod values;

use weir_iot::ports::IotTx;
use weir_kernel::{StoreError, Transactions, TxMode};

use crate::backend::DbConn;
use crate::database::{Database, Pooled};

/// Implements every IoT port over one pooled connection, which it owns for the length of
/// one transaction.
struct IotRepo {
    conn: Pooled,
}

impl IotRepo {
    fn c(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl Transactions<dyn IotTx> for Database {
    fn run(
        &self,
        mode: TxMode,
        work: &mut dyn FnMut(&mut (dyn IotTx + 'static)) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.transaction_owned(mode, |conn| {
            let mut repo = IotRepo { conn };
            let result = work(&mut repo);
            (repo.conn, result)
        })
    }
}
