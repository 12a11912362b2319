//! A scratch database on the local PostgreSQL, for datasources the BI tests read: made with
//! a name of its own, dropped at the end.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use weir_storage::testing::POSTGRES_URL_VAR;

pub(crate) struct ScratchPg {
    admin: String,
    pub(crate) name: String,
}

impl ScratchPg {
    /// A new empty database named after `prefix`, or `None` (the test says so and passes)
    /// when no PostgreSQL answers and the suite runs on SQLite; with
    /// `WEIR_TEST_DATABASE_URL` set, PostgreSQL must be there.
    pub(crate) fn new(prefix: &str) -> Option<Self> {
        let admin = std::env::var("WEIR_TEST_PG_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut c = match PgConnection::establish(&admin) {
            Ok(c) => c,
            Err(e) if std::env::var(POSTGRES_URL_VAR).is_err() => {
                eprintln!("skipped: no PostgreSQL at {admin}: {e}");
                return None;
            }
            Err(e) => panic!("PostgreSQL at {admin}: {e}"),
        };
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
        Some(Self { admin, name })
    }

    /// The datasource URL of the database.
    pub(crate) fn jdbc_url(&self) -> String {
        format!("jdbc:postgresql://127.0.0.1:5432/{}", self.name)
    }

    /// Runs SQL in the database.
    pub(crate) fn exec(&self, sql: &str) {
        let url = self
            .admin
            .rsplit_once('/')
            .map(|(base, _)| format!("{base}/{}", self.name))
            .unwrap();
        PgConnection::establish(&url)
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
