//! The events the studio counts. Each label value is a route pattern, a call name, a job kind
//! or a fixed word: never an id, so the number of series stays small.

use super::recorder::{
    A2E_DURATION, A2E_ERRORS, CREDITS, CREDIT_OPERATIONS, JOB_STEPS, WATCH_ROUND,
};
use std::time::Duration;

/// One HTTP request to A2E: `path` is the client's (after `/api/v1/`, query and ids included);
/// `error` is the failure's code, `None` on success.
pub fn a2e_call(method: &str, path: &str, elapsed: Duration, error: Option<&'static str>) {
    let call = a2e_call_name(method, path);
    let outcome = error.unwrap_or("ok");
    metrics::histogram!(A2E_DURATION, "call" => call.clone(), "outcome" => outcome)
        .record(elapsed.as_secs_f64());
    if let Some(error) = error {
        metrics::counter!(A2E_ERRORS, "call" => call, "error" => error).increment(1);
    }
}

/// `GET userVideoTwin/3f9a…` → `GET userVideoTwin/{id}`: the query goes, and so does every
/// segment after the first that is not a plain word (A2E's ids mix letters and digits).
pub fn a2e_call_name(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let mut name = String::from(method);
    for (i, segment) in path.split('/').enumerate() {
        name.push(if i == 0 { ' ' } else { '/' });
        let hex_id = segment.len() >= 16 && segment.chars().all(|c| c.is_ascii_hexdigit());
        let word = segment.len() <= 32
            && !hex_id
            && segment
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '-');
        name.push_str(if i == 0 || word { segment } else { "{id}" });
    }
    name
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditEvent {
    Granted,
    Reserved,
    Settled,
    Refunded,
}

impl CreditEvent {
    fn label(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Reserved => "reserved",
            Self::Settled => "settled",
            Self::Refunded => "refunded",
        }
    }
}

/// A ledger entry was written: `amount` credits (positive) granted, held, made final or given back.
pub fn credits(event: CreditEvent, amount: i64) {
    let event = event.label();
    metrics::counter!(CREDITS, "event" => event).increment(amount.max(0) as u64);
    metrics::counter!(CREDIT_OPERATIONS, "event" => event).increment(1);
}

/// A job step ended with `outcome` (`done`, `again`, `retry`, `failed`, `lease_lost`).
pub fn job_step(kind: &str, outcome: &'static str) {
    metrics::counter!(JOB_STEPS, "kind" => kind.to_string(), "outcome" => outcome).increment(1);
}

/// The training watch finished a round.
pub fn watch_round(elapsed: Duration) {
    metrics::histogram!(WATCH_ROUND).record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::a2e_call_name;

    #[test]
    fn call_names_drop_ids_and_queries() {
        assert_eq!(
            a2e_call_name("GET", "userVideoTwin/66a1b2c3d4e5f60718293a4b"),
            "GET userVideoTwin/{id}"
        );
        assert_eq!(
            a2e_call_name("GET", "userVideoTwin/records?pageNum=1&pageSize=20"),
            "GET userVideoTwin/records"
        );
        assert_eq!(
            a2e_call_name("GET", "anchor/character_list?user_video_twin_id=abc123"),
            "GET anchor/character_list"
        );
        assert_eq!(
            a2e_call_name("POST", "userNanoBanana/detail/0a1b2c"),
            "POST userNanoBanana/detail/{id}"
        );
        assert_eq!(
            a2e_call_name("POST", "video/send_tts"),
            "POST video/send_tts"
        );
        assert_eq!(
            a2e_call_name("GET", "talkingPhoto/abcdefabcdefabcdefabcdef"),
            "GET talkingPhoto/{id}"
        );
    }
}
