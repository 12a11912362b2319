//! A scratch database on the PostgreSQL `WEIR_TEST_PG_DATASOURCE_URL` names, for
//! datasources the BI tests read: made with a name of its own, dropped at the end.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use weir_test_kit::external::{self, Address};

pub(crate) struct ScratchPg {
    server: Address,
    admin: String,
    pub(crate) name: String,
}

impl ScratchPg {
    /// A new empty database named after `prefix`, or `None` (the test is skipped) when
    /// `WEIR_TEST_PG_DATASOURCE_URL` is unset; when it is set, PostgreSQL must be there.
    pub(crate) fn new(prefix: &str) -> Option<Self> {
        let server = external::postgres()?;
        let admin = server.with_path(server.path.as_deref().unwrap_or("postgres"));
        let mut c = PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "{prefix}_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        Some(Self {
            server,
            admin,
            name,
        })
    }

    /// The datasource URL of the database.
    pub(crate) fn jdbc_url(&self) -> String {
        format!(
            "jdbc:postgresql://{}/{}",
            self.server.host_port(),
            self.name
        )
    }

    /// Runs SQL in the database.
    pub(crate) fn exec(&self, sql: &str) {
        PgConnection::establish(&self.server.with_path(&self.name))
            .unwrap()
            .batch_execute(sql)
            .unwrap();
    }
}

impl Drop for ScratchPg {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&self.admin) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
