//! protovalidate's well-known string formats (`email`, `hostname`, `ip`, `uuid` ...), from
//! the definitions in `buf/validate/validate.proto`'s documentation.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Violations;

/// A well-known string format. An empty value breaks the `_empty` variant of the rule
/// (`string.email_empty`), any other invalid value the rule itself (`string.email`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// `email`: the HTML standard's valid e-mail address.
    Email,
    /// `hostname`: dot-separated labels of 1–63 letters, digits and inner hyphens; the last
    /// not all digits; at most 253 characters, an optional trailing dot.
    Hostname,
    /// `ip`: IPv4 or IPv6 (an IPv6 zone id allowed).
    Ip,
    /// `ipv4`.
    Ipv4,
    /// `ipv6`.
    Ipv6,
    /// `address`: a hostname or an IP address.
    Address,
    /// `uuid`: 8-4-4-4-12 hex digits.
    Uuid,
    /// `tuuid`: 32 hex digits.
    Tuuid,
    /// `ulid`: 26 Crockford base-32 characters, the first at most `7`.
    Ulid,
    /// `ip_with_prefixlen`.
    IpWithPrefixlen,
    /// `ipv4_with_prefixlen`.
    Ipv4WithPrefixlen,
    /// `ipv6_with_prefixlen`.
    Ipv6WithPrefixlen,
    /// `ip_prefix`: an address with a prefix length and zero host bits.
    IpPrefix,
    /// `ipv4_prefix`.
    Ipv4Prefix,
    /// `ipv6_prefix`.
    Ipv6Prefix,
    /// `host_and_port`: a hostname, IPv4 address or bracketed IPv6 address, a colon and a
    /// port of 0–65535.
    HostAndPort,
}

impl Format {
    /// `(rule name, what a valid value is)` as protovalidate words it.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Format::Email => ("email", "email address"),
            Format::Hostname => ("hostname", "hostname"),
            Format::Ip => ("ip", "IP address"),
            Format::Ipv4 => ("ipv4", "IPv4 address"),
            Format::Ipv6 => ("ipv6", "IPv6 address"),
            Format::Address => ("address", "hostname, or ip address"),
            Format::Uuid => ("uuid", "UUID"),
            Format::Tuuid => ("tuuid", "trimmed UUID"),
            Format::Ulid => ("ulid", "ULID"),
            Format::IpWithPrefixlen => ("ip_with_prefixlen", "IP prefix"),
            Format::Ipv4WithPrefixlen => ("ipv4_with_prefixlen", "IPv4 address with prefix length"),
            Format::Ipv6WithPrefixlen => ("ipv6_with_prefixlen", "IPv6 address with prefix length"),
            Format::IpPrefix => ("ip_prefix", "IP prefix"),
            Format::Ipv4Prefix => ("ipv4_prefix", "IPv4 prefix"),
            Format::Ipv6Prefix => ("ipv6_prefix", "IPv6 prefix"),
            Format::HostAndPort => ("host_and_port", "host and port pair"),
        }
    }

    /// Add this format's violation for `value`, if it breaks it.
    pub fn check(self, v: &mut Violations, value: &str) {
        let (name, what) = self.words();
        if value.is_empty() {
            v.add(
                &format!("string.{name}_empty"),
                format!("value is empty, which is not a valid {what}"),
            );
        } else if !self.is_valid(value) {
            let what = match self {
                Format::HostAndPort => "host (hostname or IP address) and port pair",
                Format::IpWithPrefixlen => "IP address with prefix length",
                _ => what,
            };
            v.add(&format!("string.{name}"), format!("must be a valid {what}"));
        }
    }

    /// True when `value` has this format.
    pub fn is_valid(self, value: &str) -> bool {
        match self {
            Format::Email => is_email(value),
            Format::Hostname => is_hostname(value),
            Format::Ip => is_ipv4(value) || is_ipv6(value),
            Format::Ipv4 => is_ipv4(value),
            Format::Ipv6 => is_ipv6(value),
            Format::Address => is_hostname(value) || is_ipv4(value) || is_ipv6(value),
            Format::Uuid => is_uuid(value),
            Format::Tuuid => value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()),
            Format::Ulid => is_ulid(value),
            Format::IpWithPrefixlen => prefix(value, 4, false) || prefix(value, 6, false),
            Format::Ipv4WithPrefixlen => prefix(value, 4, false),
            Format::Ipv6WithPrefixlen => prefix(value, 6, false),
            Format::IpPrefix => prefix(value, 4, true) || prefix(value, 6, true),
            Format::Ipv4Prefix => prefix(value, 4, true),
            Format::Ipv6Prefix => prefix(value, 6, true),
            Format::HostAndPort => is_host_and_port(value),
        }
    }
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
        && !domain.ends_with('.')
        && is_hostname(domain)
}

