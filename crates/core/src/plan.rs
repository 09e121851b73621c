//! The planner: (catalog, deployment) → the exact flows between concrete hosts.
//!
//! Pure and deterministic: the same inputs give the same flows in the same order.

use crate::catalog::{Catalog, Entry};
use crate::deployment::Deployment;
use crate::model::{Flow, Host, Role, Zone};

/// The flows a deployment needs.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The catalog the plan came from.
    pub catalog: &'a Catalog,
    /// The deployment the plan is for.
    pub deployment: &'a Deployment,
    /// One flow per (from, to, protocol, ports), sorted by source zone, destination zone,
    /// source host, destination host, protocol and port.
    pub flows: Vec<Flow>,
    /// Catalog entries that applied but could not be planned because no host has a role.
    pub unplanned: Vec<Unplanned>,
    /// Things the reader must know (unplanned flows, FTP data channels, defaults taken).
    pub warnings: Vec<String>,
}

/// Catalog entries that apply to the deployment but have no host for one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplanned {
    /// The role no host has.
    pub missing: Role,
    /// Index of the entry in the catalog.
    pub entry: usize,
    /// How many flows were not planned for want of that role.
    pub flows: usize,
}

impl<'a> Plan<'a> {
    /// The catalog entry that justifies `flow`.
    pub fn entry(&self, flow: &Flow) -> &'a Entry {
        &self.catalog.entries[flow.entry]
    }

    /// Source host of `flow`.
    pub fn from(&self, flow: &Flow) -> &'a Host {
        &self.deployment.hosts[flow.from]
    }

    /// Destination host of `flow`.
    pub fn to(&self, flow: &Flow) -> &'a Host {
        &self.deployment.hosts[flow.to]
    }

    /// Zone the flow leaves.
    pub fn from_zone(&self, flow: &Flow) -> &'a Zone {
        self.deployment.zone_of(flow.from)
    }

    /// Zone the flow enters.
    pub fn to_zone(&self, flow: &Flow) -> &'a Zone {
        self.deployment.zone_of(flow.to)
    }

    /// Catalog ids of every entry behind `flow`, primary first.
    pub fn catalog_ids(&self, flow: &Flow) -> Vec<&'a str> {
        std::iter::once(flow.entry)
            .chain(flow.also.iter().copied())
            .map(|i| self.catalog.entries[i].id.as_str())
            .collect()
    }
}
