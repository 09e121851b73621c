//! Readers against small inputs written from Microsoft's documentation.

use super::*;

fn one(name: &str, text: &str) -> Result<Inventory, ImportError> {
    read(&[Source { name, text }])
}

#[test]
fn get_rdserver_in_both_serialisers_is_one_inventory() {
    let ps51 = r#"{"value":[{"Server":"cb01.contoso.example","Roles":["RDS-CONNECTION-BROKER","RDS-LICENSING"]}],"Count":1}"#;
    let ps7 =
        r#"[{"Server":"cb01.contoso.example","Roles":["RDS-CONNECTION-BROKER","RDS-LICENSING"]}]"#;
    let single =
        r#"{"Server":"cb01.contoso.example","Roles":["RDS-CONNECTION-BROKER","RDS-LICENSING"]}"#;
    let a = one("x/Get-RDServer.json", ps51).unwrap();
    assert_eq!(a.servers, one("Get-RDServer.json", ps7).unwrap().servers);
    assert_eq!(a.servers, one("get-rdserver.JSON", single).unwrap().servers);
    assert_eq!(
        a.servers["cb01.contoso.example"]
            .roles
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        [Role::ConnectionBroker, Role::Licensing]
    );
}

#[test]
fn enums_as_numbers_names_and_both_spellings() {
    for (text, want) in [
        (
            r#"{"GatewayMode":2,"LogonMethod":4}"#,
            ("Custom", "AllowUserToSelectDuringConnection"),
        ),
        (
            r#"{"GatewayMode":"Custom","LogonMethod":"AllowUserToSelectRuntime"}"#,
            ("Custom", "AllowUserToSelectDuringConnection"),
        ),
        (
            r#"{"gatewaymode":"automatic","LogonMethod":"Smartcard"}"#,
            ("Automatic", "Smartcard"),
        ),
        (
            r#"[{"GatewayMode":"0","LogonMethod":0}]"#,
            ("DoNotUse", "Password"),
        ),
    ] {
        let inv = one("Get-RDDeploymentGatewayConfiguration.json", text).unwrap();
        assert_eq!(inv.facts.gateway_mode.unwrap().value, want.0, "{text}");
        assert_eq!(inv.facts.logon_method.unwrap().value, want.1, "{text}");
    }
    let e = one(
        "Get-RDDeploymentGatewayConfiguration.json",
        r#"{"GatewayMode":1}"#,
    )
    .unwrap_err();
    assert_eq!(e.place.as_deref(), Some("$.GatewayMode"));
    assert!(
        e.hint.contains("DoNotUse (0), Custom (2), Automatic (3)"),
        "{}",
        e.hint
    );
    let lic = one(
        "Get-RDLicenseConfiguration.json",
        r#"{"Mode":2,"LicenseServer":"ls01"}"#,
    )
    .unwrap();
    assert_eq!(lic.facts.licensing_mode.unwrap().value, "PerDevice");
    assert!(lic.servers["ls01"].roles.contains_key(&Role::Licensing));
}

#[test]
fn unknown_role_names_are_listed_at_the_first() {
    let e = one(
        "Get-RDServer.json",
        r#"[{"Server":"a","Roles":["RDS-GATEWAY","RDS-BROKER"]},{"Server":"b","Roles":["RDS-FAX"]}]"#,
    )
    .unwrap_err();
    assert_eq!(e.place.as_deref(), Some("$[0].Roles[1]"));
    assert!(
        e.message.contains("\"RDS-BROKER\", \"RDS-FAX\""),
        "{}",
        e.message
    );
    assert!(e.hint.contains("RDS-CONNECTION-BROKER"), "{}", e.hint);
}

#[test]
fn csv_of_string_arrays_is_refused_at_its_column() {
    let text = "#TYPE Microsoft.RemoteDesktopServices.Management.RDDeploymentServer\n\"Server\",\"Roles\"\n\"cb01\",\"System.String[]\"\n";
    let e = one("Get-RDServer.csv", text).unwrap_err();
    assert_eq!(e.place.as_deref(), Some("3:8"));
    assert!(e.hint.contains("-join ';'"), "{}", e.hint);
    let good = "\"Server\",\"Roles\"\r\n\"cb01\",\"RDS-CONNECTION-BROKER;RDS-LICENSING\"\r\n";
    let inv = one("servers.csv", good).unwrap();
    assert_eq!(inv.servers["cb01"].roles.len(), 2);
    let e = one(
        "Get-RDServer.csv",
        "\"Server\",\"Roles\"\n\"cb01\",\"RDS-X\n",
    )
    .unwrap_err();
    assert_eq!(e.place.as_deref(), Some("2:8"));
}

