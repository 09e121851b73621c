//! Fixtures written from the platforms' documentation (libnftables-json(5), iptables-save(8),
//! the NetSecurity cmdlets, MS-GPFAS 2.2.2.10), audited against examples/perimeter.toml, with
//! golden outputs. `BLESS=1 cargo test -p rdsports-audit --test golden` rewrites them (never
//! under CI=true); on a mismatch the output is written to `<file>.actual` beside the golden
//! file (`rdsports_testkit::golden`).

use std::path::PathBuf;

use rdsports_audit::report::Status;
use rdsports_audit::{ReadOptions, Scope};
use rdsports_core::{Catalog, Deployment};
use rdsports_report::audit::text as report;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn deployment() -> Deployment {
    let text = std::fs::read_to_string(dir().join("../../../examples/perimeter.toml")).unwrap();
    Deployment::parse(&text).unwrap()
}

fn golden(name: &str, got: &str) {
    rdsports_testkit::golden(dir().join("golden").join(name), got);
}

fn audit(
    fixture: &str,
    format: &str,
    scope: &dyn Fn(&Deployment) -> Scope,
    mut opts: ReadOptions,
) -> rdsports_audit::report::Audit {
    opts.internal = deployment()
        .zones
        .iter()
        .flat_map(|z| z.networks.iter().copied())
        .filter(|n| n.prefix_len() > 0)
        .collect();
    let bytes = std::fs::read(dir().join("fixtures").join(fixture)).unwrap();
    let text = rdsports_audit::decode(&bytes, fixture).unwrap();
    assert_eq!(
        rdsports_audit::sniff(&text),
        Some(format),
        "{fixture} is recognised"
    );
    let rs = rdsports_audit::read(format, &text, fixture, &opts).unwrap();
    let d = deployment();
    let catalog = Catalog::builtin().unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &d);
    rdsports_audit::analyse(&rs, &plan, &scope(&d))
}

fn boundary(d: &Deployment) -> Scope {
    let z = |n: &str| d.zones.iter().position(|z| z.name == n).unwrap();
    Scope::Boundary(z("perimeter"), z("internal"))
}

fn host_opts(d: &Deployment, host: &str) -> (Scope, ReadOptions) {
    let h = d.host_index(host).unwrap();
    let opts = ReadOptions {
        profile: Some("domain".into()),
        local_subnet: d.zones[d.hosts[h].zone].networks.clone(),
        local_address: vec![d.hosts[h].address],
        internal: Vec::new(),
        interfaces: Vec::new(),
        definitions: Vec::new(),
    };
    (Scope::Host(h), opts)
}

fn status<'a>(
    a: &'a rdsports_audit::report::Audit,
    from: &str,
    to: &str,
    proto: &str,
    ports: &str,
) -> &'a rdsports_audit::report::FlowResult {
    a.flows
        .iter()
        .find(|f| f.from == from && f.to == to && f.protocol == proto && f.ports == ports)
        .unwrap_or_else(|| panic!("no flow {from} -> {to} {proto}/{ports}"))
}

