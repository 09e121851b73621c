use super::*;
use crate::diag::Severity;

const GOOD: &str = r#"
name = "contoso"

[options]
rdp_port = 3390

[[zone]]
name = "internet"
networks = ["0.0.0.0/0"]

[[zone]]
name = "perimeter"
networks = ["198.51.100.0/24"]

[[host]]
name = "clients"
address = "0.0.0.0/0"
roles = ["client"]

[[host]]
name = "gw01"
address = "198.51.100.10"
roles = ["web-access", "gateway"]

[[host]]
name = "cb01"
address = "198.51.100.20"
zone = "perimeter"
roles = ["connection-broker"]
"#;

fn errors(text: &str) -> Vec<Diagnostic> {
    match Deployment::parse(text) {
        Ok(d) => panic!("expected errors, got {d:?}"),
        Err(e) => e,
    }
}

fn only_error(text: &str) -> Diagnostic {
    let e: Vec<Diagnostic> = errors(text)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().unwrap()
}

fn with_host(host: &str) -> String {
    format!("{GOOD}\n[[host]]\n{host}\n")
}

#[test]
fn parses_hosts_zones_roles_and_options() {
    let d = Deployment::parse(GOOD).unwrap();
    assert_eq!(d.name, "contoso");
    assert_eq!(d.options.rdp_port, 3390);
    assert_eq!(d.options.gateway_https_port, 443);
    assert_eq!(d.hosts.len(), 3);
    let gw = &d.hosts[1];
    assert_eq!(gw.roles, vec![Role::Gateway, Role::WebAccess]);
    assert_eq!(d.zones[gw.zone].name, "perimeter");
    // Most specific zone wins for the population too: 0.0.0.0/0 is only in internet.
    assert_eq!(d.zones[d.hosts[0].zone].name, "internet");
    // The first broker manages the deployment by default.
    assert_eq!(d.hosts[2].implied_roles, vec![Role::Management]);
    assert!(d.hosts[2].has(Role::Management));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

#[test]
fn unknown_role_suggests_the_nearest() {
    let e = only_error(&with_host(
        "name = \"sh01\"\naddress = \"198.51.100.30\"\nroles = [\"sesion-host\"]",
    ));
    assert_eq!(e.message, "unknown role \"sesion-host\"");
    assert_eq!(e.hint.as_deref(), Some("did you mean \"session-host\"?"));
    assert_eq!(e.column, Some(10));
    assert!(e.line.unwrap() > 25);
}

#[test]
fn unknown_option_key_suggests_the_nearest() {
    let e = only_error(&GOOD.replace("rdp_port = 3390", "rdp_prot = 3390"));
    assert!(
        e.message.contains("unknown field `rdp_prot`"),
        "{}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean \"rdp_port\"?"));
    assert_eq!((e.line, e.column), (Some(5), Some(1)));
}

#[test]
fn unknown_option_value_suggests_the_nearest() {
    let e = only_error(&GOOD.replace("rdp_port = 3390", "nps = \"centrl\""));
    assert_eq!(e.message, "unknown value \"centrl\"");
    assert_eq!(e.hint.as_deref(), Some("did you mean \"central\"?"));
}

#[test]
fn duplicate_host_names_point_at_the_first() {
    let e = only_error(&with_host(
        "name = \"gw01\"\naddress = \"198.51.100.11\"\nroles = [\"gateway\"]",
    ));
    assert_eq!(e.message, "duplicate host \"gw01\"");
    assert_eq!(
        e.hint.as_deref(),
        Some("the first \"gw01\" is on line 21; host names must be unique")
    );
}

#[test]
fn invalid_addresses_and_cidrs() {
    let e = only_error(&with_host(
        "name = \"x\"\naddress = \"198.51.100.300\"\nroles = [\"gateway\"]",
    ));
    assert_eq!(e.message, "\"198.51.100.300\" is not an IP address or CIDR");
    let e = only_error(&with_host(
        "name = \"x\"\naddress = \"198.51.100.7/24\"\nroles = [\"gateway\"]",
    ));
    assert_eq!(
        e.hint.as_deref(),
        Some("the network is \"198.51.100.0/24\"")
    );
}

#[test]
fn host_in_no_zone_and_unknown_zone() {
    let text = GOOD.replace(
        "networks = [\"0.0.0.0/0\"]",
        "networks = [\"203.0.113.0/24\"]",
    );
    let e = errors(&text);
    assert!(
        e.iter()
            .any(|d| d.message == "host \"clients\" (0.0.0.0/0) is in no zone"),
        "{e:?}"
    );
    let e = only_error(&with_host(
        "name = \"x\"\naddress = \"198.51.100.9\"\nzone = \"perimetr\"\nroles = [\"gateway\"]",
    ));
    assert_eq!(e.hint.as_deref(), Some("did you mean \"perimeter\"?"));
}

#[test]
fn ports_out_of_range() {
    for bad in ["0", "65536", "-1"] {
        let e = only_error(&GOOD.replace("rdp_port = 3390", &format!("rdp_port = {bad}")));
        assert_eq!(e.message, format!("port {bad} is out of range"));
    }
}

