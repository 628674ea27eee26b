//! Addresses: what a server publishes in the registry.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The address to publish for a server listening on `local`: never `0.0.0.0`.
pub(crate) fn advertise_address(local: SocketAddr) -> SocketAddr {
    if !local.ip().is_unspecified() {
        return local;
    }
    SocketAddr::new(
        interface_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        local.port(),
    )
}

/// A private IPv4 address of a non-loopback interface (as go-micro's address extraction).
fn interface_ip() -> Option<IpAddr> {
    let addrs = if_addrs::get_if_addrs().ok()?;
    let v4: Vec<Ipv4Addr> = addrs
        .iter()
        .filter(|a| !a.is_loopback())
        .filter_map(|a| match a.ip() {
            IpAddr::V4(ip) if !ip.is_link_local() => Some(ip),
            _ => None,
        })
        .collect();
    v4.iter()
        .find(|ip| ip.is_private())
        .or_else(|| v4.first())
        .map(|ip| IpAddr::V4(*ip))
}

/// `:8080` means every interface, as in go-micro.
pub(crate) fn normalize_address(addr: &str) -> String {
    match addr.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => addr.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertise_is_never_unspecified() {
        let local: SocketAddr = "0.0.0.0:1234".parse().unwrap();
        let adv = advertise_address(local);
        assert!(!adv.ip().is_unspecified());
        assert_eq!(adv.port(), 1234);
        let fixed: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(advertise_address(fixed), fixed);
    }

    #[test]
    fn port_only_means_every_interface() {
        assert_eq!(normalize_address(":9000"), "0.0.0.0:9000");
        assert_eq!(normalize_address("127.0.0.1:1"), "127.0.0.1:1");
    }
}
