//! Pure renderers: the catalog, plans (and later check results, diagrams and reports) as
//! tables, JSON, CSV and Markdown.
//!
//! Renderers return `String`s or write into a caller's `std::io::Write` (the plan, which can
//! hold millions of flows, streams into it); they never touch the terminal, files or the
//! clock, so every output is byte-stable and snapshot-testable. The binary decides where the
//! text goes and how wide the terminal is. The JSON documents' types are in
//! `rdsports_schema`.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod check;
pub mod demo;
pub mod diagram;
pub mod diff;
pub mod fleet;
pub mod html;
pub mod listen;
pub mod plan;
pub mod ports;
pub mod table;

/// Output formats shared by `ports` and `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// JSON with a `schema_version`.
    Json,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// GitHub-flavoured Markdown tables.
    Markdown,
}

/// The version of the JSON documents built here whose version has no constant in
/// `rdsports_schema` (the fleet summary).
pub const SCHEMA_VERSION: u32 = 1;
