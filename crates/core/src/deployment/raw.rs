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
    /// `[lint]` and `[[lint.accept]]`: read and checked by `rdsports lint` (the lint crate),
    /// which knows the finding ids; every other command ignores it.
    #[serde(default)]
    #[expect(dead_code, reason = "parsed by the lint crate until core owns [lint]")]
    pub lint: Option<toml::Value>,
    /// `[firewall]` (`keep = [...]`): read and checked by `rdsports rules`
    /// (`rdsports_policy::deployment_keeps`); every other command ignores it.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed by the policy crate until core owns [firewall]"
    )]
    pub firewall: Option<toml::Value>,
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
}
