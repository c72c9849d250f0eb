//! Durable background work: a job queue in the database and a runner that works it (surviving
//! restarts, shared safely by several instances on PostgreSQL).

pub mod queue;
pub mod runner;

// The event hub lives in `crate::live`; kept reachable here until the domain imports it there.
pub use crate::live::{EventHub, LiveEvent};
pub use queue::{Job, NewJob, Outcome};
pub use runner::{JobHandler, Runner};
