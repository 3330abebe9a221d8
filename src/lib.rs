//! cascadia: foreign-key graphs checked by the compiler, and referential
//! actions run in bounded, resumable batches.

pub use cascadia_macros::Table;
pub use cascadia_runtime::*;
