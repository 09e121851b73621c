use super::*;
use crate::diag::Severity;
use crate::keep::Keep;
use crate::model::HostSettings;

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
fn an_address_import_left_to_fill_in_is_pointed_at() {
    let text = with_host(
        "name = \"sh09\"\naddress = \"<address of sh09.contoso.example>\"\nroles = [\"session-host\"]",
    );
    let e = only_error(&text);
    assert_eq!(
        e.message,
        "the address is not filled in: \"<address of sh09.contoso.example>\""
    );
    assert!(e.hint.as_deref().unwrap().contains("--resolve"), "{e:?}");
    assert_eq!(
        &text[e.span.clone().unwrap()],
        "\"<address of sh09.contoso.example>\""
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

/// The text at a span.
fn at(text: &str, span: &std::ops::Range<usize>) -> String {
    text[span.clone()].to_owned()
}

#[test]
fn firewall_keep_entries_are_read_with_the_file() {
    let d = Deployment::parse(GOOD).unwrap();
    assert_eq!(d.firewall, Ok(FirewallSection::default()));
    let text = format!("{GOOD}\n[firewall]\nkeep = [\"198.51.100.7:22\", \"203.0.113.0/28\"]\n");
    let d = Deployment::parse(&text).unwrap();
    let keep: Vec<String> = d
        .firewall
        .unwrap()
        .keep
        .iter()
        .map(Keep::to_string)
        .collect();
    assert_eq!(keep, ["198.51.100.7:22/tcp", "203.0.113.0/28"]);
    // An empty table keeps nothing; a value that is not a table is ignored, as ever.
    for text in [
        format!("{GOOD}\n[firewall]\n"),
        format!("firewall = 5\n{GOOD}"),
        format!("{GOOD}\n[[firewall]]\nkeep = 1\n"),
    ] {
        let d = Deployment::parse(&text).unwrap();
        assert_eq!(d.firewall, Ok(FirewallSection::default()), "{text}");
    }
}

/// Errors in `[firewall]` are located (file:line:column, with the hint) and stay with the
/// section: the deployment itself is valid for every other command.
#[test]
fn firewall_errors_are_located_and_stay_with_the_section() {
    let lines = GOOD.lines().count();
    let firewall = |extra: &str| {
        let text = format!("{GOOD}\n{extra}");
        let d = Deployment::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        (d.firewall.unwrap_err(), text)
    };
    let hint = "[firewall] takes keep = [\"ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]]\", ...], \
                for example keep = [\"198.51.100.7:22\"]";

    let (e, text) = firewall("[firewall]\nkeep = [\"198.51.100.7:22\", \"host:22\", \"b:1\"]\n");
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(
        e[0].message,
        "[firewall] keep \"host:22\": not an address or network (expected \
         ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]], for example 198.51.100.7:22 or \
         [2001:db8::7]:22/tcp)"
    );
    assert_eq!((e[0].line, e[0].column), (Some(lines + 3), Some(28)));
    assert_eq!(e[0].hint.as_deref(), Some(hint));
    assert_eq!(at(&text, e[0].span.as_ref().unwrap()), "\"host:22\"");
    assert_eq!((e[1].line, e[1].column), (Some(lines + 3), Some(39)));
    let rendered = e[0].render("d.toml", &text);
    assert!(
        rendered.contains(&format!("--> d.toml:{}:28", lines + 3)),
        "{rendered}"
    );
    assert!(rendered.contains(&format!("= hint: {hint}")), "{rendered}");

    let (e, _) = firewall("[firewall]\nkeep = 5\n");
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].message,
        "[firewall] keep: invalid type: integer `5`, expected a sequence"
    );
    assert_eq!((e[0].line, e[0].column), (Some(lines + 3), Some(8)));

    let (e, _) = firewall("[firewall]\nkeep = [\"198.51.100.7:22\", 7]\n");
    assert_eq!(
        e[0].message,
        "[firewall] keep: invalid type: integer `7`, expected a string"
    );
    assert_eq!((e[0].line, e[0].column), (Some(lines + 3), Some(28)));

    // Unknown keys point at the table, each of them, and come before the entries.
    let (e, _) = firewall("[firewall]\nkeeps = []\nkeep = [\"x\"]\ndrop = 1\n");
    let messages: Vec<&str> = e.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "unknown key \"drop\" in [firewall]",
            "unknown key \"keeps\" in [firewall]"
        ]
    );
    assert!(
        e.iter()
            .all(|d| d.line == Some(lines + 2) && d.column == Some(1))
    );
    assert_eq!(e[0].hint.as_deref(), Some(hint));
}

