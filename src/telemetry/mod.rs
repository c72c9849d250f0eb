//! What an operator watches: Prometheus metrics at `GET /metrics` and the log format.
//!
//! Metric names and labels live here only; the rest of the code calls the small `record`
//! functions, so a label can never carry an id, an email or a key by accident.

pub mod endpoint;
pub mod http;
pub mod logs;
pub mod record;
pub mod recorder;

pub use record::{a2e_call, credits, job_step, watch_round, CreditEvent};
