//! The identity repository: [`IdentityTx`] over diesel, for both backends, one file per
//! aggregate port. Every query on tenant-owned rows filters by the tenant.

mod grants;
mod groups;
mod menus;
mod refresh_tokens;
mod roles;
mod rows;
mod shared;
mod sso;
mod tenants;
mod throttle;
mod users;

use weir_identity::IdentityTx;
use weir_kernel::{StoreError, Transactions, TxMode};

use crate::backend::DbConn;
use crate::database::{Database, Pooled};

/// Implements every identity port over one pooled connection, which it owns for the
/// length of one transaction.
struct IdentityRepo {
    conn: Pooled,
}

impl IdentityRepo {
    fn c(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl Transactions<dyn IdentityTx> for Database {
    fn run(
        &self,
        mode: TxMode,
        work: &mut dyn FnMut(&mut (dyn IdentityTx + 'static)) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.transaction_owned(mode, |conn| {
            let mut repo = IdentityRepo { conn };
            let result = work(&mut repo);
            (repo.conn, result)
        })
    }
}
