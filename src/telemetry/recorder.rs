//! The process-wide Prometheus recorder. `metrics` has one global recorder per process, and
//! a process may build several servers (the integration tests do), so it is installed once.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

pub const HTTP_DURATION: &str = "avatar_studio_http_request_duration_seconds";
pub const A2E_DURATION: &str = "avatar_studio_a2e_request_duration_seconds";
pub const A2E_ERRORS: &str = "avatar_studio_a2e_errors_total";
pub const CREDITS: &str = "avatar_studio_credits_total";
pub const CREDIT_OPERATIONS: &str = "avatar_studio_credit_operations_total";
pub const JOB_STEPS: &str = "avatar_studio_job_steps_total";
pub const JOBS: &str = "avatar_studio_jobs";
pub const TRAININGS_IN_FLIGHT: &str = "avatar_studio_trainings_in_flight";
pub const PAGES_IN_MEMORY: &str = "avatar_studio_pages_in_memory";
pub const LISTS_KEPT: &str = "avatar_studio_lists_kept";
pub const LISTS_KEPT_BYTES: &str = "avatar_studio_lists_kept_bytes";
pub const LIST_LOOKUPS: &str = "avatar_studio_list_lookups_total";
pub const WATCH_ROUND: &str = "avatar_studio_training_watch_round_seconds";

/// Pages and API answers take milliseconds; streams and uploads take longer.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// A2E answers in tenths of a second to tens of seconds (timeouts at `A2E_TIMEOUT_SECS`).
const A2E_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// A watch round should take a small share of the poll interval (ten seconds by default).
const WATCH_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Histograms keep their samples until rendered; without scrapes they would pile up.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The recorder's handle, installing the recorder on first use. `None` when another recorder
/// was installed first (an embedding program's): its metrics are then its own business.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(A2E_DURATION.into()), A2E_BUCKETS))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(WATCH_ROUND.into()), WATCH_BUCKETS))
        .and_then(|b| b.install_recorder());
    let handle = match handle {
        Ok(handle) => handle,
        Err(err) => {
            tracing::warn!(error = %err, "metrics are off: cannot install the recorder");
            return None;
        }
    };
    describe();
    // A plain thread, not a task: servers (and their runtimes) may come and go in one process.
    let upkeep = handle.clone();
    let _ = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            upkeep.run_upkeep();
        });
    Some(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to the response's head, by method, matched route and status."
    );
    describe_histogram!(
        A2E_DURATION,
        Unit::Seconds,
        "One HTTP request to A2E (each retry counts), by call and outcome."
    );
    describe_counter!(A2E_ERRORS, "Failed A2E requests, by call and error.");
    describe_counter!(
        CREDITS,
        "Credits granted, reserved, settled and refunded (amounts), by event."
    );
    describe_counter!(
        CREDIT_OPERATIONS,
        "Ledger entries written for credit grants, reservations, settlements and refunds."
    );
    describe_counter!(JOB_STEPS, "Job steps run, by job kind and outcome.");
    describe_histogram!(
        WATCH_ROUND,
        Unit::Seconds,
        "One round of the training watch (every training in flight looked at once at A2E): \
         a round near the poll interval delays the news of finished trainings."
    );
    describe_gauge!(JOBS, "Unfinished jobs in the database, by kind and state.");
    describe_gauge!(
        PAGES_IN_MEMORY,
        "Server-rendered pages whose reactive state is still held (0 when idle)."
    );
    describe_gauge!(
        LISTS_KEPT,
        "Lists kept in memory (SQLite), by kind: pages of rows, or JSON answers as sent."
    );
    describe_gauge!(
        LISTS_KEPT_BYTES,
        Unit::Bytes,
        "What the kept lists take, by kind."
    );
    describe_counter!(
        LIST_LOOKUPS,
        "Lookups of kept lists, by kind and outcome: kept (answered from memory) or made."
    );
    describe_gauge!(
        TRAININGS_IN_FLIGHT,
        "Characters whose avatar is training at A2E now."
    );
}