#[test]
fn lint_acceptances_are_read_with_their_places() {
    let text = format!(
        "{GOOD}\n[[lint.accept]]\nid = \"smb-across-perimeter\"\nhosts = [\"gw01\", \"cb01\"]\n\
         reason = \"GPO (D05)\"\n\n[[lint.accept]]\nid = \"netbios-enabled\"\n"
    );
    let d = Deployment::parse(&text).unwrap();
    let accept = d.lint.unwrap().accept;
    assert_eq!(accept.len(), 2);
    let a = &accept[0];
    assert_eq!(a.id.value, "smb-across-perimeter");
    assert_eq!(at(&text, &a.id.span), "\"smb-across-perimeter\"");
    let hosts = a.hosts.as_ref().unwrap();
    assert_eq!(hosts[1].value, "cb01");
    assert_eq!(at(&text, &hosts[1].span), "\"cb01\"");
    let reason = a.reason.as_ref().unwrap();
    assert_eq!(reason.value, "GPO (D05)");
    assert_eq!(at(&text, &reason.span), "\"GPO (D05)\"");
    assert_eq!(
        (accept[1].hosts.as_ref(), accept[1].reason.as_ref()),
        (None, None)
    );
    // Ids are the lint crate's to check: core keeps any.
    let d = Deployment::parse(&format!("{GOOD}\n[[lint.accept]]\nid = \"no-such-id\"\n")).unwrap();
    assert_eq!(d.lint.unwrap().accept[0].id.value, "no-such-id");
    assert_eq!(
        Deployment::parse(GOOD).unwrap().lint,
        Ok(LintSection::default())
    );
}

#[test]
fn lint_section_errors_are_located_and_stay_with_the_section() {
    let lines = GOOD.lines().count();
    let lint = |extra: &str| {
        let text = match extra.strip_prefix("lint =") {
            Some(_) => format!("{extra}{GOOD}"),
            None => format!("{GOOD}\n{extra}"),
        };
        let d = Deployment::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        let e = d.lint.unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            e[0].hint.as_deref(),
            Some(
                "[[lint.accept]] takes id, hosts (optional) and reason, for example \
                 id = \"smb-across-perimeter\" hosts = [\"gw01\"] reason = \"...\""
            )
        );
        (e[0].message.clone(), e[0].line, e[0].column)
    };
    assert_eq!(
        lint("[[lint.accept]]\nid = \"netbios-enabled\"\nreasons = \"x\"\n"),
        (
            "cannot read the [lint] section: unknown field `reasons`, expected one of `id`, \
             `hosts`, `reason`"
                .to_owned(),
            Some(lines + 4),
            Some(1)
        )
    );
    assert_eq!(
        lint("[[lint.accept]]\nreason = \"x\"\n"),
        (
            "cannot read the [lint] section: missing field `id`".to_owned(),
            Some(lines + 2),
            Some(1)
        )
    );
    assert_eq!(
        lint("[lint]\naccepts = []\n").0,
        "cannot read the [lint] section: unknown field `accepts`, expected `accept`"
    );
    assert_eq!(
        lint("lint = 5\n").0,
        "cannot read the [lint] section: invalid type: integer `5`, expected struct LintView"
    );
    assert_eq!(
        lint("[[lint.accept]]\nid = \"x\"\nhosts = \"gw01\"\n"),
        (
            "cannot read the [lint] section: invalid type: string \"gw01\", expected a sequence"
                .to_owned(),
            Some(lines + 4),
            Some(9)
        )
    );
}

