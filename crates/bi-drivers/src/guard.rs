//! Where datasources may be: checked at every connection (a test, a sync, a query's new
//! connection), not only when a datasource is saved.
//!
//! - **Database servers** follow Weir's outbound policy ([`OutboundPolicy`]): their host is
//!   resolved, internal addresses are refused unless `outbound.allow` opens them, and the
//!   driver connects to the checked addresses only (PostgreSQL's `hostaddr`, MySQL's IP),
//!   never resolving the name again.
//! - **SQLite files** only inside `bi.sqlite_folder` (none when it is unset), judged by
//!   their resolved path (`..` and symbolic links followed); a relative path is taken
//!   inside that folder. A path outside the folder and a path that does not exist are
//!   refused in the same words, so the refusal does not tell which files exist.
//! - **Weir's own storage is never a datasource**, whatever the above allow: not its
//!   SQLite file, nor anything in that file's folder, nor a hard link to it; not its
//!   PostgreSQL database (the same server, any local address counting as this machine,
//!   port and database), nor, for MySQL, any database on that server and port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use weir_bi_catalog::drivers::DriverError;
use weir_outbound_policy::{OutboundPolicy, Refusal};

use crate::own::OwnStorage;
use crate::{Server, SqliteFile, whole_seconds};

/// Where datasources may be; see the module documentation. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    policy: OutboundPolicy,
    /// Resolved.
    sqlite_folder: Option<PathBuf>,
    own: OwnStorage,
}

/// A setting the guard cannot work with; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GuardError(pub String);

