//! The Windows Firewall script of every host that accepts flows, for the HTML report: one
//! script per host, or, in large deployments, one per group of hosts with the same roles in
//! the same zone (their rules are the same), labelled with how many hosts it serves.

use rdsports_core::{Deployment, Role};

use crate::{Policy, RenderOptions, render_policy};

/// Above this many hosts the scripts are made per group of hosts with the same roles in the
/// same zone, not per host.
pub const ONE_SCRIPT_PER_GROUP_ABOVE: usize = 200;

/// A zone index and a role set: hosts that share both share their rules.
type HostGroup<'d> = (usize, &'d [Role]);

/// The scripts and what could not be made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostScripts {
    /// (label, PowerShell script): the label is the host's name (not sanitised as file names
    /// are), with how many more hosts it stands for in large deployments.
    pub scripts: Vec<(String, String)>,
    /// One sentence per host whose rules could not be written.
    pub warnings: Vec<String>,
}

/// The Windows Firewall scripts of `d`'s hosts, in file order, from the aggregated `policy`
/// of its plan ([`Policy::aggregated_from_flows`] builds it as flows are planned, without a
/// plan held; [`Policy::aggregated_from_plan`] from a plan).
pub fn windows_scripts(d: &Deployment, policy: &Policy) -> HostScripts {
    let fold = d.hosts.len() > ONE_SCRIPT_PER_GROUP_ABOVE;
    // (zone, roles) and the hosts that share them, in file order.
    let mut groups: Vec<(HostGroup<'_>, Vec<usize>)> = Vec::new();
    for (i, h) in d.hosts.iter().enumerate() {
        let key = (h.zone, h.roles.as_slice());
        match groups.iter_mut().find(|(k, _)| fold && *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let mut out = HostScripts::default();
    for (_, members) in &groups {
        let host = &d.hosts[members[0]];
        let label = match members.len() {
            1 => host.name.clone(),
            n => format!(
                "{} (the same rules serve {} more hosts with its roles in its zone)",
                host.name,
                n - 1
            ),
        };
        let opts = RenderOptions {
            host: Some(host.name.clone()),
            ..Default::default()
        };
        match render_policy("windows", policy, &opts) {
            Ok(r) => out
                .scripts
                .extend(r.files.into_iter().map(|(_, text)| (label.clone(), text))),
            Err(e) => out.warnings.push(format!(
                "no Windows rules for {} in the report: {e}",
                host.name
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rdsports_core::plan::plan;
    use rdsports_core::{Catalog, Deployment};

    use super::*;

    #[test]
    fn every_host_that_accepts_flows_has_its_script() {
        let d = Deployment::parse(include_str!("../../../examples/perimeter.toml")).unwrap();
        let catalog = Catalog::builtin().unwrap();
        let p = plan(&catalog, &d);
        let out = windows_scripts(&d, &Policy::aggregated_from_plan(&p));
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let labels: Vec<&str> = out.scripts.iter().map(|(l, _)| l.as_str()).collect();
        assert!(
            labels.contains(&"gw01") && labels.contains(&"ls01"),
            "{labels:?}"
        );
        let (_, gw01) = out.scripts.iter().find(|(l, _)| l == "gw01").unwrap();
        assert!(gw01.contains("New-NetFirewallRule"), "{gw01}");
    }
}
