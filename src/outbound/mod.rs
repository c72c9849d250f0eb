//! The one gate for URLs a user gives that the studio fetches or hands to A2E: every address the
//! host resolves to must be public (no loopback, private, link-local, CGNAT, multicast,
//! unspecified or IPv4-mapped forms of those), and the fetch then connects to exactly the
//! addresses that were checked (no DNS rebinding), follows no redirect, and is capped in time
//! (and, by the caller, in size). Operators may allow named hosts (`FETCH_ALLOW_HOSTS`).
//! URLs that A2E itself returns are trusted and do not come through here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// What a refused URL is told: one plain sentence, the same whatever is (or is not) there.
pub const REFUSED: &str = "This URL cannot be used: the studio only fetches public web addresses.";

#[derive(Clone, Debug, Default)]
pub struct Outbound {
    /// `host` or `host:port` entries, lower case.
    allow: Vec<String>,
}

/// A URL that passed: fetch it only with `client`, which connects to the checked addresses.
pub struct Checked {
    pub url: url::Url,
    pub client: reqwest::Client,
}

impl Outbound {
    /// From `FETCH_ALLOW_HOSTS`: comma-separated host names or `host:port`.
    pub fn new(allow_hosts: &str) -> Self {
        let allow = allow_hosts
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Self { allow }
    }

    fn allowed(&self, host: &str, port: u16) -> bool {
        let with_port = format!("{host}:{port}");
        self.allow.iter().any(|a| *a == host || *a == with_port)
    }

    /// Resolves `raw` and answers a client pinned to its addresses, or `Err(REFUSED)`.
    pub async fn check(&self, raw: &str) -> Result<Checked, &'static str> {
        let url = url::Url::parse(raw.trim()).map_err(|_| REFUSED)?;
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
            return Err(REFUSED);
        }
        let port = url.port_or_known_default().ok_or(REFUSED)?;
        let host = match url.host().ok_or(REFUSED)? {
            url::Host::Domain(d) => d.to_ascii_lowercase(),
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => ip.to_string(),
        };
        if self.allowed(&host, port) {
            // The operator vouches for this host: its own DNS answer is used as it comes.
            let client = pinned_client(None, &host)?;
            return Ok(Checked { url, client });
        }
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
            _ => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| REFUSED)?
                .collect(),
        };
        if addrs.is_empty() || !addrs.iter().all(|a| is_public(a.ip())) {
            tracing::warn!(%host, "refused an outbound URL to a non-public address");
            return Err(REFUSED);
        }
        let client = pinned_client(Some(&addrs), &host)?;
        Ok(Checked { url, client })
    }
}

/// A client that connects only to `addrs` for `host` (when given), follows no redirect (each
/// hop would need checking) and gives up after a minute.
fn pinned_client(
    addrs: Option<&[SocketAddr]>,
    host: &str,
) -> Result<reqwest::Client, &'static str> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60));
    if let Some(addrs) = addrs {
        builder = builder.resolve_to_addrs(host, addrs);
    }
    builder.build().map_err(|_| REFUSED)
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| compatible_v4(v6)) {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let cgnat = a == 100 && (64..128).contains(&b);
    let reserved = a >= 240 || a == 0;
    let benchmark = a == 198 && (b == 18 || b == 19);
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || cgnat
        || reserved
        || benchmark)
}

/// The deprecated IPv4-compatible form `::a.b.c.d` (not `::` or `::1`).
fn compatible_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    (s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1)).then(|| {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    })
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    let documentation = first == 0x2001 && ip.segments()[1] == 0x0db8;
    let nat64 = first == 0x0064 && ip.segments()[1] == 0xff9b;
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || documentation
        || nat64)
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_public_addresses_pass() {
        let private = [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2001:db8::1",
        ];
        for ip in private {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }
}
