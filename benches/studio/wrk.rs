//! Load from Debian's `wrk`: runs it and reads its report.

use std::process::Command;

/// What one `wrk` run measured.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Answers outside 2xx/3xx, and socket errors: a row with either is not a fair figure.
    pub bad_answers: u64,
    pub socket_errors: u64,
    /// The report's summary line was found (a report without it was not understood).
    understood: bool,
}

impl Load {
    /// A route that was not loaded: no answers, latency unknown.
    pub fn none() -> Self {
        Self {
            p50_ms: f64::INFINITY,
            p99_ms: f64::INFINITY,
            ..Self::default()
        }
    }
}

/// `wrk` with `connections` keep-alive connections for `seconds`, one header per entry.
pub fn run(url: &str, connections: u32, seconds: u32, headers: &[String]) -> Load {
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{}", connections.min(2)))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--latency")
        .arg("--timeout")
        .arg("10s");
    for header in headers {
        cmd.arg("-H").arg(header);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk runs (./dev bench installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk {url} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut load = parse(&text);
    // A report this parser misread must stop the bench, not print zeros as figures.
    assert!(
        load.understood,
        "could not read wrk's report for {url}:\n{text}"
    );
    if load.requests == 0 {
        // Not one answer within the run: its latency is unknown, not zero.
        println!("  {url}: no request finished within the {seconds} s run");
        load.p50_ms = f64::INFINITY;
        load.p99_ms = f64::INFINITY;
    }
    load
}

/// Reads wrk 4's report: `Requests/sec:`, the `--latency` percentiles, the request count,
/// `Non-2xx or 3xx responses:` and `Socket errors:` lines.
pub fn parse(report: &str) -> Load {
    let mut load = Load::default();
    for line in report.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("Requests/sec:") => load.per_second = number(words.next()),
            Some("50%") => load.p50_ms = millis(words.next().unwrap_or("")),
            Some("99%") => load.p99_ms = millis(words.next().unwrap_or("")),
            Some("Non-2xx") => load.bad_answers = number(line.rsplit(' ').next()) as u64,
            Some("Socket") => {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                load.socket_errors = line
                    .split([',', ':'])
                    .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                    .sum();
            }
            Some(n) if line.contains(" requests in ") => {
                load.requests = number(Some(n)) as u64;
                load.understood = true;
            }
            _ => {}
        }
    }
    load
}

fn number(word: Option<&str>) -> f64 {
    word.and_then(|w| w.parse().ok()).unwrap_or(0.0)
}

/// `812.00us`, `3.21ms`, `1.02s`, `1.50m` in milliseconds.
fn millis(value: &str) -> f64 {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (n, unit) = value.split_at(split);
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => f64::NAN,
    }
}
