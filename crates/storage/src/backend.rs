//! The multi-backend connection, and the one macro for the statements diesel's common
//! backend cannot express (upserts and multi-row inserts).

use diesel::connection::SimpleConnection;
use diesel::r2d2::CustomizeConnection;

/// A connection to either backend; diesel's `MultiConnection` lets one query code serve both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; anything else is an SQLite
    /// path, with or without a `sqlite:` / `sqlite://` prefix.
    pub fn detect(url: &str) -> (Backend, String) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return (Backend::Postgres, url.to_owned());
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        (Backend::Sqlite, path.to_owned())
    }
}

/// Runs the same diesel expression on whichever concrete connection `conn` holds, for
/// statements the common backend cannot express. `$c` names the concrete connection.
macro_rules! on_each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::backend::DbConn::Pg($c) => $body,
            $crate::backend::DbConn::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_each_backend;

/// Inserts rows, skipping those that would break a unique key (link tables: granting
/// what is already granted is not an error). One statement per row, because diesel cannot
/// combine a multi-row insert with ON CONFLICT on SQLite.
macro_rules! insert_ignoring_duplicates {
    ($conn:expr, $table:expr, $rows:expr) => {
        $crate::backend::on_each_backend!($conn, |c| {
            let mut inserted = 0usize;
            for row in $rows {
                inserted += diesel::insert_into($table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)
                    .map_err($crate::errors::store_error)?;
            }
            Ok::<usize, weir_kernel::StoreError>(inserted)
        })
    };
}
pub(crate) use insert_ignoring_duplicates;

/// Sets SQLite's pragmas on every new connection: foreign keys on, WAL so readers do not
/// block the writer, and a busy timeout so writers queue instead of failing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}
