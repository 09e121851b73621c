use std::collections::BTreeSet;

use super::*;

/// Every line of the seed document that names a port, with its line number. The test below
/// fails when one of them is not covered by a catalog entry, or when the seed changes.
const SEED_PORT_LINES: &[(usize, &str)] = &[
    (19, "  - TCP 443 (HTTPS)"),
    (20, "- TCP|UDP 3389:  Standard RDP port."),
    (24, "- TCP 5504: connection to RD Web Access"),
    (25, "- TCP 3389: connection to RD Session Host"),
    (26, "- TCP 3389: connection to non-managed VM pools"),
    (
        27,
        "- TCP 3389: client port for clients not using RD Gateway",
    ),
    (28, "- TCP 445|RPC: connection to RD Virtualization Host"),
    (29, "- TCP 445|RPC: connection to RD Session Host"),
    (
        30,
        "- TCP 5985: WMI and PowerShell Remoting for administration",
    ),
    (35, "  - TCP 443:  HTTP (includes RPC over HTTP) over SSL"),
    (36, "  - UDP 3391:  RDP/UDP"),
    (38, "  - TCP 88: Kerberos for user authentication"),
    (39, "  - TCP 135: RPC Endpoint Mapper"),
    (
        40,
        "  - TCP: \\<\\>, Port on which NTDS RPC services listens on AD",
    ),
    (41, "  - TCP|UDP 389:  LDAP for user authentication"),
    (42, "  - TCP|UDP 53: Internal resource name resolution, DNS"),
    (
        43,
        "  - TCP|UDP 389: If using LDAP for Certificate Revocation List (CRL)",
    ),
    (
        44,
        "  - TCP 80:  If using HTTP for Certificate Revocation List (CRL)",
    ),
    (
        45,
        "  - TCP 21:  If using FTP for Certificate Revocation List (CRL)",
    ),
    (46, "  - UDP 1812, 1813: If NPS Server is being used"),
    (
        47,
        "  - TCP 5985: WMI and PowerShell Remoting for administration",
    ),
    (49, "  - TCP|UDP 3389: RDP"),
    (54, "  - TCP: \\<WMI Fixed Port\\>"),
    (
        55,
        "  - TCP 5504: connection to RD Connection Broker for centralized publishing",
    ),
    (
        56,
        "  - TCP 5985: WMI and PowerShell Remoting for administration",
    ),
    (64, "- RD License Server Port RPC"),
    (65, "- TCP 389|636: Active Directory communication"),
    (
        66,
        "- TCP 5985: WMI and PowerShell Remoting for administration",
    ),
    (70, "- RD License Server Port RPC"),
    (71, "- TCP 389|636: Active Directory communication"),
    (
        72,
        "- TCP 5985: WMI and PowerShell Remoting for administration",
    ),
    (
        80,
        "- TCP 135 - RPC  for License Server communication and RDSH",
    ),
    (
        81,
        "- TCP 1024-65535 (randomly allocated)  Used for RPC For Windows Server pre-2008",
    ),
    (82, "- TCP 49152 - 65535 (randomly allocated)"),
    (83, "- TCP 445 - SMB"),
    (
        84,
        "- TCP 443: Communication over the internet to the Microsoft Clearing House",
    ),
    (
        85,
        "- TCP 5985: WMI and PowerShell Remoting for administration",
    ),
    (86, "- TCP 139 - NetBIOS session service"),
    (92, "- UDP 137 - NetBIOS Name resolution"),
    (93, "- UDP 138 - NetBIOS datagram"),
    (
        94,
        "- UDP|TCP 389   LDAP - Used with per-user CALs against Active Directory",
    ),
];

fn catalog() -> Catalog {
    match Catalog::builtin() {
        Ok(c) => c,
        Err(e) => panic!(
            "{}",
            e.iter()
                .map(|d| d.render("rds.toml", RDS_TOML))
                .collect::<String>()
        ),
    }
}

#[test]
fn builtin_catalog_parses_with_unique_ids() {
    let c = catalog();
    assert!(c.entries.len() >= 60, "{}", c.entries.len());
    let ids: BTreeSet<&str> = c.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), c.entries.len());
}

#[test]
fn the_seed_port_lines_are_the_ones_the_test_holds() {
    let lines: Vec<&str> = SEED.lines().collect();
    for (n, text) in SEED_PORT_LINES {
        let line = lines[n - 1].replace('\u{a0}', " ");
        assert!(
            line.starts_with(text.trim_end()),
            "seed line {n} is now {line:?}"
        );
    }
    // And no port line of the seed is missing from the list.
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let names_a_port = t.starts_with("- ")
            && (t.contains("TCP") || t.contains("UDP") || t.contains("Port RPC"));
        if names_a_port {
            assert!(
                SEED_PORT_LINES.iter().any(|(n, _)| *n == i + 1),
                "seed line {} names a port but the test does not hold it: {line}",
                i + 1
            );
        }
    }
}