#[test]
fn hosts_and_options_keep_their_places() {
    let d = Deployment::parse(GOOD).unwrap();
    assert_eq!(d.places.hosts.len(), d.hosts.len());
    for (h, span) in d.hosts.iter().zip(&d.places.hosts) {
        assert_eq!(at(GOOD, span), format!("\"{}\"", h.name));
    }
    let options: Vec<(&str, String)> = d
        .places
        .options
        .iter()
        .map(|(k, span)| (k.as_str(), at(GOOD, span)))
        .collect();
    assert_eq!(options, [("rdp_port", "3390".to_owned())]);
    let text = GOOD.replace("rdp_port = 3390", "crl = [\"ldap\"]\nnetbios = false");
    let d = Deployment::parse(&text).unwrap();
    assert_eq!(at(&text, &d.places.options["crl"]), "[\"ldap\"]");
    assert_eq!(at(&text, &d.places.options["netbios"]), "false");
}

/// `[lint]` and `[firewall]` are read on their own, but the file's unknown keys still name
/// them.
#[test]
fn unknown_top_level_keys_still_name_every_section() {
    let e = only_error(&format!("{GOOD}\n[firewal]\nkeep = []\n"));
    assert_eq!(
        e.message,
        "unknown field `firewal`, expected one of `name`, `options`, `zone`, `host`, `lint`, \
         `firewall`"
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean \"firewall\"?"));
}

/// A value TOML cannot hold is an error of the whole file wherever it is, in `[lint]` and
/// `[firewall]` too: every command refuses the file.
#[test]
fn values_toml_cannot_hold_are_errors_in_every_section() {
    for (extra, column) in [
        ("[firewall]\nkeep = [99999999999999999999]\n", 9),
        ("[lint]\nx = 99999999999999999999\n", 5),
    ] {
        let e = only_error(&format!("{GOOD}\n{extra}"));
        assert_eq!(
            e.message,
            "invalid type: integer `99999999999999999999` as i128, expected any valid TOML value"
        );
        assert_eq!(
            (e.line, e.column),
            (Some(GOOD.lines().count() + 3), Some(column))
        );
    }
}

/// `GOOD` with session hosts and a second gateway, some with settings of their own.
fn per_host() -> String {
    with_host(
        "name = \"sh01\"\naddress = \"198.51.100.31\"\nroles = [\"session-host\"]\n\n\
         [[host]]\nname = \"sh03\"\naddress = \"198.51.100.33\"\nroles = [\"session-host\"]\n\
         rdp_port = 3391\nrdp_udp = false\n\n\
         [[host]]\nname = \"gw02\"\naddress = \"198.51.100.11\"\nroles = [\"gateway\"]\n\
         gateway_https_port = 8443\ngateway_udp = false\ngateway_udp_port = 3392",
    )
}

#[test]
fn per_host_settings_override_the_options_for_their_host_only() {
    let text = per_host();
    let d = Deployment::parse(&text).unwrap();
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let i = |name: &str| d.host_index(name).unwrap();
    assert_eq!(
        d.hosts[i("sh03")].settings,
        HostSettings {
            rdp_port: Some(3391),
            rdp_udp: Some(false),
            ..HostSettings::default()
        }
    );
    assert!(d.hosts[i("sh01")].settings.is_empty());
    assert!(d.has_host_settings());
    // [options] rdp_port = 3390 holds for every host that does not say otherwise.
    let sh01 = d.options_for(i("sh01"));
    assert_eq!((sh01.rdp_port, sh01.rdp_udp), (3390, true));
    let sh03 = d.options_for(i("sh03"));
    assert_eq!((sh03.rdp_port, sh03.rdp_udp), (3391, false));
    // The broker's RDP port is the deployment's.
    assert_eq!(d.options_for(i("cb01")).rdp_port, 3390);
    let gw01 = d.options_for(i("gw01"));
    assert_eq!(
        (
            gw01.gateway_https_port,
            gw01.gateway_udp,
            gw01.gateway_udp_port
        ),
        (443, true, 3391)
    );
    let gw02 = d.options_for(i("gw02"));
    assert_eq!(
        (
            gw02.gateway_https_port,
            gw02.gateway_udp,
            gw02.gateway_udp_port
        ),
        (8443, false, 3392)
    );
    // Nothing folds into the deployment's options.
    assert_eq!(d.options.rdp_port, 3390);
    assert!(d.options.gateway_udp);
    // Their places, for lint to point at.
    let places = &d.places.host_settings;
    assert_eq!(places.len(), d.hosts.len());
    assert!(places[i("sh01")].is_empty());
    assert_eq!(at(&text, &places[i("sh03")]["rdp_port"]), "3391");
    assert_eq!(at(&text, &places[i("gw02")]["gateway_udp"]), "false");
    assert_eq!(
        places[i("gw02")].keys().collect::<Vec<_>>(),
        ["gateway_https_port", "gateway_udp", "gateway_udp_port"]
    );
    // Without any setting, no host has settings.
    assert!(!Deployment::parse(GOOD).unwrap().has_host_settings());
}

