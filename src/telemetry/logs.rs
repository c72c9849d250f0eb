//! Log lines on standard output: readable text by default, one JSON object a line with
//! `LOG_FORMAT=json`. Either way `RUST_LOG` picks what is logged.

use tracing_subscriber::EnvFilter;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match is_json(format) {
        true => builder.json().try_init(),
        false => builder.try_init(),
    };
}

pub fn is_json(format: &str) -> bool {
    format == "json"
}
