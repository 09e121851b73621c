//! Management access an enforcing firewall keeps although no planned flow needs it: the
//! entries of `rules --keep` and of the deployment file's `[firewall] keep`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use crate::model::{PortRange, Protocol};
use crate::port_list::{PortItem, PortItemError};

/// Management access to keep (`--keep`): new connections from `source`, to `ports` of one
/// protocol or (when `None`) to everything, accepted by an enforcing firewall although no
/// planned flow needs them: the admin's workstation, SSH to a Linux host.
///
/// Written `ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]]`, an IPv6 address in brackets when a
/// port follows (`[2001:db8::5]:22`); TCP unless `/udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keep {
    /// Where the connections come from.
    pub source: IpNet,
    /// The ports (and protocol) they go to; `None`: every port and protocol.
    pub ports: Option<(Protocol, PortRange)>,
}

impl FromStr for Keep {
    type Err = String;

    /// Parses `ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]]`. The error quotes the entry, says
    /// what is wrong and shows the format with an example.
    fn from_str(s: &str) -> Result<Keep, String> {
        let bad = |why: &str| {
            format!(
                "{s:?}: {why} (expected ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]], for \
                 example 198.51.100.7:22 or [2001:db8::7]:22/tcp)"
            )
        };
        let (addr, rest) = if let Some(r) = s.strip_prefix('[') {
            let (a, rest) = r.split_once(']').ok_or_else(|| bad("no closing ']'"))?;
            match rest {
                "" => (a, None),
                _ => (
                    a,
                    Some(
                        rest.strip_prefix(':')
                            .ok_or_else(|| bad("':' must follow ']'"))?,
                    ),
                ),
            }
        } else if s.matches(':').count() == 1 {
            let (a, p) = s.split_once(':').ok_or_else(|| bad("no port"))?;
            (a, Some(p))
        } else {
            (s, None)
        };
        let source = match addr.parse::<IpNet>() {
            Ok(n) => n.trunc(),
            Err(_) => IpNet::from(
                addr.parse::<IpAddr>()
                    .map_err(|_| bad("not an address or network"))?,
            ),
        };
        let ports = match rest {
            None => None,
            // One item of the grammar `check --ports` and `listen --ports` read.
            Some(p) => match p.parse::<PortItem>() {
                Ok(item) => Some((item.protocol.unwrap_or(Protocol::Tcp), item.ports)),
                Err(PortItemError::Protocol(_)) => return Err(bad("the protocol is tcp or udp")),
                Err(PortItemError::Ports(_)) => {
                    return Err(bad("the port is 1-65535 or a range like 8000-8010"));
                }
            },
        };
        Ok(Keep { source, ports })
    }
}

impl fmt::Display for Keep {
    /// The canonical form: the address alone for a single machine, the protocol always
    /// (`198.51.100.7:22/tcp`, `[2001:db8::7]:8000-8010/udp`, `198.51.100.0/24`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = if self.source.prefix_len() == self.source.max_prefix_len() {
            self.source.addr().to_string()
        } else {
            self.source.to_string()
        };
        match self.ports {
            None => f.write_str(&addr),
            Some((proto, range)) => {
                let proto = match proto {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                };
                if self.source.addr().is_ipv6() {
                    write!(f, "[{addr}]:{range}/{proto}")
                } else {
                    write!(f, "{addr}:{range}/{proto}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_print_canonically() {
        let k = |s: &str| s.parse::<Keep>();
        let ssh = k("198.51.100.7:22").unwrap();
        assert_eq!(ssh.source, "198.51.100.7/32".parse::<IpNet>().unwrap());
        assert_eq!(
            ssh.ports,
            Some((Protocol::Tcp, PortRange::single(22).unwrap()))
        );
        assert_eq!(ssh.to_string(), "198.51.100.7:22/tcp");
        assert_eq!(
            k("198.51.100.9/24:3389/udp").unwrap().to_string(),
            "198.51.100.0/24:3389/udp"
        );
        assert_eq!(
            k("[2001:db8::7]:8000-8010/udp").unwrap().to_string(),
            "[2001:db8::7]:8000-8010/udp"
        );
        assert_eq!(k("2001:db8::7").unwrap().ports, None);
        assert_eq!(k("198.51.100.9/24").unwrap().ports, None);
        assert_eq!(k("[2001:db8::/64]").unwrap().to_string(), "2001:db8::/64");
        for text in [
            "198.51.100.7:22/tcp",
            "198.51.100.0/24",
            "[2001:db8::7]:22/tcp",
        ] {
            assert_eq!(k(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn errors_quote_the_entry_and_say_why() {
        let why = |s: &str| s.parse::<Keep>().unwrap_err();
        let example = "(expected ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]], for example \
                       198.51.100.7:22 or [2001:db8::7]:22/tcp)";
        for (text, reason) in [
            ("host:22", "not an address or network"),
            ("", "not an address or network"),
            (
                "198.51.100.7:0",
                "the port is 1-65535 or a range like 8000-8010",
            ),
            ("198.51.100.7:22/icmp", "the protocol is tcp or udp"),
            ("[::1", "no closing ']'"),
            ("[::1]22", "':' must follow ']'"),
        ] {
            assert_eq!(why(text), format!("{text:?}: {reason} {example}"));
        }
    }
}
