//! SQLite's errors as cascadia's: every `rusqlite::Error` becomes an
//! [`Error::Store`] of backend `"sqlite"`, with the kind read from SQLite's
//! result code.

use rusqlite::ErrorCode;

use crate::model::error::{Error, StoreErrorKind};

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        let kind = match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreErrorKind::Busy,
            Some(ErrorCode::ConstraintViolation) => StoreErrorKind::Constraint,
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreErrorKind::Data,
            Some(ErrorCode::CannotOpen) => StoreErrorKind::Connection,
            Some(_) => StoreErrorKind::Other,
            None => match error {
                rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
                | rusqlite::Error::Utf8Error(..) => StoreErrorKind::Data,
                _ => StoreErrorKind::Other,
            },
        };
        Error::store("sqlite", kind, error)
    }
}
