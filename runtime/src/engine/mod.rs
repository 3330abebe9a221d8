//! The engine layer: plans and runs referential actions over a store — the
//! sync executor, the batched engine with its jobs and workers, soft and
//! scheduled deletes, explain and the integrity audit. It imports the model
//! and the store traits, never a backend or the facade.

pub(crate) mod actions;
pub(crate) mod context;
pub(crate) mod execute;
pub(crate) mod explain;
pub(crate) mod guard;
pub(crate) mod integrity;
pub(crate) mod jobs;
pub(crate) mod options;
pub(crate) mod outcome;
pub(crate) mod plan;
pub(crate) mod policy;
pub(crate) mod progress;
pub(crate) mod wakeup;
pub(crate) mod worker;
