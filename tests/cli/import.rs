//! `rdsports import`: the collector, exports to a deployment file, drift, bad input and exit
//! codes; and the round trip: for each example deployment, the collector's document that
//! describes it imports to a file whose plan is the example's (zone names aside).

use super::*;

use rdsports_core::{Deployment, Host, Role};
use rdsports_schema::import::{
    Address, BrokerDatabase, Collected, DomainFacts, Fact, GatewayFacts, NameAddresses, ServerFacts,
};

fn fixtures() -> std::path::PathBuf {
    root().join("crates/import/tests/fixtures")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_collector_is_printed() {
    let out = rdsports().args(["import", "--collector"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        include_str!("../../crates/import/src/collector.ps1")
    );
}

#[test]
fn no_source_is_a_usage_error() {
    let out = rdsports().args(["import"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "notes.txt", b"x");
    let out = rdsports()
        .args(["import", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("holds no .json or .csv export"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn export_csv_of_string_arrays_says_how_to_export() {
    let out = rdsports()
        .arg("import")
        .arg(fixtures().join("bad/Get-RDServer.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("Get-RDServer.csv: 3:24: the roles were written as \"System.String[]\""),
        "{e}"
    );
    assert!(e.contains("$_.Roles -join ';'"), "{e}");
    // The joined export is read.
    let out = rdsports()
        .arg("import")
        .arg(fixtures().join("Get-RDServer.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(
        toml.contains("roles = [\"connection-broker\", \"licensing\"]  # Get-RDServer (CSV)"),
        "{toml}"
    );
}

#[test]
fn unknown_roles_are_listed_and_bad_json_is_located() {
    let out = rdsports()
        .arg("import")
        .arg(fixtures().join("bad/unknown-role"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("$[0].Roles[1]: unknown role names: \"RDS-BROKER\", \"RDS-FAX\""),
        "{e}"
    );
    assert!(
        e.contains("hint: Get-RDServer's roles are RDS-CONNECTION-BROKER"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "Get-RDLicenseConfiguration.json",
        br#"{"Mode": "PerSeat"}"#,
    );
    let out = rdsports().arg("import").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("$.Mode: \"PerSeat\" is not a value of LicensingMode"),
        "{e}"
    );
    assert!(
        e.contains("PerDevice (2), PerUser (4), NotConfigured (5)"),
        "{e}"
    );
    let p = write(
        &dir,
        "Get-RDServer.json",
        b"[{\"Server\": \"a\",\n  \"Roles\": [\"RDS-GATEWAY\",]}]",
    );
    let out = rdsports().arg("import").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Get-RDServer.json: 2:27: not JSON"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn secrets_never_reach_the_output() {
    let out = rdsports()
        .arg("import")
        .arg(fixtures().join("collector/rdsports-collected.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        !all.contains("your_password_here") && !all.contains("never-copied"),
        "{all}"
    );
    assert!(
        stderr(&out)
            .contains("$.servers[2].gateway.nps_servers.SharedSecret: a secret was dropped")
    );
}

#[test]
fn a_file_with_addresses_to_fill_in_fails_plan_pointing_at_them() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("deployment.toml");
    let out = rdsports()
        .arg("import")
        .arg(fixtures().join("ps51"))
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: no address known for cb01, cb02, gw01, sh01, sh02, sql01")
    );
    let out = rdsports().arg("plan").arg(&out_file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("error: the address is not filled in: \"<address of cb01.contoso.example>\""),
        "{e}"
    );
    assert!(e.contains("deployment.toml:22:11"), "{e}");
    assert!(e.contains("--resolve"), "{e}");
}

#[test]
fn resolve_asks_the_system_resolver() {
    // `localhost` only: the resolver answers from the hosts file, no query leaves the machine.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "Get-RDServer.json",
        br#"{"Server": "localhost", "Roles": ["RDS-RD-SERVER"]}"#,
    );
    let out = rdsports()
        .arg("import")
        .arg(&p)
        .arg("--resolve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(
        toml.contains("# localhost: the system resolver (--resolve)"),
        "{toml}"
    );
    let planned = rdsports()
        .args(["plan", "-"])
        .write_stdin(toml)
        .output()
        .unwrap();
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
}

#[test]
fn drift_in_every_format_and_its_exit_codes() {
    let collected = fixtures().join("collector/rdsports-collected.json");
    let out = rdsports()
        .arg("import")
        .arg(&collected)
        .args(["--compare", "examples/perimeter.toml", "--format", "json"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let drift: rdsports_schema::import::Drift = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(drift.schema_version, 1);
    let has =
        |kind: &str, host: Option<&str>, item: &str, file: Option<&str>, running: Option<&str>| {
            drift.differences.iter().any(|d| {
                serde_json::to_value(d.kind).unwrap() == kind
                    && d.host.as_deref() == host
                    && d.item == item
                    && d.file.as_deref() == file
                    && d.running.as_deref() == running
            })
        };
    assert!(
        has(
            "host-missing",
            Some("gw02"),
            "host",
            None,
            Some("198.51.100.11")
        ),
        "{drift:#?}"
    );
    assert!(
        has(
            "host-missing",
            Some("sql01"),
            "host",
            None,
            Some("192.0.2.20")
        ),
        "{drift:#?}"
    );
    assert!(
        has(
            "option",
            Some("sh03"),
            "rdp_port",
            Some("3389"),
            Some("3390")
        ),
        "{drift:#?}"
    );
    assert!(
        has(
            "option",
            None,
            "rpc_range",
            Some("\"49152-65535\""),
            Some("\"50000-50999\"")
        ),
        "{drift:#?}"
    );
    assert!(
        has("option", None, "broker_ha", Some("false"), Some("true")),
        "{drift:#?}"
    );
    // Hosts the file has and the deployment does not run.
    let dir = tempfile::tempdir().unwrap();
    let extra = std::fs::read_to_string(root().join("examples/perimeter.toml")).unwrap()
        + "\n[[host]]\nname = \"sh09\"\naddress = \"192.0.2.29\"\nroles = [\"session-host\"]\n";
    let extra = write(&dir, "extra.toml", extra.as_bytes());
    let out = rdsports()
        .arg("import")
        .arg(&collected)
        .arg("--compare")
        .arg(&extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("host extra    sh09   host")),
        "{table}"
    );
    let out = rdsports()
        .arg("import")
        .arg(&collected)
        .arg("--compare")
        .arg(&extra)
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("| host extra | sh09 | host | 192.0.2.29/32 | - | not in the sources |"),
        "{md}"
    );
    // A file that is not a deployment: exit 2.
    let bad = write(&dir, "bad.toml", b"name = \"x\"\n[[host]]\nname = 3\n");
    let out = rdsports()
        .arg("import")
        .arg(&collected)
        .arg("--compare")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// RemoteDesktop role names of our roles.
fn rd_role(r: Role) -> Option<&'static str> {
    Some(match r {
        Role::ConnectionBroker => "RDS-CONNECTION-BROKER",
        Role::SessionHost => "RDS-RD-SERVER",
        Role::WebAccess => "RDS-WEB-ACCESS",
        Role::Gateway => "RDS-GATEWAY",
        Role::Licensing => "RDS-LICENSING",
        Role::VirtualizationHost => "RDS-VIRTUALIZATION",
        _ => return None,
    })
}

fn fact<T>(value: T, source: &str) -> Option<Fact<T>> {
    Some(Fact {
        value,
        source: source.to_owned(),
    })
}

/// The collector's document a deployment like `d` would give: what the collector reads, per
/// server and for the deployment, from `d`'s hosts and options.
fn collected_of(d: &Deployment) -> Collected {
    let domain = format!("{}.example", d.name);
    let fq = |h: &Host| format!("{}.{domain}", h.name);
    let written = |h: &Host, r: Role| h.roles.contains(&r) && !h.implied_roles.contains(&r);
    let with = |r: Role| d.hosts.iter().filter(move |h| written(h, r));
    let o = &d.options;
    let mut rd_servers = Vec::new();
    let mut servers = Vec::new();
    let dns: Vec<String> = with(Role::Dns)
        .map(|h| h.address.addr().to_string())
        .collect();
    let winrm = match o.winrm {
        rdsports_core::deployment::WinRm::Http => "HTTP",
        rdsports_core::deployment::WinRm::Https => "HTTPS",
    };
    let mut crl_urls = Vec::new();
    for h in with(Role::Crl) {
        for m in &o.crl {
            crl_urls.push(format!(
                "{}://{}/crl/ca.crl",
                rdsports_core::model::crl_name(*m),
                fq(h)
            ));
        }
    }
    for h in &d.hosts {
        let roles: Vec<&str> = h
            .roles
            .iter()
            .filter(|r| written(h, **r))
            .filter_map(|r| rd_role(*r))
            .collect();
        if roles.is_empty() {
            continue;
        }
        rd_servers.push(serde_json::json!({"Server": fq(h), "Roles": roles}));
        let prefix = d.zones[h.zone]
            .networks
            .iter()
            .filter(|n| n.contains(&h.address.addr()))
            .map(|n| n.prefix_len())
            .max()
            .unwrap_or(h.address.max_prefix_len());
        let rdp = [Role::SessionHost, Role::ConnectionBroker]
            .iter()
            .any(|r| h.has(*r));
        let gateway = h.has(Role::Gateway).then(|| GatewayFacts {
            https_port: fact(
                o.gateway_https_port,
                "Win32_TSGatewayServerSettings GetIPAndPort(1)",
            ),
            udp_enabled: fact(
                o.gateway_udp,
                "Win32_TSGatewayServerSettings IsTransportEnabled(2)",
            ),
            udp_port: fact(
                o.gateway_udp_port,
                "Win32_TSGatewayServerSettings GetIPAndPort(2)",
            ),
            central_cap: fact(
                o.nps == rdsports_core::deployment::NpsMode::Central,
                "Win32_TSGatewayServerSettings CentralCAPEnabled",
            ),
            nps_servers: fact(
                with(Role::Nps).map(fq).collect(),
                "Win32_TSGatewayRADIUSServer Name",
            ),
            crl_urls: fact(
                crl_urls.clone(),
                "the gateway certificate's CRL distribution points",
            ),
        });
        servers.push(ServerFacts {
            name: fq(h),
            error: None,
            addresses: fact(
                vec![Address {
                    ip: h.address.addr().to_string(),
                    prefix_length: prefix,
                }],
                "Get-NetIPAddress",
            ),
            rdp_port: if rdp {
                fact(o.rdp_port, "RDP-Tcp PortNumber")
            } else {
                None
            },
            rdp_udp: if rdp {
                fact(o.rdp_udp, "Win32_TSClientSetting SelectTransport")
            } else {
                None
            },
            gateway,
            rpc_range: (o.rpc_range.to_string() != "49152-65535").then(|| Fact {
                value: o.rpc_range.to_string(),
                source: "KB 154596 Ports".into(),
            }),
            winrm: fact(
                vec![winrm.to_owned()],
                "Get-WSManInstance winrm/config/Listener",
            ),
            dns_servers: fact(dns.clone(), "Get-DnsClientServerAddress"),
            domain: fact(domain.clone(), "Win32_ComputerSystem Domain"),
        });
    }
    let names_of = |r: Role| -> Vec<NameAddresses> {
        with(r)
            .map(|h| NameAddresses {
                name: fq(h),
                addresses: vec![h.address.addr().to_string()],
                source: "System.Net.Dns GetHostAddresses".into(),
            })
            .collect()
    };
    let mut cmdlets = std::collections::BTreeMap::new();
    cmdlets.insert(
        "Get-RDServer".to_owned(),
        serde_json::Value::Array(rd_servers),
    );
    cmdlets.insert(
        "Get-RDLicenseConfiguration".to_owned(),
        serde_json::json!({
            "Mode": match o.licensing_mode {
                rdsports_core::model::LicensingMode::PerUser => 4,
                rdsports_core::model::LicensingMode::PerDevice => 2,
            },
            "LicenseServer": with(Role::Licensing).map(fq).collect::<Vec<_>>(),
        }),
    );
    cmdlets.insert(
        "Get-RDDeploymentGatewayConfiguration".to_owned(),
        serde_json::json!({"GatewayMode": "Custom", "GatewayExternalFqdn": format!("rds.{domain}"),
                           "LogonMethod": 0, "UseCachedCredentials": true, "BypassLocal": o.direct_access}),
    );
    let mut broker_database = None;
    if o.broker_ha {
        let sql = with(Role::Sql).next().unwrap();
        cmdlets.insert(
            "Get-RDConnectionBrokerHighAvailability".to_owned(),
            serde_json::json!({
                "ConnectionBroker": with(Role::ConnectionBroker).map(fq).collect::<Vec<_>>(),
                "DatabaseConnectionString": format!("DRIVER=SQL Server Native Client 11.0;SERVER={},{};Trusted_Connection=Yes;DATABASE=RDCB", fq(sql), o.sql_port),
            }),
        );
        broker_database = Some(BrokerDatabase {
            server: fq(sql),
            port: Some(o.sql_port),
            instance: None,
            addresses: vec![sql.address.addr().to_string()],
            source: "Get-RDConnectionBrokerHighAvailability DatabaseConnectionString SERVER="
                .into(),
        });
    }
    let upd: Vec<String> = with(Role::FileServer)
        .map(|h| format!("\\\\{}\\upd$", fq(h)))
        .collect();
    let mut names = names_of(Role::Nps);
    names.extend(names_of(Role::Crl));
    names.extend(names_of(Role::FileServer));
    Collected {
        schema_version: 1,
        collector: "rdsports".into(),
        collected_at: Some("/Date(1768204800000)/".into()),
        broker: with(Role::ConnectionBroker)
            .next()
            .map(fq)
            .unwrap_or_default(),
        cmdlets,
        cmdlet_errors: Vec::new(),
        servers,
        domain: Some(DomainFacts {
            name: Fact {
                value: domain.clone(),
                source: "GetComputerDomain".into(),
            },
            controllers: names_of(Role::DomainController),
            ad_rpc_port: o.ad_rpc_port.and_then(|p| fact(p, "NTDS TCP/IP Port")),
        }),
        broker_database,
        names,
        user_profile_disks: (!upd.is_empty()).then(|| Fact {
            value: upd,
            source: "Get-RDSessionCollectionConfiguration -UserProfileDisk DiskPath".into(),
        }),
    }
}

/// `plan --format json` of `file`, without the zone names.
fn plan_without_zones(file: &std::path::Path) -> serde_json::Value {
    let out = rdsports()
        .arg("plan")
        .arg(file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        file.display(),
        stderr(&out)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in v["flows"].as_array_mut().unwrap() {
        let f = f.as_object_mut().unwrap();
        f.remove("from_zone");
        f.remove("to_zone");
    }
    let flows = v["flows"].as_array_mut().unwrap();
    flows.sort_by_key(|f| f.to_string());
    v
}

#[test]
fn every_example_round_trips_through_the_collectors_document() {
    for example in ["single-server", "perimeter", "large-farm"] {
        let path = root().join(format!("examples/{example}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let d = Deployment::parse(&text).unwrap();
        // What no source can tell: the host of Server Manager (management). The example
        // without it is what the import can describe.
        let mut kept = String::new();
        for block in text.split("\n[[host]]") {
            if block.contains("roles = [\"management\"]") {
                continue;
            }
            if !kept.is_empty() {
                kept.push_str("\n[[host]]");
            }
            kept.push_str(block);
        }
        let dir = tempfile::tempdir().unwrap();
        let expected = write(&dir, "expected.toml", kept.as_bytes());
        let doc = write(
            &dir,
            "rdsports-collected.json",
            serde_json::to_string_pretty(&collected_of(&d))
                .unwrap()
                .as_bytes(),
        );
        let imported = dir.path().join("imported.toml");
        let out = rdsports()
            .arg("import")
            .arg(&doc)
            .arg("-o")
            .arg(&imported)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{example}: {}", stderr(&out));
        let mut want = plan_without_zones(&expected);
        assert!(
            want["flows"].as_array().unwrap().len() > 10,
            "{example}: {want}"
        );
        let mut got = plan_without_zones(&imported);
        // Warnings name zones and files; the flows are the plan.
        want["warnings"] = serde_json::Value::Null;
        got["warnings"] = serde_json::Value::Null;
        if want != got {
            let w = want["flows"].as_array().unwrap();
            let g = got["flows"].as_array().unwrap();
            let missing: Vec<_> = w.iter().filter(|f| !g.contains(f)).take(5).collect();
            let extra: Vec<_> = g.iter().filter(|f| !w.contains(f)).take(5).collect();
            panic!(
                "{example}: the imported file plans differently ({} flows, want {}):\nmissing {missing:#?}\nextra {extra:#?}\n{}",
                g.len(),
                w.len(),
                std::fs::read_to_string(&imported).unwrap()
            );
        }
        // And the file the import wrote does not drift from its own sources.
        let out = rdsports()
            .arg("import")
            .arg(&doc)
            .arg("--compare")
            .arg(&imported)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{example}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn per_host_settings_are_written_and_their_drift_found() {
    let collected = fixtures().join("collector/rdsports-collected.json");
    let out = rdsports().arg("import").arg(&collected).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace("<address of sh04.contoso.example>", "192.0.2.24");
    assert!(text.contains("rdp_port = 3390  # sh03: HKLM:"), "{text}");
    assert!(
        text.contains(
            "gateway_udp = false  # gw02: Win32_TSGatewayServerSettings IsTransportEnabled(2)"
        ),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let same = write(&dir, "same.toml", text.as_bytes());
    let planned = rdsports()
        .arg("plan")
        .arg(&same)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    let flows = plan["flows"].as_array().unwrap();
    assert!(
        flows
            .iter()
            .any(|f| f["to"] == "sh03" && f["ports"] == "3390")
    );
    assert!(
        !flows
            .iter()
            .any(|f| f["to"] == "gw02" && f["ports"] == "3391")
    );
    let out = rdsports()
        .arg("import")
        .arg(&collected)
        .arg("--compare")
        .arg(&same)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let changed = text
        .replace("rdp_port = 3390  # sh03", "rdp_port = 3391  # sh03")
        .replace("gateway_udp = false  # gw02", "# gw02");
    let changed = write(&dir, "changed.toml", changed.as_bytes());
    let out = rdsports()
        .arg("import")
        .arg(&collected)
        .arg("--compare")
        .arg(&changed)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let drift: rdsports_schema::import::Drift = serde_json::from_slice(&out.stdout).unwrap();
    type Item<'a> = (Option<&'a str>, &'a str, Option<&'a str>, Option<&'a str>);
    let items: Vec<Item<'_>> = drift
        .differences
        .iter()
        .map(|d| {
            (
                d.host.as_deref(),
                d.item.as_str(),
                d.file.as_deref(),
                d.running.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            (Some("gw02"), "gateway_udp", Some("true"), Some("false")),
            (Some("sh03"), "rdp_port", Some("3391"), Some("3390")),
        ]
    );
}

/// The drift example of docs/guide.md is what the command prints for the collector fixture
/// against examples/perimeter.toml.
#[test]
fn the_guides_drift_example_is_the_real_output() {
    let guide = std::fs::read_to_string(root().join("docs/guide.md")).unwrap();
    let command = "$ rdsports import rdsports-collected.json --compare examples/perimeter.toml\n";
    let at = guide.find(command).expect("the guide shows the command") + command.len();
    let shown = &guide[at..at + guide[at..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    std::fs::copy(
        root().join("examples/perimeter.toml"),
        dir.path().join("examples/perimeter.toml"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("collector/rdsports-collected.json"),
        dir.path().join("rdsports-collected.json"),
    )
    .unwrap();
    let out = rdsports()
        .current_dir(dir.path())
        .args([
            "import",
            "rdsports-collected.json",
            "--compare",
            "examples/perimeter.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let real = String::from_utf8(out.stdout).unwrap();
    assert_eq!(real.replace("\r\n", "\n"), shown);
}