fn is_hostname(value: &str) -> bool {
    let name = value.strip_suffix('.').unwrap_or(value);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let mut last = "";
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return false;
        }
        last = label;
    }
    !last.bytes().all(|b| b.is_ascii_digit())
}

fn is_ipv4(value: &str) -> bool {
    value.parse::<Ipv4Addr>().is_ok()
}

fn is_ipv6(value: &str) -> bool {
    let addr = match value.split_once('%') {
        // A zone id: anything non-empty after the `%`.
        Some((addr, zone)) if !zone.is_empty() => addr,
        Some(_) => return false,
        None => value,
    };
    addr.parse::<Ipv6Addr>().is_ok()
}

fn is_uuid(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_ulid(value: &str) -> bool {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz";
    value.len() == 26 && value.bytes().all(|b| ALPHABET.contains(&b)) && value.as_bytes()[0] <= b'7'
}

/// `addr/len` of IP version `version`; with `network`, the host bits must be zero.
fn prefix(value: &str, version: u8, network: bool) -> bool {
    let Some((addr, len)) = value.split_once('/') else {
        return false;
    };
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(len) = len.parse::<u32>() else {
        return false;
    };
    match version {
        4 => {
            let Ok(ip) = addr.parse::<Ipv4Addr>() else {
                return false;
            };
            len <= 32 && (!network || u32::from(ip).checked_shl(len).unwrap_or(0) == 0)
        }
        _ => {
            let Ok(ip) = addr.parse::<Ipv6Addr>() else {
                return false;
            };
            len <= 128 && (!network || u128::from(ip).checked_shl(len).unwrap_or(0) == 0)
        }
    }
}

fn is_host_and_port(value: &str) -> bool {
    let Some((host, port)) = value.rsplit_once(':') else {
        return false;
    };
    let port_ok = !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| p <= 65535)
        && (port == "0" || !port.starts_with('0'));
    if !port_ok {
        return false;
    }
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => is_ipv6(v6),
        None => is_hostname(host) || is_ipv4(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_accept_and_refuse_the_documented_shapes() {
        assert!(Format::Email.is_valid("foo@example.com"));
        assert!(!Format::Email.is_valid("foo@"));
        assert!(!Format::Email.is_valid("<foo@example.com>"));
        assert!(Format::Hostname.is_valid("foo.example.com."));
        assert!(!Format::Hostname.is_valid("foo.123"));
        assert!(!Format::Hostname.is_valid("-foo.com"));
        assert!(Format::Ip.is_valid("fe80::a%en1"));
        assert!(!Format::Ipv4.is_valid("::1"));
        assert!(Format::Uuid.is_valid("8f0e6a84-2e4b-4bd1-9cc6-d12a5c0e4d1e"));
        assert!(!Format::Uuid.is_valid("8f0e6a842e4b4bd19cc6d12a5c0e4d1e"));
        assert!(Format::Tuuid.is_valid("8f0e6a842e4b4bd19cc6d12a5c0e4d1e"));
        assert!(Format::Ipv4Prefix.is_valid("192.168.0.0/16"));
        assert!(!Format::Ipv4Prefix.is_valid("192.168.1.0/16"));
        assert!(Format::Ipv4WithPrefixlen.is_valid("192.168.1.0/16"));
        assert!(Format::HostAndPort.is_valid("[::1]:8080"));
        assert!(!Format::HostAndPort.is_valid("example.com:65536"));
        assert!(Format::Ulid.is_valid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
    }
}
