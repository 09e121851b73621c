//! The pure core of rdsports: the RDS flow catalog, the deployment file and the planner.
//!
//! * [`catalog`]: every flow of "RDS 2012: Which ports are used during deployment?" (and the
//!   reference additions) as data, embedded from `catalog/rds.toml`.
//! * [`deployment`]: the deployment file (hosts, roles, zones, options), parsed and checked
//!   with diagnostics that point at file, line and column.
//! * [`plan`]: (catalog, deployment) → the exact flows between real hosts.
//! * [`keep`]: management access an enforcing firewall keeps (`--keep`, `[firewall] keep`).
//!
//! This crate does no I/O: it reads no files, opens no sockets and knows no clock. Callers
//! hand it text and get values back.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod catalog;
pub mod deployment;
pub mod diag;
pub mod keep;
pub mod model;
pub mod plan;
pub mod port_list;
pub mod suggest;
pub mod synthetic;
pub mod text;
pub use tomlfile::decode;
mod tomlfile;

pub use catalog::Catalog;
pub use deployment::Deployment;
pub use diag::{Diagnostic, Severity, Spanned};
pub use keep::Keep;
pub use model::{Also, Flow, Host, HostOptions, HostSettings, PortRange, Protocol, Role, Zone};
pub use plan::Plan;
pub use port_list::PortList;
