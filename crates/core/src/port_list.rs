//! The one grammar for lists of ports on the command line: `check --port`, `listen --ports`
//! and the port part of `--keep` entries all read it.
//!
//! ```text
//! 3389                 one port (the command's default protocol, usually TCP)
//! 49152-49160          a range, both ends included
//! 3391/udp  88/tcp     a protocol for one item
//! 3389,3391/udp,135    items separated by commas (spaces around them allowed)
//! ```

use std::fmt;
use std::str::FromStr;

use crate::model::{PortRange, Protocol};

/// One item of a [`PortList`]: a port or range, with the protocol it names (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortItem {
    /// `/tcp` or `/udp` after the ports; `None`: the command's default.
    pub protocol: Option<Protocol>,
    /// The ports.
    pub ports: PortRange,
}

/// Why one item does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortItemError {
    /// After `/` comes something other than `tcp` or `udp`.
    Protocol(String),
    /// The port or range is not one (its words say why).
    Ports(String),
}

impl fmt::Display for PortItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortItemError::Protocol(p) => {
                write!(f, "unknown protocol `{p}` (write 3391/udp or 3389/tcp)")
            }
            PortItemError::Ports(why) => f.write_str(why),
        }
    }
}

impl FromStr for PortItem {
    type Err = PortItemError;

    /// Parses one item: `N`, `N-M`, either with `/tcp` or `/udp` (any case).
    fn from_str(item: &str) -> Result<Self, PortItemError> {
        let (range, protocol) = match item.rsplit_once('/') {
            Some((r, p)) => match p.trim().to_ascii_lowercase().as_str() {
                "tcp" => (r, Some(Protocol::Tcp)),
                "udp" => (r, Some(Protocol::Udp)),
                _ => return Err(PortItemError::Protocol(p.trim().to_owned())),
            },
            None => (item, None),
        };
        let ports: PortRange = range.parse().map_err(PortItemError::Ports)?;
        Ok(PortItem { protocol, ports })
    }
}

/// A list of ports as admins write them, in the order given ([module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortList {
    items: Vec<PortItem>,
}

impl PortList {
    /// The items, in the order given.
    pub fn items(&self) -> &[PortItem] {
        &self.items
    }

    /// Every (protocol, port) pair in the order given, each once; items without a protocol
    /// take `default`. Stops with an error past `max` pairs, before building more.
    pub fn ports(&self, default: Protocol, max: usize) -> Result<Vec<(Protocol, u16)>, String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for item in &self.items {
            let protocol = item.protocol.unwrap_or(default);
            for port in item.ports.start()..=item.ports.end() {
                if seen.insert((protocol, port)) {
                    if out.len() == max {
                        return Err(format!("more than {max} ports: list fewer"));
                    }
                    out.push((protocol, port));
                }
            }
        }
        Ok(out)
    }
}

impl FromStr for PortList {
    type Err = String;

    /// Parses the list; errors name the item (`` `70000`: port 70000 is above 65535 ``).
    fn from_str(text: &str) -> Result<Self, String> {
        let mut items = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            items.push(item.parse().map_err(|e| format!("`{item}`: {e}"))?);
        }
        if items.is_empty() {
            return Err("no port given (write 3389, 49152-49160 or 3391/udp)".into());
        }
        Ok(PortList { items })
    }
}

impl fmt::Display for PortList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, item) in self.items.iter().enumerate() {
            if k > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", item.ports)?;
            if let Some(p) = item.protocol {
                write!(f, "/{}", p.name())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(text: &str) -> Result<Vec<(Protocol, u16)>, String> {
        text.parse::<PortList>()?.ports(Protocol::Tcp, 1024)
    }

    #[test]
    fn items_in_order_each_pair_once() {
        assert_eq!(
            ports("3389, 3391/udp,50000-50002,3389/tcp,88/UDP"),
            Ok(vec![
                (Protocol::Tcp, 3389),
                (Protocol::Udp, 3391),
                (Protocol::Tcp, 50000),
                (Protocol::Tcp, 50001),
                (Protocol::Tcp, 50002),
                (Protocol::Udp, 88),
            ])
        );
        let list: PortList = "88,389/udp".parse().unwrap();
        assert_eq!(
            list.ports(Protocol::Udp, 10),
            Ok(vec![(Protocol::Udp, 88), (Protocol::Udp, 389)])
        );
        assert_eq!(list.to_string(), "88,389/udp");
    }

    #[test]
    fn bad_items_are_named() {
        assert_eq!(
            ports("0").unwrap_err(),
            "`0`: port 0 is not a port a flow can use"
        );
        assert_eq!(
            ports("70000").unwrap_err(),
            "`70000`: port 70000 is above 65535"
        );
        assert_eq!(ports("9-1").unwrap_err(), "`9-1`: range 9-1 is reversed");
        assert!(
            ports("53/icmp")
                .unwrap_err()
                .contains("unknown protocol `icmp`")
        );
        assert!(
            ports("x")
                .unwrap_err()
                .starts_with("`x`: `x` is not a port number")
        );
        assert!(ports(",").unwrap_err().starts_with("no port given"));
        assert!(ports("").unwrap_err().starts_with("no port given"));
    }

    #[test]
    fn a_list_too_long_stops_before_it_is_built() {
        assert_eq!(
            ports("1-65535").unwrap_err(),
            "more than 1024 ports: list fewer"
        );
        let all: PortList = "1-65535/tcp,1-65535/udp".parse().unwrap();
        assert_eq!(all.ports(Protocol::Tcp, 131_070).unwrap().len(), 131_070);
    }
}
