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

impl From<postgres::Error> for Error {
    fn from(error: postgres::Error) -> Self {
        let kind = kind(&error);
        Error::store(BACKEND, kind, error)
    }
}

/// A pool that handed out no connection in time (the server is down, or
/// every connection is busy): a connection error. A function, not a `From`
/// impl: the pool crate is not PostgreSQL's alone.
pub(super) fn pool(error: r2d2::Error) -> Error {
    Error::store(BACKEND, StoreErrorKind::Connection, error)
}
