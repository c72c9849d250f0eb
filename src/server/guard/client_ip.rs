//! The client's address: the connecting socket, or, behind a trusted reverse proxy, the address
//! that proxy appended to `X-Forwarded-For`. Anyone can send that header, so it is believed only
//! when the connection comes from a proxy the operator named (`TRUSTED_PROXY`).

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// The client's address, put into every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

#[derive(Clone)]
pub struct TrustedProxies(Arc<Vec<IpAddr>>);

impl TrustedProxies {
    pub fn new(proxies: &[IpAddr]) -> Self {
        Self(Arc::new(proxies.to_vec()))
    }

    /// Walks `X-Forwarded-For` from the right (the entry our proxy wrote) past the trusted
    /// proxies; the first other address is the client.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.0.contains(&peer) {
            return peer;
        }
        let hops = forwarded_for.unwrap_or_default().split(',').rev();
        let mut client = peer;
        for hop in hops {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.0.contains(&ip) => client = ip,
                Ok(ip) => return ip,
                // A garbled entry: stop at the last address we could vouch for.
                Err(_) => return client,
            }
        }
        client
    }
}

pub async fn middleware(proxies: TrustedProxies, mut req: Request, next: Next) -> Response {
    // Served without connection info (never in this binary): all callers share one bucket.
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let client = proxies.client(peer, forwarded);
    req.extensions_mut().insert(ClientIp(client));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let none = TrustedProxies::new(&[]);
        assert_eq!(none.client(ip("10.0.0.9"), Some("1.2.3.4")), ip("10.0.0.9"));
        let proxy = TrustedProxies::new(&[ip("10.0.0.9")]);
        assert_eq!(proxy.client(ip("10.0.0.9"), Some("1.2.3.4")), ip("1.2.3.4"));
        // A client cannot pick its address by prepending entries: the rightmost untrusted hop wins.
        assert_eq!(
            proxy.client(ip("10.0.0.9"), Some("6.6.6.6, 1.2.3.4")),
            ip("1.2.3.4")
        );
        assert_eq!(
            proxy.client(ip("10.0.0.9"), Some("1.2.3.4, 10.0.0.9")),
            ip("1.2.3.4")
        );
        assert_eq!(proxy.client(ip("10.0.0.9"), None), ip("10.0.0.9"));
        assert_eq!(proxy.client(ip("10.0.0.9"), Some("junk")), ip("10.0.0.9"));
        assert_eq!(proxy.client(ip("5.5.5.5"), Some("1.2.3.4")), ip("5.5.5.5"));
    }
}