#[test]
fn nftables_boundary() {
    let a = audit(
        "nft-boundary.json",
        "nft-json",
        &boundary,
        ReadOptions::default(),
    );
    golden("nft-boundary.txt", &report::table(&a, 80));
    golden("nft-boundary.json", &report::json(&a));
    golden("nft-boundary.md", &report::markdown(&a));
    golden("nft-boundary.junit.xml", &report::junit(&a));
    // The jump to the user chain and its rules decide the gateway's flows.
    assert_eq!(
        status(&a, "gw01", "cb01", "tcp", "3389").status,
        Status::Allowed
    );
    assert_eq!(
        status(&a, "gw01", "sh02", "udp", "3389").status,
        Status::Allowed
    );
    // UDP 389 to the DC is in no rule: the user chain returns, the policy drops it.
    let ldap = status(&a, "gw01", "dc01", "udp", "389");
    assert_eq!(ldap.status, Status::Missing);
    assert!(ldap.rule.as_ref().unwrap().text.contains("policy drop"));
    // The inet chain accepts HTTP to the CRL server, the ip table's later chain rejects it.
    let crl = status(&a, "gw01", "pki01", "tcp", "80");
    assert_eq!(crl.status, Status::Missing);
    assert!(crl.rule.as_ref().unwrap().text.contains("reject"));
    // The broker's WinRM to the gateway passes the accept before the xt rule.
    assert_eq!(
        status(&a, "cb01", "gw01", "tcp", "5985").status,
        Status::Allowed
    );
    // Reported, never ignored: the xt statement.
    assert!(a.notes.iter().any(|n| n.message.contains("xt statement")));
    // Shadowed by an earlier, wider rule; unused by its zero counter.
    assert!(
        a.shadowed
            .iter()
            .any(|s| s.rule.location.contains("handle 17"))
    );
    assert!(
        a.unused
            .iter()
            .any(|u| u.rule.location.contains("handle 16"))
    );
    // The old share rule allows 445 from the gateway to the whole internal /24.
    assert!(
        a.too_broad
            .iter()
            .any(|t| t.rule.text.contains("old file share rule"))
    );
    // Too broad is measured between the boundary's two zones only: the broker's WinRM accept
    // (any destination) counts the perimeter's other 255 addresses, not the whole address
    // space, which other boundaries' firewalls guard.
    let winrm = a
        .too_broad
        .iter()
        .find(|t| t.rule.text.contains("broker manages the gateway"))
        .unwrap();
    assert_eq!(winrm.excess, 255);
    assert_eq!(a.exit_code(false), 1);
}

#[test]
fn iptables_boundary() {
    let a = audit(
        "iptables-boundary.txt",
        "iptables-save",
        &boundary,
        ReadOptions::default(),
    );
    golden("iptables-boundary.txt", &report::table(&a, 80));
    golden("iptables-boundary.json", &report::json(&a));
    // RDP/UDP to the session hosts: dropped inside the user chain.
    let udp = status(&a, "gw01", "sh01", "udp", "3389");
    assert_eq!(udp.status, Status::Missing);
    assert!(udp.rule.as_ref().unwrap().location.ends_with(":20"));
    // RETURN, then FORWARD's broad RDP rule: allowed, and too broad.
    assert_eq!(
        status(&a, "gw01", "sh03", "tcp", "3389").status,
        Status::Allowed
    );
    assert!(
        a.too_broad
            .iter()
            .any(|t| t.rule.text.contains("RDP to anything"))
    );
    assert!(a.shadowed.iter().any(|s| s.rule.location.ends_with(":19")));
    assert!(a.unused.iter().any(|u| u.rule.location.ends_with(":14")));
}

#[test]
fn windows_export_host() {
    let d = deployment();
    let (scope, opts) = host_opts(&d, "sh01");
    let a = audit(
        "windows-sh01.json",
        "windows-json",
        &move |_| scope.clone(),
        opts,
    );
    golden("windows-sh01.txt", &report::table(&a, 80));
    golden("windows-sh01.json", &report::json(&a));
    // The built-in RDP rule is scoped to the TermService service: possible, not guessed.
    let rdp = status(&a, "gw01", "sh01", "tcp", "3389");
    assert_eq!(rdp.status, Status::Possible);
    assert!(rdp.reason.as_ref().unwrap().contains("service termservice"));
    // Numeric enums (PowerShell 5.1) read like strings.
    assert_eq!(
        status(&a, "cb02", "sh01", "tcp", "49152-65535").status,
        Status::Allowed
    );
    // RPCEPMap is port 135; LocalSubnet is the host's zone.
    assert_eq!(
        status(&a, "cb02", "sh01", "tcp", "135").status,
        Status::Allowed
    );
    assert_eq!(
        status(&a, "cb02", "sh01", "tcp", "445").status,
        Status::Allowed
    );
    // Block beats allow; the outbound block decides LDAPS.
    assert_eq!(
        status(&a, "sh01", "dc01", "tcp", "636").status,
        Status::Missing
    );
}