#[test]
fn per_host_settings_apply_only_to_hosts_of_their_roles() {
    // The appended host starts on line 32: its fourth key is on line 35.
    let e = only_error(&with_host(
        "name = \"web02\"\naddress = \"198.51.100.40\"\nroles = [\"web-access\"]\nrdp_port = 3390",
    ));
    assert_eq!(
        e.message,
        "rdp_port is set on host \"web02\" (web-access), which it does not apply to"
    );
    assert_eq!(
        e.hint.as_deref(),
        Some(
            "rdp_port on a [[host]] overrides [options] rdp_port for a host that accepts RDP \
             (role session-host, connection-broker or virtual-desktop); remove it here, or set \
             it in [options] for every host"
        )
    );
    assert_eq!((e.line, e.column), (Some(35), Some(12)));
    let e = only_error(&with_host(
        "name = \"sh09\"\naddress = \"198.51.100.41\"\nroles = [\"session-host\", \"licensing\"]\n\
         gateway_udp = false",
    ));
    assert_eq!(
        e.message,
        "gateway_udp is set on host \"sh09\" (session-host, licensing), which it does not apply to"
    );
    assert!(e.hint.unwrap().contains("for a host with role gateway"));
    assert_eq!((e.line, e.column), (Some(35), Some(15)));
    // Every key that does not apply is its own error.
    let all = errors(&with_host(
        "name = \"dc01\"\naddress = \"198.51.100.42\"\nroles = [\"domain-controller\"]\n\
         rdp_udp = true\ngateway_https_port = 443",
    ));
    assert_eq!(all.len(), 2, "{all:#?}");
    // A gateway that is also a session host takes both kinds.
    let d = Deployment::parse(&with_host(
        "name = \"all1\"\naddress = \"198.51.100.43\"\nroles = [\"gateway\", \"session-host\"]\n\
         rdp_port = 3390\ngateway_udp = false",
    ))
    .unwrap();
    let o = d.options_for(d.host_index("all1").unwrap());
    assert_eq!((o.rdp_port, o.gateway_udp), (3390, false));
}

#[test]
fn per_host_settings_are_checked_like_options() {
    for bad in ["0", "65536", "-1"] {
        let e = only_error(&with_host(&format!(
            "name = \"sh09\"\naddress = \"198.51.100.41\"\nroles = [\"session-host\"]\nrdp_port = {bad}"
        )));
        assert_eq!(e.message, format!("port {bad} is out of range"));
        assert_eq!(e.hint.as_deref(), Some("ports go from 1 to 65535"));
        assert_eq!(e.line, Some(35));
    }
    let e = only_error(&with_host(
        "name = \"gw09\"\naddress = \"198.51.100.41\"\nroles = [\"gateway\"]\ngateway_udp = \"no\"",
    ));
    assert!(e.message.contains("invalid type"), "{}", e.message);
    assert_eq!(e.line, Some(35));
    let e = only_error(&with_host(
        "name = \"sh09\"\naddress = \"198.51.100.41\"\nroles = [\"session-host\"]\nrdp_prot = 3390",
    ));
    assert!(
        e.message.contains("unknown field `rdp_prot`"),
        "{}",
        e.message
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean \"rdp_port\"?"));
}
