//! Durable background work: a job queue in the database, a runner that works it (surviving
//! restarts, shared safely by several instances on PostgreSQL), and live events for the UI.

pub mod events;
pub mod queue;
pub mod runner;

pub use events::{EventHub, LiveEvent};
pub use queue::{Fence, Job, NewJob, Outcome};
pub use runner::{JobHandler, Runner};
