//! Synthetic deployments of any size, for benchmarks and scale tests.
//!
//! Addresses come from 198.18.0.0/15 (RFC 2544, the benchmarking range): these files are
//! planned and rendered, never probed.

use std::fmt::Write as _;

/// A deployment with `session_hosts` session hosts and brokers, gateways and DCs in
/// proportion (1 gateway per 250 session hosts, 1 broker per 300, 1 DC per 2,000, at least 2
/// of each), plus web access, licensing, NPS, CRL, SQL and clients.
pub fn deployment(session_hosts: usize) -> String {
    let gateways = (session_hosts / 250).max(2);
    let brokers = (session_hosts / 300).max(2);
    let dcs = (session_hosts / 2000).max(2);
    let mut s = String::from(
        "name = \"bench\"\n[options]\nbroker_ha = true\ncrl = [\"http\", \"ldap\"]\n\
         nps = \"central\"\n\n\
         [[zone]]\nname = \"internet\"\nnetworks = [\"0.0.0.0/0\"]\n\
         [[zone]]\nname = \"perimeter\"\nnetworks = [\"198.18.0.0/24\"]\n\
         [[zone]]\nname = \"servers\"\nnetworks = [\"198.18.1.0/24\"]\n\
         [[zone]]\nname = \"farm\"\nnetworks = [\"198.18.128.0/17\", \"198.19.0.0/16\"]\n\n\
         [[host]]\nname = \"clients\"\naddress = \"0.0.0.0/0\"\nroles = [\"client\"]\n\
         [[host]]\nname = \"clearinghouse\"\naddress = \"0.0.0.0/0\"\nroles = [\"clearinghouse\"]\n",
    );
    let mut host = |name: String, addr: String, roles: &str| {
        let _ = write!(
            s,
            "[[host]]\nname = \"{name}\"\naddress = \"{addr}\"\nroles = [{roles}]\n"
        );
    };
    for i in 0..gateways {
        host(
            format!("gw{i}"),
            format!("198.18.0.{}", 10 + i),
            "\"gateway\", \"web-access\"",
        );
    }
    for i in 0..brokers {
        host(
            format!("cb{i}"),
            format!("198.18.1.{}", 10 + i),
            "\"connection-broker\"",
        );
    }
    for i in 0..dcs {
        host(
            format!("dc{i}"),
            format!("198.18.1.{}", 100 + i),
            "\"domain-controller\", \"dns\"",
        );
    }
    host("ls1".into(), "198.18.1.200".into(), "\"licensing\"");
    host("nps1".into(), "198.18.1.201".into(), "\"nps\"");
    host("pki1".into(), "198.18.1.202".into(), "\"crl\"");
    host("sql1".into(), "198.18.1.203".into(), "\"sql\"");
    for i in 0..session_hosts {
        let n = 128 * 256 + i; // 198.18.128.0 onwards, then into 198.19.0.0/16
        let (b, c, d) = (18 + n / 65536, (n / 256) % 256, n % 256);
        host(
            format!("sh{i}"),
            format!("198.{b}.{c}.{d}"),
            "\"session-host\"",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Deployment;

    #[test]
    fn generated_deployments_parse_and_scale() {
        let d = Deployment::parse(&deployment(600)).unwrap();
        // 600 session hosts, 2 gateways, 2 brokers, 2 DCs, 4 servers, clients, clearinghouse.
        assert_eq!(d.hosts.len(), 600 + 2 + 2 + 2 + 4 + 2);
        assert!(
            d.hosts
                .iter()
                .all(|h| !h.is_single() || h.address.to_string().starts_with("198.1"))
        );
    }
}