#[test]
fn windows_export_utf16_is_the_same() {
    let utf8 = std::fs::read_to_string(dir().join("fixtures/windows-sh01.json")).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    for u in utf8.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let text = rdsports_audit::decode(&bytes, "x.json").unwrap();
    assert_eq!(text, utf8);
}

#[test]
fn windows_gpo_strings() {
    let d = deployment();
    let (scope, opts) = host_opts(&d, "sh01");
    let a = audit(
        "windows-sh01.gpo.txt",
        "windows-gpo",
        &move |_| scope.clone(),
        opts,
    );
    golden("windows-sh01.gpo.txt", &report::table(&a, 80));
    assert_eq!(
        status(&a, "gw01", "sh01", "tcp", "3389").status,
        Status::Allowed
    );
    assert_eq!(
        status(&a, "cb01", "sh01", "tcp", "5985").status,
        Status::Allowed
    );
    assert_eq!(
        status(&a, "cb01", "sh01", "tcp", "445").status,
        Status::Allowed
    );
}

#[test]
fn bad_input_is_located() {
    let e = rdsports_audit::read(
        "nft-json",
        "{\"nftables\": [\n  {\"table\": }\n]}",
        "x.json",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.location, "x.json:2:13");
    let e = rdsports_audit::read(
        "iptables-save",
        "*filter\n:INPUT ACCEPT [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n",
        "s.txt",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(e.location.starts_with("s.txt:3"), "{}", e.location);
    let e = rdsports_audit::read(
        "iptables-save",
        "*filter\n:INPUT ACCEPT [0:0]\n",
        "s.txt",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(e.message.contains("COMMIT"));
    let e = rdsports_audit::decode(b"ab\n\xff", "w.json").unwrap_err();
    assert_eq!(e.location, "w.json:2:1");
}

#[test]
fn azure_nsg_az_cli() {
    let a = audit(
        "azure-nsg.json",
        "azure-nsg",
        &|_| Scope::CrossZone,
        ReadOptions::default(),
    );
    golden("azure-nsg.txt", &report::table(&a, 80));
    golden("azure-nsg.json", &report::json(&a));
    // Internet -> the gateway on 443: rule 100.
    assert_eq!(
        status(&a, "clients", "gw01", "tcp", "443").status,
        Status::Allowed
    );
    // Priority order: the SMB deny (130) beats the allow at 200... 445 is not in 200 anyway;
    // the gateway's SMB to the DC is denied by 130.
    let smb = status(&a, "gw01", "dc01", "tcp", "445");
    assert_eq!(smb.status, Status::Missing);
    assert!(smb.rule.as_ref().unwrap().text.contains("deny-smb"));
    // Outbound: the licence server's activation would be denied by 310, but the Storage
    // service tag rule before it may hold some of those addresses: "possible", never guessed.
    let act = status(&a, "ls01", "clearinghouse", "tcp", "443");
    assert_eq!(act.status, Status::Possible);
    assert!(act.reason.as_ref().unwrap().contains("Storage.WestEurope"));
    assert!(
        a.too_broad
            .iter()
            .any(|t| t.rule.text.contains("allow-rdp-anywhere"))
    );
}

#[test]
fn azure_nsg_powershell() {
    let a = audit(
        "azure-nsg-ps.json",
        "azure-nsg",
        &|_| Scope::CrossZone,
        ReadOptions::default(),
    );
    golden("azure-nsg-ps.txt", &report::table(&a, 80));
    assert_eq!(
        status(&a, "gw01", "sh02", "tcp", "3389").status,
        Status::Allowed
    );
    // An application security group's members are not in the export, but the default
    // AllowVnetInBound (65000) allows the flow whether the group matches or not.
    let udp = status(&a, "gw01", "sh02", "udp", "3389");
    assert_eq!(udp.status, Status::Allowed, "{udp:?}");
    assert!(udp.rule.as_ref().unwrap().text.contains("AllowVnetInBound"));
    assert!(a.notes.iter().any(|n| n.message.contains("defaults")));
}

#[test]
fn aws_security_groups() {
    let a = audit(
        "aws-sg.json",
        "aws-sg",
        &|_| Scope::CrossZone,
        ReadOptions::default(),
    );
    golden("aws-sg.txt", &report::table(&a, 80));
    golden("aws-sg.json", &report::json(&a));
    assert_eq!(
        status(&a, "clients", "gw01", "tcp", "443").status,
        Status::Allowed
    );
    // The union of both groups: RDP from the perimeter /24 reaches the session hosts.
    assert_eq!(
        status(&a, "gw01", "sh01", "tcp", "3389").status,
        Status::Allowed
    );
    // UDP to the session hosts: no group allows it.
    assert_eq!(
        status(&a, "gw01", "sh01", "udp", "3389").status,
        Status::Missing
    );
    // WinRM from the broker: allowed only through a source group whose members are unknown.
    assert_eq!(
        status(&a, "cb01", "gw01", "tcp", "5985").status,
        Status::Possible
    );
}

/// The ASA fixture's interfaces: `perimeter` is named like its zone; `outside` and `inside`
/// are named with --interface.
fn asa_opts() -> ReadOptions {
    let d = deployment();
    let mut interfaces: Vec<(String, Vec<ipnet::IpNet>)> = d
        .zones
        .iter()
        .map(|z| (z.name.clone(), z.networks.clone()))
        .collect();
    for (nameif, zone) in [("outside", "internet"), ("inside", "internal")] {
        let z = d.zones.iter().find(|z| z.name == zone).unwrap();
        interfaces.push((nameif.to_owned(), z.networks.clone()));
    }
    ReadOptions {
        interfaces,
        ..ReadOptions::default()
    }
}

#[test]
fn cisco_asa_running_config() {
    let a = audit(
        "asa-perimeter.txt",
        "cisco-asa",
        &|_| Scope::CrossZone,
        asa_opts(),
    );
    golden("asa-perimeter.txt", &report::table(&a, 80));
    golden("asa-perimeter.json", &report::json(&a));
    // The outside interface's list: HTTPS to the gateway, entry on line 74.
    let https = status(&a, "clients", "gw01", "tcp", "443");
    assert_eq!(https.status, Status::Allowed);
    assert!(https.rule.as_ref().unwrap().location.ends_with(":74"));
    // RDP UDP to the session hosts through the service group (tcp and a service object).
    assert_eq!(
        status(&a, "gw01", "sh02", "udp", "3389").status,
        Status::Allowed
    );
    // The deny of RADIUS comes first: missing, decided by line 85.
    let radius = status(&a, "gw01", "nps01", "udp", "1812");
    assert_eq!(radius.status, Status::Missing);
    assert!(radius.rule.as_ref().unwrap().location.ends_with(":85"));
    // The CRL server only through an FQDN object: possible, never guessed.
    let crl = status(&a, "gw01", "pki01", "tcp", "80");
    assert_eq!(crl.status, Status::Possible);
    assert!(crl.reason.as_ref().unwrap().contains("FQDN"));
    // The inside interface has no list of its own: the global list decides.
    let winrm = status(&a, "cb01", "gw01", "tcp", "5985");
    assert_eq!(winrm.status, Status::Allowed);
    assert!(winrm.rule.as_ref().unwrap().text.contains("global_access"));
    // RDP from anywhere to the internal hosts is too broad; its hit count is zero.
    assert!(a.too_broad.iter().any(|t| t.rule.location.ends_with(":76")));
    assert!(a.unused.iter().any(|u| u.rule.location.ends_with(":76")));
    // The HTTPS entry was hit (48211): not unused; the inactive ssh entry is never counted.
    assert!(!a.unused.iter().any(|u| u.rule.location.ends_with(":74")));
    assert!(!a.unused.iter().any(|u| u.rule.location.ends_with(":77")));
    // The outside list's explicit deny changes nothing: the implicit deny follows it.
    assert!(a.redundant.iter().any(|r| r.rule.location.ends_with(":78")));
    // The fix never clears or rebinds the admin's lists.
    let fix = a.fix.as_ref().unwrap();
    assert!(fix.rules.contains("permit udp"));
    assert!(
        !fix.rules
            .lines()
            .any(|l| l.starts_with("clear configure") || l.starts_with("access-group "))
    );
}

#[test]
fn cisco_asa_without_zone_names_uses_the_routes() {
    // Without --interface, outside stands for its address and the default route, inside for
    // its connected network: the verdicts are the same.
    let a = audit(
        "asa-perimeter.txt",
        "cisco-asa",
        &|_| Scope::CrossZone,
        ReadOptions {
            interfaces: deployment()
                .zones
                .iter()
                .map(|z| (z.name.clone(), z.networks.clone()))
                .collect(),
            ..ReadOptions::default()
        },
    );
    assert_eq!(
        status(&a, "clients", "gw01", "tcp", "443").status,
        Status::Allowed
    );
    assert_eq!(
        status(&a, "cb01", "gw01", "tcp", "5985").status,
        Status::Allowed
    );
    assert!(
        a.notes
            .iter()
            .any(|n| n.message.contains("interface outside has no zone"))
    );
}

#[test]
fn aws_network_acls() {
    let a = audit(
        "aws-nacl.json",
        "aws-nacl",
        &|_| Scope::CrossZone,
        ReadOptions::default(),
    );
    golden("aws-nacl.txt", &report::table(&a, 80));
    golden("aws-nacl.json", &report::json(&a));
    // Inbound 100 and the replies' outbound 100 (1024-65535): allowed, named by rule 100.
    let https = status(&a, "clients", "gw01", "tcp", "443");
    assert_eq!(https.status, Status::Allowed);
    assert!(https.rule.as_ref().unwrap().text.starts_with("100 ingress"));
    // UDP from the gateway to the DC goes out, but no inbound entry lets its replies back in.
    let dns = status(&a, "gw01", "dc01", "udp", "53");
    assert_eq!(dns.status, Status::Missing);
    assert!(
        dns.rule
            .as_ref()
            .unwrap()
            .text
            .contains("(for the replies)")
    );
    assert_eq!(
        status(&a, "gw01", "dc01", "tcp", "445").status,
        Status::Allowed
    );
    assert_eq!(
        status(&a, "cb01", "gw01", "tcp", "5985").status,
        Status::Allowed
    );
    assert_eq!(a.counts.missing, 9);
}

#[test]
fn aws_security_groups_and_network_acls_in_one_file() {
    let mut text = std::fs::read_to_string(dir().join("fixtures/aws-sg.json")).unwrap();
    text.push_str(&std::fs::read_to_string(dir().join("fixtures/aws-nacl.json")).unwrap());
    assert_eq!(rdsports_audit::sniff(&text), Some("aws-nacl"));
    let opts = ReadOptions {
        internal: deployment()
            .zones
            .iter()
            .flat_map(|z| z.networks.iter().copied())
            .filter(|n| n.prefix_len() > 0)
            .collect(),
        ..ReadOptions::default()
    };
    let rs = rdsports_audit::read("aws-nacl", &text, "aws.json", &opts).unwrap();
    let d = deployment();
    let catalog = Catalog::builtin().unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &d);
    let a = rdsports_audit::analyse(&rs, &plan, &Scope::CrossZone);
    // The network ACL allows TCP RDP to the session hosts and the groups do too.
    assert_eq!(
        status(&a, "gw01", "sh01", "tcp", "3389").status,
        Status::Allowed
    );
    // The groups allow SMB to nothing but ... 135 from the internal /24 only: the gateway's
    // RPC to the brokers is not in any group (the union of allows), whatever the ACL says.
    let rpc = status(&a, "gw01", "cb01", "tcp", "135");
    assert_eq!(rpc.status, Status::Missing);
    assert!(rpc.rule.as_ref().unwrap().text.contains("security groups"));
    // HTTPS to the gateway passes both: the network ACL's entry names it.
    let https = status(&a, "clients", "gw01", "tcp", "443");
    assert_eq!(https.status, Status::Allowed);
    assert!(https.rule.as_ref().unwrap().text.starts_with("100 ingress"));
}

#[test]
fn asa_and_nacl_errors_are_located() {
    let e = rdsports_audit::read(
        "cisco-asa",
        "access-list a extended permit tcp any host 192.0.2.300 eq 80\n",
        "fw.txt",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.location, "fw.txt:1:44");
    let e = rdsports_audit::read(
        "cisco-asa",
        "object network web\n host 192.0.2.10\naccess-list a extended permit tcp any object webx eq 80\n",
        "fw.txt",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.location, "fw.txt:3:46");
    assert!(e.message.contains("webx"));
    let e = rdsports_audit::read(
        "aws-nacl",
        "{\"NetworkAcls\": [\n {\"Entries\": [ {\"Egress\": true, \"RuleNumber\": } ]}]}",
        "n.json",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.location, "n.json:2:47");
}

#[test]
fn damaged_exports_never_panic() {
    // Every line of the fixtures with one word taken out: read or refused, never a panic.
    for (fixture, format) in [
        ("asa-perimeter.txt", "cisco-asa"),
        ("aws-nacl.json", "aws-nacl"),
        ("aerleon/policies/pol/perimeter.yaml", "aerleon"),
        ("aerleon/def/networks.yaml", "aerleon-def"),
        ("aerleon/def/services.yaml", "aerleon-def"),
    ] {
        let text = std::fs::read_to_string(dir().join("fixtures").join(fixture)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let words: Vec<&str> = line.split(' ').collect();
            for w in 0..words.len() {
                let mut damaged = lines.clone();
                let cut: String = words
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != w)
                    .map(|(_, x)| *x)
                    .collect::<Vec<_>>()
                    .join(" ");
                damaged[i] = &cut;
                let damaged = damaged.join("\n");
                if format == "aerleon-def" {
                    // A damaged definitions file under the intact policy.
                    let mut opts = aerleon_opts();
                    for d in &mut opts.definitions {
                        if fixture.ends_with(d.0.as_str()) {
                            d.1 = damaged.clone();
                        }
                    }
                    let policy = std::fs::read_to_string(
                        dir().join("fixtures/aerleon/policies/pol/perimeter.yaml"),
                    )
                    .unwrap();
                    let _ = rdsports_audit::read("aerleon", &policy, "p.yaml", &opts);
                    continue;
                }
                let opts = ReadOptions {
                    definitions: aerleon_opts().definitions,
                    ..asa_opts()
                };
                let _ = rdsports_audit::read(format, &damaged, fixture, &opts);
            }
        }
    }
}

