//! IP addresses as evidence: parsing, and rejecting addresses that say nothing about a place.
//!
//! Accepted text: an IPv4 or IPv6 address, optionally with a port (`1.2.3.4:443`,
//! `[2001:db8::1]:443`) or an IPv6 zone (`fe80::1%eth0`, which is link-local anyway).
//! IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are read as the IPv4 address.
//!
//! Private, loopback, link-local, shared (CGNAT), documentation, benchmarking, multicast,
//! unspecified and other reserved addresses are findings: they are not routable on the
//! Internet, so no geolocation database can place them, and they would link unrelated
//! accounts behind the same home router range.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Parses an address; `Err` carries why it cannot be evidence.
pub fn parse_ip(raw: &str) -> Result<IpAddr, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    let ip = t
        .parse::<IpAddr>()
        .or_else(|_| t.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| {
            let no_zone = t.split_once('%').map_or(t, |(a, _)| a);
            no_zone.parse::<IpAddr>()
        })
        .map_err(|_| "not an IP address".to_string())?;
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    match non_global_reason(ip) {
        Some(reason) => Err(format!("{reason} address, not routable on the Internet")),
        None => Ok(ip),
    }
}

/// Why an address is not a global unicast address, or `None` when it is.
pub fn non_global_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified (0.0.0.0/8)")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared (CGNAT, 100.64.0.0/10)")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_documentation() {
        Some("documentation")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking (198.18.0.0/15)")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignment (192.0.0.0/24)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if o[0] >= 240 {
        Some("reserved (240.0.0.0/4)")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("unique local (fc00::/7)")
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some("documentation (2001:db8::/32)")
    } else if (s[0] & 0xe000) != 0x2000 {
        // Everything outside 2000::/3 is unassigned or special (NAT64 64:ff9b::/96 included).
        Some("not global unicast (outside 2000::/3)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_global() {
        assert_eq!(parse_ip(" 8.8.8.8 ").unwrap().to_string(), "8.8.8.8");
        assert_eq!(parse_ip("8.8.8.8:443").unwrap().to_string(), "8.8.8.8");
        assert_eq!(parse_ip("::ffff:8.8.8.8").unwrap().to_string(), "8.8.8.8");
        assert_eq!(
            parse_ip("[2a00:1450::1]:443").unwrap().to_string(),
            "2a00:1450::1"
        );
    }

    #[test]
    fn rejects_special() {
        for bad in [
            "",
            "999.1.1.1",
            "1.2.3",
            "10.0.0.1",
            "127.0.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "100.64.0.1",
            "169.254.1.1",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1%eth0",
            "fd00::1",
            "2001:db8::1",
            "ff02::1",
        ] {
            assert!(parse_ip(bad).is_err(), "{bad:?} accepted");
        }
    }
}