impl Guard {
    /// Servers as `policy` allows; no SQLite file; Weir's own storage unknown until
    /// [`Guard::own_database`].
    pub fn new(policy: OutboundPolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// Weir's own storage, `database.url`: never a datasource. Call it after the storage
    /// opened the database (an SQLite file then exists and can be resolved).
    pub fn own_database(mut self, database_url: &str) -> Result<Self, GuardError> {
        self.own = OwnStorage::of(database_url);
        self.check_folder()?;
        Ok(self)
    }

    /// SQLite datasources are files inside `folder` (`bi.sqlite_folder`), which must exist.
    pub fn sqlite_folder(mut self, folder: &Path) -> Result<Self, GuardError> {
        let resolved = std::fs::canonicalize(folder)
            .map_err(|e| GuardError(format!("bi.sqlite_folder {}: {e}", folder.display())))?;
        if !resolved.is_dir() {
            return Err(GuardError(format!(
                "bi.sqlite_folder {} is not a folder",
                folder.display()
            )));
        }
        self.sqlite_folder = Some(resolved);
        self.check_folder()?;
        Ok(self)
    }

    /// The SQLite folder may hold Weir's own folder (which stays refused), but not lie
    /// inside it: every datasource would be refused.
    fn check_folder(&self) -> Result<(), GuardError> {
        if let (Some(folder), OwnStorage::File(own)) = (&self.sqlite_folder, &self.own)
            && folder.starts_with(&own.folder)
        {
            return Err(GuardError(format!(
                "bi.sqlite_folder {} is inside the folder of Weir's own database ({}), which \
                 no datasource may read; give the datasources a folder of their own",
                folder.display(),
                own.folder.display()
            )));
        }
        Ok(())
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// The addresses to connect to for `server`, or why it may not be reached.
    pub(crate) fn server(&self, server: &Server) -> Result<Vec<SocketAddr>, DriverError> {
        let addrs = self
            .policy
            .addresses(&server.host, server.port, server.timeout)
            .map_err(|refused| match refused {
                Refusal::Internal { .. } => DriverError::Refused(refused.to_string()),
                Refusal::Unresolved { .. } => DriverError::Connect(refused.to_string()),
                Refusal::Slow { .. } => DriverError::Timeout(whole_seconds(server.timeout)),
            })?;
        if let OwnStorage::Server(own) = &self.own {
            let database = server.postgres.then(|| {
                if server.database.is_empty() {
                    server.user.as_deref().unwrap_or("")
                } else {
                    server.database.as_str()
                }
            });
            if own.is(&server.host, server.port, &addrs, database) {
                return Err(DriverError::Refused(format!(
                    "{} is Weir's own database (database.url), which is never a datasource",
                    server.label()
                )));
            }
        }
        Ok(addrs)
    }

    /// The file to open for `file`, resolved, or why it may not be read.
    pub(crate) fn sqlite(&self, file: &SqliteFile) -> Result<PathBuf, DriverError> {
        let shown = &file.shown;
        let Some(folder) = &self.sqlite_folder else {
            return Err(DriverError::Refused(
                "SQLite datasources are off: the operator has not set bi.sqlite_folder".into(),
            ));
        };
        let not_there = || {
            DriverError::Refused(format!(
                "SQLite file {shown}: no such file inside the folder bi.sqlite_folder opens"
            ))
        };
        let resolved = std::fs::canonicalize(folder.join(&file.path)).map_err(|_| not_there())?;
        if !resolved.starts_with(folder) {
            return Err(not_there());
        }
        if let OwnStorage::File(own) = &self.own
            && own.covers(&resolved)
        {
            return Err(DriverError::Refused(format!(
                "SQLite file {shown} is Weir's own storage (database.url), which is never a \
                 datasource"
            )));
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn file(path: &str) -> SqliteFile {
        SqliteFile::new(path, Duration::from_secs(1), Guard::default())
    }

    #[test]
    fn sqlite_is_off_without_a_folder() {
        assert_eq!(
            Guard::default().sqlite(&file("/tmp/x.db")),
            Err(DriverError::Refused(
                "SQLite datasources are off: the operator has not set bi.sqlite_folder".into()
            ))
        );
    }

    #[test]
    fn sqlite_files_must_resolve_inside_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let allowed = root.path().join("bi");
        std::fs::create_dir(&allowed).unwrap();
        std::fs::write(allowed.join("shop.db"), b"").unwrap();
        std::fs::write(root.path().join("secret.db"), b"").unwrap();
        let guard = Guard::default().sqlite_folder(&allowed).unwrap();
        let real = std::fs::canonicalize(allowed.join("shop.db")).unwrap();

        assert_eq!(
            guard.sqlite(&file(&format!("{}/shop.db", allowed.display()))),
            Ok(real.clone())
        );
        // Relative paths are inside the folder.
        assert_eq!(guard.sqlite(&file("shop.db")), Ok(real.clone()));
        assert_eq!(
            guard.sqlite(&file("./sub/../shop.db")).ok(),
            None,
            "sub does not exist"
        );
        let refused = |p: &str| {
            DriverError::Refused(format!(
                "SQLite file {p}: no such file inside the folder bi.sqlite_folder opens"
            ))
        };
        // Outside, existing or not, and through `..`: the same words.
        for p in [
            format!("{}/secret.db", root.path().display()),
            format!("{}/missing.db", root.path().display()),
            "../secret.db".to_owned(),
            format!("{}/../secret.db", allowed.display()),
            "missing.db".to_owned(),
        ] {
            assert_eq!(guard.sqlite(&file(&p)), Err(refused(&p)), "{p}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.path().join("secret.db"), allowed.join("link.db"))
                .unwrap();
            assert_eq!(guard.sqlite(&file("link.db")), Err(refused("link.db")));
        }
    }

    #[test]
    fn weir_own_sqlite_storage_is_refused_even_inside_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let own = data.join("weir.db");
        std::fs::write(&own, b"").unwrap();
        std::fs::write(data.join("copy.db"), b"").unwrap();
        std::fs::write(root.path().join("shop.db"), b"").unwrap();
        let guard = Guard::default()
            .sqlite_folder(root.path())
            .unwrap()
            .own_database(&own.display().to_string())
            .unwrap();
        let own_words = |p: &str| {
            DriverError::Refused(format!(
                "SQLite file {p} is Weir's own storage (database.url), which is never a \
                 datasource"
            ))
        };
        assert!(guard.sqlite(&file("shop.db")).is_ok());
        for p in [
            "data/weir.db",
            "data/copy.db",
            "data/../data/weir.db",
            "data",
        ] {
            assert_eq!(guard.sqlite(&file(p)), Err(own_words(p)), "{p}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&own, root.path().join("alias.db")).unwrap();
            assert_eq!(guard.sqlite(&file("alias.db")), Err(own_words("alias.db")));
            std::fs::hard_link(&own, root.path().join("hard.db")).unwrap();
            assert_eq!(guard.sqlite(&file("hard.db")), Err(own_words("hard.db")));
        }
        // A datasource folder inside Weir's own is refused at start.
        let inside = Guard::default()
            .own_database(&own.display().to_string())
            .unwrap()
            .sqlite_folder(&data);
        assert!(
            inside
                .unwrap_err()
                .0
                .contains("is inside the folder of Weir's own database"),
        );
        assert!(
            Guard::default()
                .sqlite_folder(&root.path().join("missing"))
                .unwrap_err()
                .0
                .starts_with("bi.sqlite_folder ")
        );
    }
}