/// `netsh advfirewall firewall show rule name=all verbose` (English, CRLF as netsh writes
/// it when redirected), with and without `netsh advfirewall show allprofiles`.
#[test]
fn windows_netsh_text() {
    let d = deployment();
    let (scope, opts) = host_opts(&d, "sh01");
    let read = |profiles: bool, opts: &ReadOptions| {
        let text = std::fs::read_to_string(dir().join("fixtures/windows-sh01.netsh.txt")).unwrap();
        assert_eq!(rdsports_audit::sniff(&text), Some("windows-netsh"));
        let ptext =
            std::fs::read_to_string(dir().join("fixtures/windows-sh01.allprofiles.txt")).unwrap();
        let p = profiles.then_some(("windows-sh01.allprofiles.txt", ptext.as_str()));
        let rs =
            rdsports_audit::read::netsh::read(&text, "windows-sh01.netsh.txt", p, opts).unwrap();
        let catalog = Catalog::builtin().unwrap();
        let plan = rdsports_core::plan::plan(&catalog, &d);
        rdsports_audit::analyse(&rs, &plan, &scope)
    };
    let a = read(true, &opts);
    golden("windows-sh01.netsh.txt", &report::table(&a, 80));
    golden("windows-sh01.netsh.json", &report::json(&a));
    // The same verdicts as the export script's JSON of the same rules.
    let rdp = status(&a, "gw01", "sh01", "tcp", "3389");
    assert_eq!(rdp.status, Status::Possible);
    assert!(rdp.reason.as_ref().unwrap().contains("service termservice"));
    for (from, port) in [("cb02", "49152-65535"), ("cb02", "135"), ("cb02", "445")] {
        assert_eq!(
            status(&a, from, "sh01", "tcp", port).status,
            Status::Allowed
        );
    }
    // Program-scoped (System) is "possible" too, and says why.
    let winrm = status(&a, "cb01", "sh01", "tcp", "5985");
    assert_eq!(winrm.status, Status::Possible);
    assert!(winrm.reason.as_ref().unwrap().contains("program System"));
    assert_eq!(
        status(&a, "sh01", "dc01", "tcp", "636").status,
        Status::Missing
    );
    // The old jump host's RDP rule opens 3389 to a whole /24 no flow needs.
    assert!(
        a.too_broad
            .iter()
            .any(|t| t.rule.text.contains("RDP from the old jump host"))
    );
    // The profile's default comes from the allprofiles file, with its line.
    assert!(
        a.flows.iter().any(|f| f
            .rule
            .as_ref()
            .is_some_and(|r| r.location.starts_with("windows-sh01.allprofiles.txt:5"))),
        "a flow is decided by the Domain profile's policy"
    );
    // Without it: the Windows defaults, and a note that says so.
    let b = read(false, &opts);
    assert!(
        b.notes
            .iter()
            .any(|n| n.message.contains("no profile defaults"))
    );
    assert_eq!(b.counts, a.counts);
    // The Public profile blocks every inbound connection (BlockInboundAlways).
    let public = ReadOptions {
        profile: Some("public".into()),
        ..opts.clone()
    };
    let c = read(true, &public);
    assert_eq!(
        status(&c, "cb02", "sh01", "tcp", "445").status,
        Status::Missing
    );
}