#[test]
fn the_same_server_in_several_exports_is_merged() {
    let inv = read(&[
        Source { name: "Get-RDServer.json", text: r#"[{"Server":"SH01.contoso.example","Roles":["RDS-RD-SERVER"]}]"# },
        Source { name: "Get-RDSessionHost.json", text: r#"{"CollectionName":"C","SessionHost":"sh01.contoso.example","NewConnectionAllowed":"Yes"}"# },
        Source { name: "Get-RDLicenseConfiguration.json", text: r#"{"Mode":"PerUser","LicenseServer":["sh01"]}"# },
    ])
    .unwrap();
    assert_eq!(inv.servers.len(), 1, "{:?}", inv.servers.keys());
    let s = &inv.servers["sh01.contoso.example"];
    assert_eq!(s.name, "SH01.contoso.example");
    assert_eq!(
        s.roles.keys().copied().collect::<Vec<_>>(),
        [Role::SessionHost, Role::Licensing]
    );
}

#[test]
fn secrets_are_dropped_and_said() {
    let text = r#"{"ConnectionBroker":["cb01","cb02"],"DatabaseConnectionString":"Driver={SQL Server Native Client 13.0};Server=tcp:sql01.contoso.example,1433;Database=RDCB;Uid=rdcb;Pwd={hunter2};Encrypt=yes"}"#;
    let inv = one("Get-RDConnectionBrokerHighAvailability.json", text).unwrap();
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.contains("$.DatabaseConnectionString: a secret was dropped")),
        "{:?}",
        inv.warnings
    );
    let db = inv.facts.database.as_ref().unwrap();
    assert_eq!(
        (db.value.host.as_str(), db.value.port),
        ("sql01.contoso.example", Some(1433))
    );
    let text = format!("{inv:?}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn located_errors_and_bounds() {
    let e = one("Get-RDServer.json", "[{\"Server\": 3}]").unwrap_err();
    assert_eq!(
        (e.place.as_deref(), e.message.as_str()),
        (Some("$[0].Server"), "expected a string, found a number")
    );
    let e = one("Get-RDServer.json", "[{\"Server\": \"a\",\n \"Roles\": [}").unwrap_err();
    assert_eq!(e.place.as_deref(), Some("2:12"));
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let e = one("Get-RDServer.json", &deep).unwrap_err();
    assert!(e.hint.contains("deeper than 128"), "{}", e.hint);
    let e = one("servers.json", "[]").unwrap_err();
    assert!(e.hint.contains("Get-RDServer.json"), "{}", e.hint);
    let e = one("Get-RDServer.txt.csv", "\"Name\"\n\"a\"\n").unwrap_err();
    assert_eq!(e.message, "only Get-RDServer is read from CSV");
}

#[test]
fn collector_document_is_read_strictly() {
    let base = |servers: &str| {
        format!(
            r#"{{"schema_version":1,"collector":"rdsports","broker":"cb01","servers":[{servers}]}}"#
        )
    };
    let e = one(
        "c.json",
        &base(r#"{"name":"sh01"},{"name":"sh02","rdp_prot":{"value":1,"source":"x"}}"#),
    )
    .unwrap_err();
    assert_eq!(e.place.as_deref(), Some("$.servers[1]"));
    assert!(
        e.message.contains("unknown field `rdp_prot`"),
        "{}",
        e.message
    );
    let e = one("c.json", &base(r#"{"name":"sh01","addresses":{"value":[{"ip":"192.0.2.300","prefix_length":24}],"source":"x"}}"#)).unwrap_err();
    assert_eq!(e.place.as_deref(), Some("$.servers[0].addresses.value[0]"));
    let e = one(
        "c.json",
        r#"{"schema_version":2,"collector":"rdsports","broker":"cb01"}"#,
    )
    .unwrap_err();
    assert_eq!(e.place.as_deref(), Some("$.schema_version"));
    let e = one(
        "c.json",
        r#"{"schema_version":1,"collector":"rdsports","broker":"cb01","cmdlets":{"Get-RDFoo":[]}}"#,
    )
    .unwrap_err();
    assert_eq!(e.place.as_deref(), Some("$.cmdlets[\"Get-RDFoo\"]"));
    // A shared secret anywhere is dropped before the strict read, and said.
    let inv = one("c.json", &base(r#"{"name":"gw01","gateway":{"nps_servers":{"value":["nps01"],"source":"Win32_TSGatewayRADIUSServer Name"},"SharedSecret":"x"}}"#)).unwrap();
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.contains("$.servers[0].gateway.SharedSecret")),
        "{:?}",
        inv.warnings
    );
    assert!(inv.servers["nps01"].roles.contains_key(&Role::Nps));
}

#[test]
fn majority_goes_to_options_and_the_rest_per_host() {
    let s = |name: &str, port: u16| {
        format!(
            r#"{{"name":"{name}","addresses":{{"value":[{{"ip":"192.0.2.{}","prefix_length":24}}],"source":"Get-NetIPAddress"}},"rdp_port":{{"value":{port},"source":"RDP-Tcp PortNumber"}}}}"#,
            &name[2..]
        )
    };
    let text = format!(
        r#"{{"schema_version":1,"collector":"rdsports","broker":"cb01","cmdlets":{{"Get-RDServer":[{{"Server":"sh11","Roles":["RDS-RD-SERVER"]}},{{"Server":"sh12","Roles":["RDS-RD-SERVER"]}},{{"Server":"sh13","Roles":["RDS-RD-SERVER"]}}]}},"servers":[{},{},{}]}}"#,
        s("sh11", 3389),
        s("sh12", 3390),
        s("sh13", 3389)
    );
    let inv = one("c.json", &text).unwrap();
    let m = model::Model::of(&inv, &BTreeMap::new());
    let rdp = m.options.iter().find(|o| o.key == "rdp_port").unwrap();
    assert_eq!(rdp.value, "3389");
    assert!(rdp.comment.contains("(2 of 3 hosts)"), "{}", rdp.comment);
    let sh12 = m.hosts.iter().find(|h| h.name == "sh12").unwrap();
    assert_eq!(sh12.settings.len(), 1);
    assert_eq!(
        (sh12.settings[0].key, sh12.settings[0].value.as_str()),
        ("rdp_port", "3390")
    );
    assert!(
        m.render()
            .contains("rdp_port = 3390  # sh12: RDP-Tcp PortNumber")
    );
}

#[test]
fn collector_arrays_in_the_5_1_wrapper_are_read() {
    let text = r#"{"schema_version":1,"collector":"rdsports","broker":"cb01",
        "servers":{"value":[{"name":"sh01","addresses":{"value":{"value":[{"ip":"192.0.2.21","prefix_length":24}],"Count":1},"source":"Get-NetIPAddress"}}],"Count":1}}"#;
    let inv = one("c.json", text).unwrap();
    let a = inv.servers["sh01"].addresses.as_ref().unwrap();
    assert_eq!(a.value, [("192.0.2.21".parse().unwrap(), Some(24))]);
}

#[test]
fn a_gateway_not_used_means_clients_connect_directly() {
    let inv = read(&[
        Source { name: "Get-RDServer.json", text: r#"[{"Server":"gw01","Roles":["RDS-GATEWAY"]},{"Server":"sh01","Roles":["RDS-RD-SERVER"]}]"# },
        Source { name: "Get-RDDeploymentGatewayConfiguration.json", text: r#"{"GatewayMode":0}"# },
    ])
    .unwrap();
    let m = model::Model::of(&inv, &BTreeMap::new());
    let d = m.options.iter().find(|o| o.key == "direct_access").unwrap();
    assert_eq!(d.value, "true");
    assert!(
        d.comment.contains("GatewayMode = DoNotUse"),
        "{}",
        d.comment
    );
    // Custom mode without BypassLocal: through the gateway only.
    let inv = read(&[
        Source {
            name: "Get-RDServer.json",
            text: r#"[{"Server":"gw01","Roles":["RDS-GATEWAY"]}]"#,
        },
        Source {
            name: "Get-RDDeploymentGatewayConfiguration.json",
            text: r#"{"GatewayMode":2,"BypassLocal":false}"#,
        },
    ])
    .unwrap();
    let m = model::Model::of(&inv, &BTreeMap::new());
    assert!(m.options.iter().all(|o| o.key != "direct_access"));
}
