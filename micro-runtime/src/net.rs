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
    default_interface().map(|(_, ip)| IpAddr::V4(ip))
}

/// The interface a node speaks on by default: the first non-loopback, non-link-local IPv4
/// one with a private address, else the first such one at all; its name and address.
pub(crate) fn default_interface() -> Option<(String, Ipv4Addr)> {
    let addrs = if_addrs::get_if_addrs().ok()?;
    let v4: Vec<(String, Ipv4Addr)> = addrs
        .into_iter()
        .filter(|a| !a.is_loopback())
        .filter_map(|a| match a.ip() {
            IpAddr::V4(ip) if !ip.is_link_local() => Some((a.name, ip)),
            _ => None,
        })
        .collect();
    let private = v4.iter().position(|(_, ip)| ip.is_private()).unwrap_or(0);
    v4.into_iter().nth(private)
}

/// The address to publish when the advertised address is set to `advertise` and the server
/// listens on `port`: a bare host name or IP takes the listening port (what Docker and
/// Kubernetes setups pass), `host:port` and `[v6]:port` stay as they are. Anything else is
/// refused with what is wrong.
pub(crate) fn advertise_with_port(advertise: &str, port: u16) -> Result<String, String> {
    let text = advertise.trim();
    if text.parse::<SocketAddr>().is_ok() {
        return Ok(text.to_owned());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port).to_string());
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return inner
            .parse::<std::net::Ipv6Addr>()
            .map(|ip| SocketAddr::new(IpAddr::V6(ip), port).to_string())
            .map_err(|_| format!("{text:?} is not an IPv6 address in brackets"));
    }
    let (host, with_port) = match text.rsplit_once(':') {
        Some((host, p)) => match p.parse::<u16>() {
            Ok(_) => (host, true),
            Err(_) => {
                return Err(format!(
                    "{text:?} has no valid port after ':' (write host:port, [v6]:port or a bare host)"
                ));
            }
        },
        None => (text, false),
    };
    let valid_host = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid_host {
        return Err(format!(
            "{text:?} is not a host name, an IP address, host:port or [v6]:port"
        ));
    }
    Ok(if with_port {
        text.to_owned()
    } else {
        format!("{host}:{port}")
    })
}

/// `:8080` means every interface, as in go-micro.
pub(crate) fn normalize_address(addr: &str) -> String {
    match addr.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => addr.to_owned(),
    }
}

/// `address` without a password: `redis://:secret@host` → `redis://:***@host`,
/// `password=secret` → `password=***`.
pub fn redact(address: &str) -> String {
    if let Some((scheme, rest)) = address.split_once("://") {
        // The user info ends at the last `@` (a password may hold `/` or `@`).
        if let Some((user_info, host_and_path)) = rest.rsplit_once('@') {
            let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
            let hidden = if user_info.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            return format!("{scheme}://{hidden}@{host_and_path}");
        }
        return address.to_owned();
    }
    address
        .split(' ')
        .map(|part| match part.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_their_passwords() {
        assert_eq!(
            redact("redis://:pw@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/test"),
            "postgres://app:***@db:5432/test"
        );
        assert_eq!(redact("postgres://app@db/test"), "postgres://app@db/test");
        assert_eq!(
            redact("host=db user=app password=x dbname=t"),
            "host=db user=app password=*** dbname=t"
        );
        assert_eq!(redact("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(
            redact("amqp://u:pa/ss@h:5672/%2f"),
            "amqp://u:***@h:5672/%2f"
        );
        assert_eq!(redact("amqp://u:p@ss@h/v"), "amqp://u:***@h/v");
    }

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
    fn a_bare_advertised_host_takes_the_listening_port() {
        let ok = |a: &str| advertise_with_port(a, 9000).unwrap();
        assert_eq!(ok("127.0.0.1"), "127.0.0.1:9000");
        assert_eq!(ok("10.0.0.7:8080"), "10.0.0.7:8080");
        assert_eq!(ok("greeter.default.svc"), "greeter.default.svc:9000");
        assert_eq!(ok("greeter:7000"), "greeter:7000");
        assert_eq!(ok("::1"), "[::1]:9000");
        assert_eq!(ok("[fd00::7]"), "[fd00::7]:9000");
        assert_eq!(ok("[fd00::7]:81"), "[fd00::7]:81");
        for bad in [
            "",
            "host:port",
            "a b",
            "[nope]",
            "-bad.example",
            "x:99999",
            "http://x",
        ] {
            assert!(advertise_with_port(bad, 9000).is_err(), "{bad}");
        }
    }

    #[test]
    fn port_only_means_every_interface() {
        assert_eq!(normalize_address(":9000"), "0.0.0.0:9000");
        assert_eq!(normalize_address("127.0.0.1:1"), "127.0.0.1:1");
    }
}
