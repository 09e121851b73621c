//! The audit result is the document `rdsports_schema::audit` defines; it is re-exported
//! here for the crate's readers and analysis. Its renderings (table, JSON, Markdown, JUnit)
//! are in `rdsports_report::audit::text`.

pub use rdsports_schema::audit::{
    Audit, Counts, DeadRule, Fix, FlowResult, FlowsListed, SCHEMA_VERSION, Status, TooBroad, Unused,
};