#[test]
fn every_seed_port_line_is_covered_by_an_entry() {
    let c = catalog();
    for (n, text) in SEED_PORT_LINES {
        let covering: Vec<&Entry> = c
            .entries
            .iter()
            .filter(|e| e.source.seed_lines.contains(n))
            .collect();
        assert!(
            !covering.is_empty(),
            "seed line {n} ({text}) is covered by no catalog entry"
        );
        // Every explicit port number on the line is a port of a covering entry (with
        // parameters at their defaults).
        let ports: Vec<PortRange> = covering
            .iter()
            .flat_map(|e| e.ports.iter().map(default_range))
            .collect();
        for number in numbers(text) {
            let known_exception = *n == 81 && number == 1024; // pre-2008 range: option rpc_range
            assert!(
                known_exception || ports.iter().any(|r| r.contains(number)),
                "seed line {n} names port {number}, but the covering entries have {ports:?}"
            );
        }
        // Protocols named on the line are covered too.
        let protocols: BTreeSet<Protocol> = covering
            .iter()
            .flat_map(|e| e.protocols.iter().copied())
            .collect();
        if text.contains("TCP") {
            assert!(
                protocols.contains(&Protocol::Tcp),
                "seed line {n}: no TCP entry"
            );
        }
        if text.contains("UDP") {
            assert!(
                protocols.contains(&Protocol::Udp),
                "seed line {n}: no UDP entry"
            );
        }
    }
}

#[test]
fn entries_cite_real_seed_sections_and_lines() {
    let c = catalog();
    let lines = SEED.lines().count();
    for e in &c.entries {
        for n in &e.source.seed_lines {
            assert!(
                *n >= 1 && *n <= lines,
                "{}: seed line {n} out of range",
                e.id
            );
        }
        if let Some(section) = &e.source.section {
            assert!(
                SEED.contains(&format!("## {section}")),
                "{}: no section {section:?}",
                e.id
            );
        }
        assert!(!e.purpose.is_empty(), "{}", e.id);
    }
}

#[test]
fn low_confidence_rows_are_present_and_marked() {
    let c = catalog();
    for id in ["S07", "S31a", "S31b", "D07", "A10"] {
        assert_eq!(
            c.get(id).map(|e| e.confidence),
            Some(Confidence::Low),
            "{id}"
        );
    }
}

#[test]
fn bad_catalog_entries_are_located() {
    let text = "[[flow]]\nid = \"X1\"\nfrom = [\"gatway\"]\nto = [\"dns\"]\nprotocol = [\"tcp\"]\n\
                ports = [\"rdpp\"]\nservice = \"dns\"\npurpose = \"p\"\nwhen = [\"nope\"]\n\
                confidence = \"high\"\nreference = \"r\"\n";
    let errors = Catalog::parse(text).unwrap_err();
    let messages: Vec<String> = errors.iter().map(|d| d.message.clone()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean \"gateway\"?"));
    assert_eq!((errors[0].line, errors[0].column), (Some(3), Some(9)));
    assert_eq!(errors[1].hint.as_deref(), Some("did you mean \"rdp\"?"));
    assert!(messages[2].contains("unknown condition"));
}

fn default_range(p: &PortRef) -> PortRange {
    match p {
        PortRef::Fixed(r) => *r,
        PortRef::Param(p) => match p {
            PortParam::AdRpc | PortParam::Rpc => PortRange::fixed(49152, 65535),
            PortParam::FtpPassive => PortRange::fixed(1024, 65535),
            PortParam::GatewayHttps => PortRange::fixed(443, 443),
            PortParam::GatewayUdp => PortRange::fixed(3391, 3391),
            PortParam::Rdp => PortRange::fixed(3389, 3389),
            PortParam::Sql => PortRange::fixed(1433, 1433),
            PortParam::Winrm => PortRange::fixed(5985, 5985),
            PortParam::Wmi => PortRange::fixed(24158, 24158),
        },
    }
}

/// Port numbers written on a seed line before its description ("TCP 49152 - 65535" gives
/// both ends).
fn numbers(text: &str) -> Vec<u16> {
    let ports_part = text.split([':', '(']).next().unwrap_or(text);
    ports_part
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| t.len() >= 2)
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// The per-host settings are allowed on the roles that listen on their ports: every flow on
/// the RDP port goes to a role of [`HostSettings::RDP_ROLES`](crate::model::HostSettings),
/// every flow on a gateway port (and every `gateway_udp` row) has a gateway at one end.
#[test]
fn per_host_ports_go_to_the_roles_that_may_set_them() {
    let catalog = Catalog::builtin().unwrap();
    let rdp = crate::model::HostSettings::RDP_ROLES;
    for e in &catalog.entries {
        for p in &e.ports {
            match p {
                PortRef::Param(PortParam::Rdp) => assert!(
                    e.to.iter().all(|r| rdp.contains(r)),
                    "{}: RDP to {:?}",
                    e.id,
                    e.to
                ),
                PortRef::Param(PortParam::GatewayHttps | PortParam::GatewayUdp) => {
                    assert_eq!(e.to, [Role::Gateway], "{}", e.id);
                }
                _ => {}
            }
        }
        for c in &e.when {
            if c.atom == Atom::GatewayUdp {
                assert!(
                    e.to == [Role::Gateway] || e.from == [Role::Gateway],
                    "{}",
                    e.id
                );
            }
            if c.atom == Atom::RdpUdp {
                assert!(e.to.iter().all(|r| rdp.contains(r)), "{}", e.id);
            }
        }
    }
}