#[test]
fn rpc_ranges_malformed_reversed_and_small() {
    let e = only_error(&GOOD.replace("rdp_port = 3390", "rpc_range = \"5000\""));
    assert!(e.message.contains("is not a port range"));
    let e = only_error(&GOOD.replace("rdp_port = 3390", "rpc_range = \"60000-50000\""));
    assert!(e.message.contains("reversed"), "{}", e.message);
    let e = only_error(&GOOD.replace("rdp_port = 3390", "rpc_range = \"50000-70000\""));
    assert!(e.message.contains("above 65535"), "{}", e.message);
    let d =
        Deployment::parse(&GOOD.replace("rdp_port = 3390", "rpc_range = \"50000-50049\"")).unwrap();
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].message.contains("only 50 ports"));
    assert!(d.warnings[0].hint.as_deref().unwrap().contains("KB 154596"));
}

#[test]
fn options_that_contradict_the_hosts_warn() {
    let text = GOOD
        .replace(
            "roles = [\"web-access\", \"gateway\"]",
            "roles = [\"web-access\"]",
        )
        .replace("rdp_port = 3390", "gateway_udp = true\nbroker_ha = true");
    let d = Deployment::parse(&text).unwrap();
    let messages: Vec<&str> = d.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        messages.contains(&"gateway_udp is on but no host has role gateway"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"broker_ha is on but fewer than two hosts have role connection-broker")
    );
    assert!(messages.contains(&"broker_ha is on but no host has role sql"));
    assert!(d.warnings.iter().all(|w| w.line.is_some()));
}

#[test]
fn empty_binary_and_syntax_errors() {
    assert_eq!(only_error("").message, "the file is empty");
    assert!(only_error("name = \"a\"\0").message.contains("binary"));
    let e = only_error("name = \"a\"\n[[host]\n");
    assert_eq!(e.line, Some(2));
    let e = only_error("[[host]]\nname = \"a\"\naddress = \"192.0.2.1\"\nroles = [\"dns\"]\n");
    assert!(e.message.contains("no name"));
}

#[test]
fn no_zones_means_one_default_zone() {
    let d = Deployment::parse(
        "name = \"x\"\n[[host]]\nname = \"a\"\naddress = \"192.0.2.1\"\nroles = [\"dns\"]\n",
    )
    .unwrap();
    assert_eq!(d.zones.len(), 1);
    assert_eq!(d.zones[0].name, DEFAULT_ZONE);
}

#[test]
fn ambiguous_zones_are_an_error() {
    let text = format!("{GOOD}\n[[zone]]\nname = \"dup\"\nnetworks = [\"198.51.100.0/24\"]\n");
    let e = errors(&text);
    assert!(e.iter().any(|d| d.message.contains("equally")), "{e:?}");
}

#[test]
fn dns_defaults_to_the_domain_controllers() {
    let text =
        with_host("name = \"dc01\"\naddress = \"198.51.100.40\"\nroles = [\"domain-controller\"]");
    let d = Deployment::parse(&text).unwrap();
    let dc = &d.hosts[d.host_index("dc01").unwrap()];
    assert!(dc.has(Role::Dns));
    assert_eq!(dc.implied_roles, vec![Role::Dns]);
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary text never panics the parser.
        #[test]
        fn on_arbitrary_text(text in "\\PC{0,200}") {
            let _ = Deployment::parse(&text);
        }

        /// Nor does a valid file with one byte range replaced by arbitrary text, which
        /// explores the semantic checks rather than only TOML syntax.
        #[test]
        fn on_mutated_files(at in 0usize..GOOD.len(), len in 0usize..12, junk in "[ -~\\n]{0,12}") {
            let mut text = GOOD.to_owned();
            let start = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (start + len).min(text.len());
            let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            text.replace_range(start..end, &junk);
            match Deployment::parse(&text) {
                Ok(_) => {}
                Err(diagnostics) => prop_assert!(!diagnostics.is_empty()),
            }
        }
    }
}

/// A server whose address is a /0 gets a warning, with zones or without.
#[test]
fn whole_address_space_servers_are_warned_about() {
    for zones in [
        "",
        "[[zone]]\nname = \"all\"\nnetworks = [\"0.0.0.0/0\", \"::/0\"]\n",
    ] {
        for address in ["0.0.0.0/0", "::/0"] {
            let text = format!(
                "name = \"x\"\n{zones}[[host]]\nname = \"dc\"\naddress = \"{address}\"\n\
                 roles = [\"domain-controller\"]\n[[host]]\nname = \"c\"\naddress = \"{address}\"\n\
                 roles = [\"client\"]\n"
            );
            let d = Deployment::parse(&text).unwrap();
            let w: Vec<&str> = d.warnings.iter().map(|w| w.message.as_str()).collect();
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(w[0].contains("\"dc\" is the whole address space"), "{w:?}");
            assert_eq!(d.warnings[0].line, Some(4 + zones.lines().count()));
        }
    }
}
