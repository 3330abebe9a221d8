//! `JobId`: the id of a delete job, shared by errors and the engine.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of a delete job: a number, increasing in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
