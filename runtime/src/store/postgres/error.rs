//! PostgreSQL's errors as cascadia's: every `postgres::Error` (and a pool
//! that cannot hand out a connection) becomes an [`Error::Store`] of backend
//! `"postgres"`, with the kind read from the SQLSTATE:
//!
//! | SQLSTATE | kind |
//! |---|---|
//! | `40001` serialization failure, `40P01` deadlock, `55P03` lock not available, `57014` query cancelled | `Busy` |
//! | class `08` (connection exceptions), `57P01`–`57P03` (server shutting down), a closed connection, a pool timeout | `Connection` |
//! | class `23` (integrity constraint violations) | `Constraint` |
//! | class `22` (data exceptions), `42804` (datatype mismatch), a value that does not fit its column | `Data` |
//! | anything else | `Other` |

use crate::model::error::{Error, StoreErrorKind};

use super::value::ValueError;

/// The backend name in [`Error::Store`].
pub(super) const BACKEND: &str = "postgres";

/// The kind of a PostgreSQL error.
pub(super) fn kind(error: &postgres::Error) -> StoreErrorKind {
    if let Some(code) = error.code() {
        let code = code.code();
        return match code {
            "40001" | "40P01" | "55P03" | "57014" => StoreErrorKind::Busy,
            "57P01" | "57P02" | "57P03" => StoreErrorKind::Connection,
            "42804" => StoreErrorKind::Data,
            _ if code.starts_with("08") => StoreErrorKind::Connection,
            _ if code.starts_with("23") => StoreErrorKind::Constraint,
            _ if code.starts_with("22") => StoreErrorKind::Data,
            _ => StoreErrorKind::Other,
        };
    }
    let conversion = std::error::Error::source(error)
        .is_some_and(|source| source.downcast_ref::<ValueError>().is_some());
    if conversion {
        StoreErrorKind::Data
    } else if error.is_closed() || std::error::Error::source(error).is_some_and(is_io) {
        StoreErrorKind::Connection
    } else {
        StoreErrorKind::Other
    }
}

fn is_io(source: &(dyn std::error::Error + 'static)) -> bool {
    source.downcast_ref::<std::io::Error>().is_some()
}

/// A PostgreSQL error as [`Error::Store`] carries it: its message says
/// everything the server said (severity, message, SQLSTATE, detail, hint)
/// or the cause of a client-side failure (a value that does not fit its
/// parameter), where `postgres::Error` alone prints "db error". The
/// client's error is its [`source`](std::error::Error::source) and
/// [`inner`](Self::inner).
#[derive(Debug)]
pub struct PostgresError(postgres::Error);

impl PostgresError {
    /// The client's error (SQLSTATE: `inner().code()`).
    pub fn inner(&self) -> &postgres::Error {
        &self.0
    }
}

impl std::fmt::Display for PostgresError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(db) = self.0.as_db_error() {
            write!(
                f,
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            )?;
            if let Some(detail) = db.detail() {
                write!(f, "; {detail}")?;
            }
            if let Some(hint) = db.hint() {
                write!(f, "; hint: {hint}")?;
            }
            return Ok(());
        }
        write!(f, "{}", self.0)?;
        if let Some(source) = std::error::Error::source(&self.0) {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PostgresError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<postgres::Error> for Error {
    fn from(error: postgres::Error) -> Self {
        let kind = kind(&error);
        Error::store(BACKEND, kind, PostgresError(error))
    }
}

/// A pool that handed out no connection in time (the server is down, or
/// every connection is busy): a connection error. A function, not a `From`
/// impl: the pool crate is not PostgreSQL's alone.
pub(super) fn pool(error: r2d2::Error) -> Error {
    Error::store(BACKEND, StoreErrorKind::Connection, error)
}
