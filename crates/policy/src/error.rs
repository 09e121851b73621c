//! The one error type of the crate: why a policy could not be rendered for a target.
//!
//! Every variant is something the user can act on (a wrong name, an option the target cannot
//! honour, a flow the target cannot express, a platform limit). Harmless limitations are not
//! errors: they come back as warnings in [`crate::Rendered`].

use thiserror::Error;

/// Why rendering failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GenError {
    /// No target has this name.
    #[error("unknown target `{name}` (targets: {known})")]
    UnknownTarget {
        /// The name given.
        name: String,
        /// The known target names, comma-separated.
        known: String,
    },
    /// No host has this name.
    #[error("no host is called {name:?} (hosts: {})", known.join(", "))]
    UnknownHost {
        /// The name given.
        name: String,
        /// The deployment's host names.
        known: Vec<String>,
    },
    /// No zone has this name.
    #[error("no zone is called {name:?} (zones: {})", known.join(", "))]
    UnknownZone {
        /// The name given.
        name: String,
        /// The deployment's zone names.
        known: Vec<String>,
    },
    /// `--boundary` named the same zone twice.
    #[error(
        "--boundary {zone:?}:{zone:?} names one zone twice; flows inside a zone cross no boundary"
    )]
    SameZone {
        /// The zone.
        zone: String,
    },
    /// The target cannot honour an option.
    #[error("target {target} does not support {option}")]
    UnsupportedOption {
        /// Target name.
        target: &'static str,
        /// The option (`--boundary`).
        option: &'static str,
    },
    /// An option's value the target cannot use.
    #[error("target {target}: {option} {value:?}: {reason}")]
    BadOption {
        /// Target name.
        target: &'static str,
        /// The option (`--into`).
        option: &'static str,
        /// The value given.
        value: String,
        /// Why, and what to write instead.
        reason: String,
    },
    /// A planned flow the target cannot express; rendering without it would change access.
    #[error("target {target} cannot express the flows {}: {reason}", ids.join(", "))]
    Unexpressible {
        /// Target name.
        target: &'static str,
        /// Catalog ids of the flows.
        ids: Vec<String>,
        /// Why, and what to do.
        reason: String,
    },
    /// The rendering would exceed a limit of the platform.
    #[error(
        "target {target}: {what} would be {got}, above the platform's limit of {limit}; {hint}"
    )]
    LimitExceeded {
        /// Target name.
        target: &'static str,
        /// What is counted (`security rules in NSG nsg-internal`).
        what: String,
        /// The limit.
        limit: usize,
        /// The count.
        got: usize,
        /// What to do.
        hint: &'static str,
    },
}