fn aerleon_opts() -> ReadOptions {
    let base = dir().join("fixtures/aerleon/def");
    ReadOptions {
        interfaces: deployment()
            .zones
            .iter()
            .map(|z| (z.name.clone(), z.networks.clone()))
            .collect(),
        definitions: ["networks.yaml", "services.yaml"]
            .iter()
            .map(|f| {
                (
                    format!("aerleon/def/{f}"),
                    std::fs::read_to_string(base.join(f)).unwrap(),
                )
            })
            .collect(),
        ..ReadOptions::default()
    }
}

#[test]
fn aerleon_policy() {
    let a = audit(
        "aerleon/policies/pol/perimeter.yaml",
        "aerleon",
        &|_| Scope::CrossZone,
        aerleon_opts(),
    );
    golden("aerleon-perimeter.txt", &report::table(&a, 80));
    golden("aerleon-perimeter.json", &report::json(&a));
    // Services by name, several protocols in one term.
    assert_eq!(
        status(&a, "clients", "gw01", "tcp", "443").status,
        Status::Allowed
    );
    assert_eq!(
        status(&a, "clients", "gw01", "udp", "3391").status,
        Status::Allowed
    );
    // The deny term comes first: missing, decided by it.
    let radius = status(&a, "gw01", "nps01", "udp", "1812");
    assert_eq!(radius.status, Status::Missing);
    assert!(radius.rule.as_ref().unwrap().location.ends_with(":27"));
    // An interface match is not evaluated: possible.
    let crl = status(&a, "gw01", "pki01", "tcp", "80");
    assert_eq!(crl.status, Status::Possible);
    assert!(crl.reason.as_ref().unwrap().contains("source-interface"));
    // A zone pair no filter names: the zone firewall's default deny.
    let out = status(&a, "cb01", "gw01", "tcp", "5985");
    assert_eq!(out.status, Status::Missing);
    assert!(
        out.rule.as_ref().unwrap().text.contains("default deny")
            || out.rule.as_ref().unwrap().location.contains("no filter")
    );
}
