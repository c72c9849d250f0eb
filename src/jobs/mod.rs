//! Durable background work: a job queue in the database and a runner that works it (surviving
//! restarts, shared safely by several instances on PostgreSQL).

pub mod queue;
pub mod runner;

pub use queue::{Fence, Job, NewJob, Outcome};
pub use runner::{JobHandler, Runner};
