//! The deployment file as written: the serde form, with spans for diagnostics.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeployment {
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub options: Option<Spanned<RawOptions>>,
    #[serde(default)]
    pub zone: Vec<RawZone>,
    #[serde(default)]
    pub host: Vec<RawHost>,
    /// `[lint]` and `[firewall]` are read on their own (`sections`), so that a problem in
    /// them stays with the section, for the command that reads it. Here they are only
    /// checked to hold TOML values, as every other value of the file is (an integer beyond 64
    /// bits is an error of the whole file), and named, so that an unknown key's message lists
    /// them.
    #[serde(default, rename = "lint")]
    pub _lint: Option<toml::Value>,
    /// See `_lint`.
    #[serde(default, rename = "firewall")]
    pub _firewall: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOptions {
    pub rdp_port: Option<Spanned<i64>>,
    pub rdp_udp: Option<Spanned<bool>>,
    pub gateway_udp: Option<Spanned<bool>>,
    pub gateway_https_port: Option<Spanned<i64>>,
    pub gateway_udp_port: Option<Spanned<i64>>,
    pub crl: Option<Spanned<Vec<Spanned<String>>>>,
    pub nps: Option<Spanned<String>>,
    pub rpc_range: Option<Spanned<String>>,
    pub ad_rpc_port: Option<Spanned<i64>>,
    pub wmi_port: Option<Spanned<i64>>,
    pub winrm: Option<Spanned<String>>,
    pub licensing_mode: Option<Spanned<String>>,
    pub activation: Option<Spanned<String>>,
    pub netbios: Option<Spanned<bool>>,
    pub broker_ha: Option<Spanned<bool>>,
    pub sql_port: Option<Spanned<i64>>,
    pub sql_browser: Option<Spanned<bool>>,
    pub direct_access: Option<Spanned<bool>>,
    pub vdi_unmanaged: Option<Spanned<bool>>,
    pub web_client: Option<Spanned<bool>>,
    pub gateway_farm: Option<Spanned<bool>>,
    pub ssl_bridging: Option<Spanned<String>>,
    pub ftp_passive_range: Option<Spanned<String>>,
    pub domain_baseline: Option<Spanned<bool>>,
    pub ldaps: Option<Spanned<bool>>,
    pub low_confidence: Option<Spanned<bool>>,
    pub domain: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawZone {
    pub name: Spanned<String>,
    #[serde(default)]
    pub networks: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHost {
    pub name: Spanned<String>,
    pub address: Spanned<String>,
    pub zone: Option<Spanned<String>>,
    pub roles: Spanned<Vec<Spanned<String>>>,
    pub rdp_port: Option<Spanned<i64>>,
    pub rdp_udp: Option<Spanned<bool>>,
    pub gateway_https_port: Option<Spanned<i64>>,
    pub gateway_udp: Option<Spanned<bool>>,
    pub gateway_udp_port: Option<Spanned<i64>>,
}

impl RawHost {
    /// The per-host settings written on this host: (key, span of its value), in the order
    /// of the spec.
    pub fn setting_places(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let port = |k: &'static str, v: &Option<Spanned<i64>>| v.as_ref().map(|v| (k, v.span()));
        let flag = |k: &'static str, v: &Option<Spanned<bool>>| v.as_ref().map(|v| (k, v.span()));
        [
            port("rdp_port", &self.rdp_port),
            flag("rdp_udp", &self.rdp_udp),
            port("gateway_https_port", &self.gateway_https_port),
            flag("gateway_udp", &self.gateway_udp),
            port("gateway_udp_port", &self.gateway_udp_port),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// `[lint]` as written. Its messages say "expected struct LintView", as they always have.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "struct LintView")]
pub(crate) struct RawLint {
    #[serde(default)]
    pub accept: Vec<RawAccept>,
}

/// One `[[lint.accept]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccept {
    pub id: Spanned<String>,
    #[serde(default)]
    pub hosts: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub reason: Option<Spanned<String>>,
}

/// The `keep` list of `[firewall]` as written (its other keys are refused before).
#[derive(Deserialize)]
pub(crate) struct RawFirewall {
    #[serde(default)]
    pub keep: Vec<Spanned<String>>,
}
