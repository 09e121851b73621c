//! The port and protocol names the ASA writes in its configuration, as it defines them
//! (TCP and UDP names differ: `kerberos` is 750 and `radius` 1645).

use crate::read::nftables::proto_number;
use crate::space::{PROTO, Set, TCP, UDP};

/// Port names of both TCP and UDP.
pub(super) const PORTS: &[(&str, u16)] = &[
    ("discard", 9),
    ("echo", 7),
    ("domain", 53),
    ("www", 80),
    ("http", 80),
    ("sunrpc", 111),
    ("kerberos", 750),
    ("nfs", 2049),
    ("sip", 5060),
    ("tacacs", 49),
    ("talk", 517),
    ("pim-auto-rp", 496),
    ("cifs", 3020),
];

/// Port names of UDP only.
pub(super) const UDP_PORTS: &[(&str, u16)] = &[
    ("biff", 512),
    ("bootpc", 68),
    ("bootps", 67),
    ("dnsix", 195),
    ("isakmp", 500),
    ("mobile-ip", 434),
    ("nameserver", 42),
    ("netbios-dgm", 138),
    ("netbios-ns", 137),
    ("ntp", 123),
    ("pcanywhere-status", 5632),
    ("radius", 1645),
    ("radius-acct", 1646),
    ("rip", 520),
    ("secureid-udp", 5510),
    ("snmp", 161),
    ("snmptrap", 162),
    ("syslog", 514),
    ("tftp", 69),
    ("time", 37),
    ("who", 513),
    ("xdmcp", 177),
];

/// Port names of TCP only.
pub(super) const TCP_PORTS: &[(&str, u16)] = &[
    ("aol", 5190),
    ("bgp", 179),
    ("chargen", 19),
    ("citrix-ica", 1494),
    ("cmd", 514),
    ("rsh", 514),
    ("ctiqbe", 2748),
    ("daytime", 13),
    ("exec", 512),
    ("finger", 79),
    ("ftp", 21),
    ("ftp-data", 20),
    ("gopher", 70),
    ("h323", 1720),
    ("hostname", 101),
    ("https", 443),
    ("ident", 113),
    ("imap4", 143),
    ("irc", 194),
    ("klogin", 543),
    ("kshell", 544),
    ("ldap", 389),
    ("ldaps", 636),
    ("login", 513),
    ("lotusnotes", 1352),
    ("lpd", 515),
    ("netbios-ssn", 139),
    ("nntp", 119),
    ("pcanywhere-data", 5631),
    ("pop2", 109),
    ("pop3", 110),
    ("pptp", 1723),
    ("rtsp", 554),
    ("smtp", 25),
    ("sqlnet", 1521),
    ("ssh", 22),
    ("telnet", 23),
    ("uucp", 540),
    ("whois", 43),
];

/// Protocol keywords of one protocol number that are not the common names (`tcp`, `udp`,
/// `icmp`, `esp`, `gre` ...: [`proto_number`]). `ip` (every protocol) and `tcp-udp` are
/// sets, in [`protocol`].
pub(super) const PROTOCOLS: &[(&str, u8)] = &[
    ("icmp6", 58),
    ("eigrp", 88),
    ("ospf", 89),
    ("pim", 103),
    ("ipinip", 4),
    ("nos", 94),
    ("pcp", 108),
    ("snp", 109),
    ("igrp", 9),
    ("ipsec", 50),
    ("pptp", 47),
];

fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// A port: a number or a name of the protocol (`udp`: the UDP names, else the TCP ones).
pub(super) fn port_number(name: &str, udp: bool) -> Option<u128> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(u128::from(n));
    }
    let own = if udp { UDP_PORTS } else { TCP_PORTS };
    lookup(PORTS, name)
        .or_else(|| lookup(own, name))
        .map(u128::from)
}

/// An ASA protocol keyword or number (`ip` is every protocol).
pub(super) fn protocol(name: &str) -> Option<Set> {
    Some(match name {
        "ip" => Set::full(PROTO),
        "tcp-udp" => Set::from_intervals(vec![(TCP, TCP), (UDP, UDP)]),
        n => match lookup(PROTOCOLS, n) {
            Some(p) => Set::one(u128::from(p)),
            None => match n.parse::<u8>() {
                Ok(x) => Set::one(u128::from(x)),
                Err(_) => Set::one(proto_number(n)?),
            },
        },
    })
}

/// Whether ports may follow a protocol set (TCP and UDP only).
pub(super) fn ported(p: &Set) -> bool {
    !p.is_empty() && p.subset_of(&Set::from_intervals(vec![(TCP, TCP), (UDP, UDP)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_in_one_table_once() {
        for (t, table) in [PORTS, UDP_PORTS, TCP_PORTS].iter().enumerate() {
            for (i, (n, _)) in table.iter().enumerate() {
                assert!(n.parse::<u16>().is_err(), "{n}");
                assert!(!table[..i].iter().any(|(m, _)| m == n), "{n} twice");
                if t > 0 {
                    assert!(lookup(PORTS, n).is_none(), "{n} is in PORTS too");
                }
            }
        }
        for (i, (n, _)) in PROTOCOLS.iter().enumerate() {
            assert!(!PROTOCOLS[..i].iter().any(|(m, _)| m == n), "{n} twice");
            assert!(proto_number(n).is_none(), "{n} is a common name");
        }
    }

    #[test]
    fn names_by_protocol() {
        assert_eq!(port_number("www", true), Some(80));
        assert_eq!(port_number("syslog", true), Some(514));
        assert_eq!(port_number("syslog", false), None);
        assert_eq!(port_number("rsh", false), Some(514));
        assert_eq!(port_number("65535", false), Some(65535));
        assert_eq!(port_number("65536", false), None);
        assert_eq!(protocol("tcp"), Some(Set::one(TCP)));
        assert_eq!(protocol("eigrp"), Some(Set::one(88)));
        assert_eq!(protocol("112"), Some(Set::one(112)));
        assert_eq!(protocol("tcp-udp").as_ref().map(ported), Some(true));
        assert_eq!(protocol("ip").as_ref().map(ported), Some(false));
        assert_eq!(protocol("nosuch"), None);
    }
}
