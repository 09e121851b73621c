//! The command line, as clap definitions only. Doc comments become `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `check --timeout`'s default. Windows answers a connect to a closed port only after its SYN
/// retries, about 2 s even on loopback (reported by libuv, curl and nmap; Wine, on Linux's
/// stack, refuses in 0.3 ms, so this is not measured here): 1500 ms would read `filtered`
/// there. Linux and others refuse at once and keep 1500.
#[cfg(windows)]
pub const DEFAULT_TIMEOUT_MS: u64 = 3000;
/// The full timeout of `check` when --timeout is not pinned (Windows: 3000, see there).
#[cfg(not(windows))]
pub const DEFAULT_TIMEOUT_MS: u64 = 1500;

/// rdsports: the network flows of a Remote Desktop Services deployment, as a catalog, a plan,
/// firewall rules and protocol-aware path checks.
///
/// Exit status: 0 ok, 1 findings (blocked flows, audit failures), 2 bad input or usage.
///
/// Documentation: README.md; docs/guide.md (every task, in order); docs/troubleshooting.md
/// (by symptom); docs/reference/cli.md (every option); docs/windows.md (rdsports.exe).
#[derive(Debug, Parser)]
#[command(
    name = "rdsports",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the RDS flow catalog, or explain one port or catalog id.
    ///
    /// `rdsports ports 5504` explains who connects to whom on port 5504, why, when, how to
    /// change the port and which line of the source document it comes from. `rdsports ports
    /// S14` explains one catalog entry.
    ///
    /// Docs: docs/reference/catalog.md (the catalog, its ids and seed lines).
    Ports(PortsArgs),
    /// Plan the exact flows between the hosts of a deployment file.
    ///
    /// Without FILE, plans the built-in example deployment (examples/perimeter.toml).
    ///
    /// Docs: docs/guide.md#plan; the file format: docs/reference/deployment-file.md.
    Plan(PlanArgs),
    /// Generate firewall rules for the planned flows.
    ///
    /// Targets: windows (PowerShell per host), windows-netsh, nftables, iptables, azure-nsg,
    /// aws-sg, cisco-asa, aerleon. Rules are printed to standard output, or written one file
    /// per host or boundary with --out. Rule counts before and after aggregation go to
    /// standard error.
    ///
    /// Docs: docs/guide.md#generate-firewall-rules; applying each target's output:
    /// docs/reference/platforms/<target>.md.
    Rules(RulesArgs),
    /// What a change to the deployment changes on the firewalls, as a change request.
    ///
    /// OLD and NEW are deployment files or saved `plan --format json` documents. Prints the
    /// flows added, removed and changed, grouped by zone boundary and host pair, each with
    /// its catalog ids, purpose and seed lines, after a header of the hosts, zones and
    /// options that changed; --format csv gives one row per firewall action (add/remove)
    /// with the columns change tickets use. Exit status 0; with --exit-code, 1
    /// when something changed; 2 for bad input.
    ///
    /// Docs: docs/guide.md#diff.
    Diff(DiffArgs),
    /// Prove from this host that every flow it needs is open, with real protocol handshakes.
    ///
    /// Probes every planned flow whose source is this host (--from, or the deployment host
    /// whose address belongs to this machine). TCP: open, refused, filtered. UDP: open,
    /// closed, open|filtered. Open ports are identified (rdp, tls, ldap, kerberos, dns, smb,
    /// msrpc, winrm, radius ...). Without FILE and with --target: one address and port, like
    /// PortQry. Exit status 0 when every flow is open, 1 when one is not.
    ///
    /// Docs: docs/guide.md#check; from a symptom to the check that finds its cause:
    /// docs/troubleshooting.md.
    Check(CheckArgs),
    /// Stand in for a host before its roles are installed: listen on every port it must
    /// accept and answer rdsports check's handshake.
    ///
    /// Opens a TCP listener on each planned inbound port of --as HOST and a UDP responder on
    /// each UDP port (for a range, --range-sample ports including both ends). A port already
    /// in use is reported and skipped: a real service is there. Each listener answers the
    /// prober's nonce with the host name, the port and the source address it saw, so check
    /// reports `open` with service `rdsports-listener` and flags address translation. UDP
    /// replies are never larger than the request. Prints what was opened and one line per
    /// contact; stops after --for or on Ctrl-C.
    ///
    /// Docs: docs/guide.md#listen.
    Listen(ListenArgs),
    /// Bring the built-in example deployment to life in a private network and check it.
    ///
    /// On Linux: an unprivileged user and network namespace with its own loopback, so real
    /// port numbers work without root and the machine's network is untouched. Elsewhere, or
    /// when namespaces are disabled: loopback addresses with a stated port offset. Starts
    /// listeners for every host, leaves one flow closed on purpose, runs check from every
    /// source host and explains the result. Exit status 0 when everything behaved as the demo
    /// intends.
    ///
    /// Docs: README.md#try-it-first-rdsports-demo.
    Demo(DemoArgs),
    /// Draw the deployment: zones as boxes, hosts with their roles, flows as labelled arrows.
    ///
    /// Hosts with the same roles in the same zone fold into one node with a count.
    ///
    /// Docs: docs/guide.md#report.
    Diagram(DiagramArgs),
    /// Write one self-contained HTML report: summary, diagram, flow matrix, Windows rules per
    /// host, check results and warnings.
    ///
    /// Docs: docs/guide.md#report.
    Report(ReportArgs),
    /// Read the rule set a firewall has today and say, flow by flow, what it blocks, what it
    /// allows beyond the plan and which of its rules are dead.
    ///
    /// Inputs: `nft -j list ruleset`, `iptables-save` / `ip6tables-save` (with -c for
    /// counters), the JSON of the Windows export script (--windows-export-script prints it)
    /// or Windows rule strings (v2.x|Action=...|), Azure NSGs, AWS security groups and
    /// network ACLs, Cisco ASA `show running-config` (with `show access-list` for hit
    /// counts; --interface NAMEIF=ZONE), Aerleon policies (with def/ or --definitions
    /// DIR). Exit status 0 when no planned flow is
    /// blocked, 1 when one is (or, with --strict, when a rule allows more than the plan or
    /// a verdict is only possible), 2 for bad input.
    ///
    /// Docs: docs/guide.md#audit-an-existing-rule-set; how to export each platform's rules:
    /// docs/reference/platforms/<target>.md#export-for-audit.
    Audit(AuditArgs),
    /// Find the security mistakes of a deployment (and of what check saw), each with its
    /// source.
    ///
    /// Findings from the deployment and its plan (RDP or SMB from the internet, the whole RPC
    /// range or clear-text LDAP and WinRM across zone boundaries ...) and, with --check, from
    /// check results (NLA, RDP security layer, TLS, certificates, SMB signing, clock skew).
    /// Accept a finding in the deployment file with [[lint.accept]] id, hosts and reason.
    /// Exit status 0 when no finding at --fail-on or above remains, 1 otherwise.
    ///
    /// Docs: docs/guide.md#lint-the-deployment.
    Lint(LintArgs),
    /// Start from the deployment that runs: turn what the RemoteDesktop cmdlets (or the
    /// collector) say into a deployment file, or say how a deployment file has drifted.
    ///
    /// SOURCE: a folder of exports (`Get-RDServer.json`, ... one file per cmdlet, each the
    /// cmdlet's output piped into ConvertTo-Json), such files one by one, `Get-RDServer |
    /// Export-Csv` with the roles -join'ed, or the document of the collector
    /// (`rdsports import --collector` prints it: run it on the active connection broker).
    /// Writes the deployment file (every value with a comment naming its source; what the
    /// sources cannot tell in a comment and a warning). With --compare FILE: the differences
    /// between FILE and the running deployment, exit status 1 when there are some.
    ///
    /// Docs: docs/guide.md#import; on Windows: docs/windows.md.
    Import(ImportArgs),
    /// Check every server at once through Ansible or PowerShell remoting: the inventory, and
    /// the summary of the results the engine brings back.
    ///
    /// Docs: docs/guide.md#fleet.
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// Print shell completions (bash, zsh, fish, powershell, elvish).
    ///
    /// Docs: docs/reference/cli.md.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output.
    ///
    /// Docs: docs/reference/cli.md (the same, as a page).
    Man,
}

/// Output formats of `ports` and `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned columns for a terminal.
    Table,
    /// JSON (schema_version 1).
    Json,
    /// CSV with a header row.
    Csv,
    /// Markdown tables.
    Markdown,
}

/// Arguments of `rdsports ports`.
#[derive(Debug, Args)]
pub struct PortsArgs {
    /// A port number or a catalog id to explain (5504, 3391, S14, D03).
    pub query: Option<String>,
    /// Only entries with this role on either side (gateway, session-host ...).
    #[arg(long, value_parser = roles())]
    pub role: Option<String>,
    /// Only entries whose ports (at their defaults) include this port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Only entries of this service (kerberos, rdp, msrpc ...).
    #[arg(long)]
    pub service: Option<String>,
    /// Only entries that use this protocol.
    #[arg(long, value_parser = ["tcp", "udp"])]
    pub protocol: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

/// Arguments of `rdsports plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// Only flows from or to this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

/// Arguments of `rdsports diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The deployment before the change: a deployment file (TOML) or a saved
    /// `plan --format json`.
    pub old: PathBuf,
    /// The deployment after the change (the same kinds of file).
    pub new: PathBuf,
    /// Only flows from or to this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only the boundary between two zones, as ZONE_A:ZONE_B (both directions).
    #[arg(long, value_name = "ZONE_A:ZONE_B")]
    pub boundary: Option<String>,
    /// Also the firewall rules that change on this platform (windows, windows-netsh,
    /// nftables, iptables, azure-nsg, aws-sg, cisco-asa, aerleon), per output file: the rules
    /// to remove and to add, written as `rules --target` writes them (without the final
    /// drop). Both sides must be deployment files. Shown by table, markdown and json; csv
    /// stays one row per flow action.
    #[arg(long, short = 't', value_parser = targets())]
    pub target: Option<String>,
    /// With --target: also the outbound rules (what each host may open), for host firewalls.
    #[arg(long, requires = "target")]
    pub outbound: bool,
    /// With --target nftables/iptables: a host firewall (input chain per host) instead of the
    /// zone firewall.
    #[arg(long, requires = "target")]
    pub host_variant: bool,
    /// Output format (csv: one row per firewall action, the columns of a change ticket; flows
    /// only, --target's rules are not in it).
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Exit with status 1 when something changed (as `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
    /// The largest plan to build on each side, in flows.
    #[arg(long, value_name = "N", default_value_t = rdsports_core::plan::DEFAULT_MAX_FLOWS)]
    pub max_flows: u64,
}

/// Output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Grouped findings for a terminal (80 columns).
    Table,
    /// JSON (schema_version 1, described in docs/reference/contracts.md).
    Json,
    /// JUnit XML for CI pipelines.
    Junit,
    /// Markdown.
    Markdown,
}

/// Arguments of `rdsports audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// The exported rule set (`-` reads standard input).
    #[arg(
        long,
        short = 'r',
        value_name = "EXPORT",
        required_unless_present = "windows_export_script"
    )]
    pub rules: Option<PathBuf>,
    /// Format of the export: nft-json, iptables-save, windows-json, windows-gpo,
    /// windows-netsh, azure-nsg, aws-sg, aws-nacl, cisco-asa (default: recognised from the
    /// text).
    #[arg(long, value_name = "FORMAT", value_parser = export_formats())]
    pub input_format: Option<String>,
    /// The rule set is this host's own firewall: audit the flows to it and from it.
    #[arg(long, conflicts_with = "boundary")]
    pub host: Option<String>,
    /// The rule set is the firewall between two zones, as ZONE_A:ZONE_B (both directions).
    #[arg(long, value_name = "ZONE_A:ZONE_B")]
    pub boundary: Option<String>,
    /// Windows: the profile whose rules apply (domain, private, public).
    #[arg(long, default_value = "domain", value_parser = ["domain", "private", "public"])]
    pub profile: String,
    /// Cisco ASA: the interface whose nameif is NAMEIF stands for zone ZONE (repeatable). An
    /// interface named like a zone stands for it without this; any other for its address
    /// and routes in the configuration. Aerleon: a from-zone/to-zone name of the policy
    /// stands for zone ZONE.
    #[arg(long, value_name = "NAMEIF=ZONE")]
    pub interface: Vec<String>,
    /// Windows, with a netsh rule listing: the output of `netsh advfirewall show
    /// allprofiles`, for the profile's default actions (without it: Block inbound, Allow
    /// outbound, with a note).
    #[arg(long, value_name = "FILE")]
    pub netsh_profiles: Option<PathBuf>,
    /// Aerleon: the directory of the network and service definitions (its *.yaml files);
    /// default: def/ beside the policies/ directory that holds the policy, as aclgen finds it.
    #[arg(long, value_name = "DIR")]
    pub definitions: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Exit 1 also when a rule allows more than the plan or a verdict is only possible.
    #[arg(long)]
    pub strict: bool,
    /// Print the PowerShell script that exports a Windows host's firewall for audit, and exit.
    #[arg(long)]
    pub windows_export_script: bool,
}

/// Arguments of `rdsports rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// The platform: windows, windows-netsh, nftables, iptables, azure-nsg, aws-sg, cisco-asa,
    /// aerleon.
    #[arg(long, short = 't', value_parser = targets())]
    pub target: String,
    /// Only the rules of this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only the boundary between two zones, as ZONE_A:ZONE_B (both directions).
    #[arg(long, value_name = "ZONE_A:ZONE_B")]
    pub boundary: Option<String>,
    /// Write one file per host or boundary into DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also the outbound rules (what each host may open), for host firewalls.
    #[arg(long)]
    pub outbound: bool,
    /// Accepted for scripts written before enforcing became the default: zone firewalls
    /// (nftables, iptables, cisco-asa, azure-nsg, aerleon) end in a drop without it.
    #[arg(long, conflicts_with = "allow_only")]
    pub default_drop: bool,
    /// Only the allow rules, no final drop (the output restricts nothing on its own): for
    /// merging the rules into your own policy by hand.
    #[arg(long)]
    pub allow_only: bool,
    /// Management access to accept before the drop, which the plan does not contain:
    /// ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]], e.g. 198.51.100.7:22 (repeatable; IPv6 with
    /// a port in brackets: [2001:db8::7]:22).
    #[arg(long, value_name = "SOURCE[:PORT]", value_parser = parse_keep)]
    pub keep: Vec<rdsports_policy::Keep>,
    /// Fit into the firewall already there instead of replacing it: nftables chains in your
    /// table (default inet filter forward/input), iptables user chains for
    /// `iptables-restore --noflush`, a Cisco ASA global access list.
    #[arg(long)]
    pub merge: bool,
    /// nftables merge form: the table and base chain to jump from (implies --merge).
    #[arg(long, num_args = 3, value_names = ["FAMILY", "TABLE", "CHAIN"])]
    pub into: Option<Vec<String>>,
    /// nftables/iptables: a host firewall (input chain per host) instead of the zone firewall.
    #[arg(long)]
    pub host_variant: bool,
    /// One rule per flow: no address or port aggregation.
    #[arg(long)]
    pub no_aggregate: bool,
}

fn parse_keep(s: &str) -> Result<rdsports_policy::Keep, String> {
    s.parse()
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A table grouped by destination.
    Table,
    /// JSON (schema_version 3, described in docs/reference/contracts.md).
    Json,
    /// JUnit XML for CI pipelines.
    Junit,
}

/// Arguments of `rdsports check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// The deployment host this check runs as (default: the host whose address is on this
    /// machine). `--from` is the same.
    #[arg(long = "as", visible_alias = "from", value_name = "HOST")]
    pub from: Option<String>,
    /// Only flows to this host.
    #[arg(long)]
    pub to: Option<String>,
    /// Only flows to hosts with this role.
    #[arg(long, value_parser = roles())]
    pub role: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Write the output to this file (replaced whole, never half-written) instead of
    /// standard output: where a fleet engine fetches it.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Per-probe timeout in milliseconds, pinned: every connection attempt waits this long
    /// (Windows: keep it above 2000, a refused connect takes about 2 s there). Without it,
    /// connect waits adapt to each destination's measured round trips (srtt + 4 x rttvar,
    /// at least 100 ms), up to the full timeout (1500 ms; 3000 ms on Windows), and the
    /// conversation after a connect gets the full timeout.
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// Retries for probes that get no answer.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub retries: u32,
    /// Probes at a time (lowered to what the open-file limit allows).
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub concurrency: usize,
    /// UDP silence (open|filtered) fails the check instead of passing with a warning.
    #[arg(long)]
    pub strict_udp: bool,
    /// Test paths only: any connection counts as open, whatever service answers (for
    /// paths tested before the servers exist; no identification of wrong services).
    #[arg(long)]
    pub paths_only: bool,
    /// Ports of a dynamic RPC range to probe when only rdsports listeners stand there.
    #[arg(long, default_value_t = rdsports_net::check::DEFAULT_RANGE_SAMPLE, value_name = "N")]
    pub range_sample: usize,
    /// Kerberos realm / AD domain for the probes (default: the deployment's `domain`).
    #[arg(long)]
    pub realm: Option<String>,
    /// RADIUS shared secret, so NPS replies can be authenticated.
    #[arg(long, value_name = "SECRET")]
    pub radius_secret: Option<String>,
    /// Ad hoc: probe these addresses (comma-separated) instead of a deployment's flows.
    #[arg(long, value_name = "ADDRESS[,...]", conflicts_with_all = ["from", "to", "role"])]
    pub target: Option<String>,
    /// Ad hoc: the ports, as nmap -p takes them (3389, 1-1024, 88,389,49152-49160); /udp
    /// or /tcp after a port sets its protocol (88,88/udp).
    #[arg(
        long = "ports",
        alias = "port",
        requires = "target",
        value_name = "PORTS"
    )]
    pub port: Option<rdsports_core::PortList>,
    /// Ad hoc: the protocol of the ports that name none: tcp or udp (default tcp).
    #[arg(long, requires = "target", value_parser = ["tcp", "udp"])]
    pub protocol: Option<String>,
    /// Ad hoc: the service to speak (default: guessed from the port).
    #[arg(long, requires = "target")]
    pub service: Option<String>,
}

/// Arguments of `rdsports diagram`.
#[derive(Debug, Args)]
pub struct DiagramArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// svg (drawn by rdsports, no Graphviz needed), dot (Graphviz) or mermaid.
    #[arg(long, short = 'f', value_parser = ["svg", "dot", "mermaid"], default_value = "svg")]
    pub format: String,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Arguments of `rdsports report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// Results of `rdsports check --format json` to include (repeat for several hosts).
    #[arg(long = "check", value_name = "RESULTS.json")]
    pub checks: Vec<PathBuf>,
    /// Every result file of a fleet run in this folder; hosts of the inventory without one
    /// are shown as not run, results of another deployment file are refused (exit 2).
    #[arg(long, value_name = "DIR")]
    pub check_dir: Option<PathBuf>,
    /// Results of `rdsports audit --format json` to include as the firewall audit section
    /// (repeat for several rule sets); a missing flow makes the exit status 1.
    #[arg(long = "audit", value_name = "RESULT.json")]
    pub audits: Vec<PathBuf>,
    /// An older version of the deployment (a deployment file or a saved
    /// `plan --format json`): adds the section "Changes since OLD" and marks the added and
    /// changed flows in the flow matrix and the diagram (docs/guide.md#diff).
    #[arg(long, value_name = "OLD")]
    pub diff: Option<PathBuf>,
    /// Write the report to this file (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The `fleet` subcommands.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Print the inventory of the hosts to run check on: an Ansible inventory (JSON, which
    /// Ansible reads as YAML) or CSV for Import-Csv | Invoke-Command.
    ///
    /// Populations (CIDR hosts such as internet clients) and hosts outside the fleet (the
    /// Clearinghouse) are left out; stderr names them.
    Inventory(FleetInventoryArgs),
    /// Merge the result files of a fleet run: one line per host of the inventory, "not run"
    /// for a host without a result, results of another deployment file refused.
    ///
    /// Exit status 0 when every host reported and nothing is blocked, 1 when a host has a
    /// blocked flow or did not report, 2 when a result was refused or unreadable.
    Summary(FleetSummaryArgs),
}

/// Inventory formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryFormat {
    /// Ansible inventory (YAML-shape JSON).
    Ansible,
    /// CSV: name, address, roles, zone.
    Csv,
}

/// The hosts' operating system, for the engine's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetOs {
    /// Windows Server: PowerShell remoting (ansible_connection psrp).
    Windows,
    /// Linux: SSH.
    Linux,
}

/// Arguments of `rdsports fleet inventory`.
#[derive(Debug, Args)]
pub struct FleetInventoryArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = InventoryFormat::Ansible)]
    pub format: InventoryFormat,
    /// The hosts' operating system (mixed fleets: override ansible_connection in host_vars).
    #[arg(long, value_enum, default_value_t = FleetOs::Windows)]
    pub os: FleetOs,
}

/// Output formats of `fleet summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// One line per host.
    Table,
    /// JSON (schema_version 1).
    Json,
}

/// Arguments of `rdsports fleet summary`.
#[derive(Debug, Args)]
pub struct FleetSummaryArgs {
    /// The folder of result files (`check --format json --output DIR/HOST.json`).
    pub dir: PathBuf,
    #[command(flatten)]
    pub input: DeploymentInput,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
    /// Count UDP silence (open|filtered) as blocked.
    #[arg(long)]
    pub strict_udp: bool,
}

/// Output formats of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Findings grouped by severity.
    Table,
    /// JSON (schema_version 1).
    Json,
    /// SARIF 2.1.0 for code-scanning tools; locations point at the deployment file's lines.
    Sarif,
    /// Markdown tables.
    Markdown,
}

/// The `--fail-on` threshold of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only critical findings fail.
    Critical,
    /// High and critical findings fail (the default).
    High,
    /// Medium and above.
    Medium,
    /// Every finding.
    Low,
    /// Never fail (report only).
    Never,
}

/// Arguments of `rdsports lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// Results of `rdsports check --format json` to lint too (repeat for several hosts).
    #[arg(long = "check", value_name = "RESULTS.json")]
    pub checks: Vec<PathBuf>,
    /// A firewall's exported rule set to lint too, read as `rdsports audit` reads it
    /// (nft -j, iptables-save, the Windows export, Azure NSG, AWS security groups).
    #[arg(long, value_name = "EXPORT")]
    pub rules: Option<PathBuf>,
    /// The export's format (default: recognised from its content); see `rdsports audit`.
    #[arg(long, value_name = "FORMAT", requires = "rules", value_parser = export_formats())]
    pub rules_format: Option<String>,
    /// The host the rule set protects (a host firewall, for example a Windows export).
    #[arg(
        long,
        value_name = "HOST",
        requires = "rules",
        conflicts_with = "rules_boundary"
    )]
    pub rules_host: Option<String>,
    /// The zone boundary the rule set guards (default: every flow between zones).
    #[arg(long, value_name = "ZONE_A:ZONE_B", requires = "rules")]
    pub rules_boundary: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = LintFormat::Table)]
    pub format: LintFormat,
    /// Exit 1 when a finding of this severity or above remains.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Explain one finding (its rationale, fix and sources); without ID, list them all.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    pub explain: Option<String>,
}

/// Arguments of `rdsports import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Exports (files or folders of them) or the collector's document.
    #[arg(value_name = "SOURCE", required_unless_present = "collector")]
    pub sources: Vec<PathBuf>,
    /// Print the collector, a Windows PowerShell 5.1 script to run on the active connection
    /// broker (`powershell.exe -File collect.ps1 > rdsports-collected.json`).
    #[arg(long, conflicts_with_all = ["sources", "compare", "output", "resolve"])]
    pub collector: bool,
    /// Write the deployment file here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "compare")]
    pub output: Option<PathBuf>,
    /// Ask the system resolver for the addresses of hosts the sources name without one.
    #[arg(long)]
    pub resolve: bool,
    /// Compare with this deployment file instead of writing one (exit 1 when they differ).
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Output format of --compare.
    #[arg(long, short = 'f', value_enum, default_value_t = DriftFormat::Table, requires = "compare")]
    pub format: DriftFormat,
}

/// Output formats of `import --compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftFormat {
    /// Aligned columns for a terminal.
    Table,
    /// JSON (schema_version 1).
    Json,
    /// A Markdown table.
    Markdown,
}

/// Output formats of `listen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListenFormat {
    /// What was opened and each contact, as lines.
    Table,
    /// The same lines on stderr, and a JSON summary on stdout at the end.
    Json,
}

/// Arguments of `rdsports listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    #[command(flatten)]
    pub input: DeploymentInput,
    /// The deployment host this machine stands in for: its planned inbound ports are opened.
    #[arg(long = "as", value_name = "HOST")]
    pub host: String,
    /// How long to listen: 30m, 90s, 1h30m.
    #[arg(long = "for", value_name = "DURATION", default_value = "30m",
          value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// These ports instead of the planned ones: 3389,5504,50000-50010,3391/udp (TCP unless
    /// /udp).
    #[arg(long, alias = "port", value_name = "LIST")]
    pub ports: Option<rdsports_core::PortList>,
    /// Ports to open of a dynamic range, both ends included (check probes the same ones).
    #[arg(long, default_value_t = rdsports_net::check::DEFAULT_RANGE_SAMPLE, value_name = "N")]
    pub range_sample: usize,
    /// Bind this address (default: the host's address when it is on this machine, else every
    /// address).
    #[arg(long, value_name = "ADDRESS")]
    pub bind: Option<std::net::IpAddr>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListenFormat::Table)]
    pub format: ListenFormat,
}

/// Arguments of `rdsports demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Stay in this machine's network namespace: loopback addresses and a port offset.
    #[arg(long)]
    pub no_namespace: bool,
    /// Print check's full table for every source host, not only where something failed.
    #[arg(long)]
    pub full: bool,
}

/// The deployment file argument shared by the commands that plan.
#[derive(Debug, Args)]
pub struct DeploymentInput {
    /// Deployment file (TOML); `-` reads standard input. Without it: the built-in example.
    pub file: Option<PathBuf>,
    /// The largest plan to build, in flows (default 4000000, about 250 MB to plan and 400 MB
    /// for rules). A larger plan is refused with exit status 2 and its flow count.
    #[arg(long, value_name = "N", default_value_t = rdsports_core::plan::DEFAULT_MAX_FLOWS)]
    pub max_flows: u64,
}

/// Parses a duration: `30m`, `90s`, `1h30m`, `500ms`, or plain seconds (`45`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration (write 30m, 90s or 1h30m)".into());
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.chars().take_while(char::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration (write 30m, 90s or 1h30m)"))?;
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86_400)),
            _ => {
                return Err(format!(
                    "`{text}`: unknown unit `{unit}` (ms, s, m, h or d)"
                ));
            }
        };
        total = total.saturating_add(part);
        rest = tail;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("99999999999999999999h").is_err());
    }
}

/// A value from a registry (rules targets, roles, rule export formats): `--help` and the
/// shell completions list every one; another value is refused with the nearest name.
#[derive(Clone)]
pub struct OneOf {
    /// What a value is called in the message (`role`, `target`, `export format`).
    kind: &'static str,
    /// Every value, with a few words on it.
    values: Vec<(&'static str, &'static str)>,
}

impl OneOf {
    fn names(&self) -> Vec<&'static str> {
        self.values.iter().map(|(n, _)| *n).collect()
    }
}

/// The `rules` targets, from the generators' registry.
pub fn targets() -> OneOf {
    OneOf {
        kind: "target",
        values: rdsports_policy::targets()
            .into_iter()
            .map(|t| (t.name, t.description))
            .collect(),
    }
}

/// The deployment roles.
pub fn roles() -> OneOf {
    OneOf {
        kind: "role",
        values: rdsports_core::Role::ALL
            .iter()
            .map(|r| (r.name(), ""))
            .collect(),
    }
}

/// The rule export formats the audit readers read.
pub fn export_formats() -> OneOf {
    OneOf {
        kind: "export format",
        values: rdsports_audit::FORMATS.to_vec(),
    }
}

impl clap::builder::TypedValueParser for OneOf {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let text = value.to_string_lossy();
        if let Some((name, _)) = self.values.iter().find(|(n, _)| *n == text) {
            return Ok((*name).to_owned());
        }
        let flag = arg
            .and_then(clap::Arg::get_long)
            .map_or_else(String::new, |long| format!(" for --{long}"));
        let names = self.names();
        let message = match rdsports_core::suggest::nearest(&text, names.iter().copied()) {
            Some(near) => format!(
                "unknown {} \"{text}\"{flag}: did you mean \"{near}\"?\n  (the {}s: {})\n",
                self.kind,
                self.kind,
                names.join(", ")
            ),
            None => format!(
                "unknown {} \"{text}\"{flag}; the {}s: {}\n",
                self.kind,
                self.kind,
                names.join(", ")
            ),
        };
        Err(clap::Error::raw(clap::error::ErrorKind::InvalidValue, message).with_cmd(cmd))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.values.iter().map(|(name, help)| {
            let value = clap::builder::PossibleValue::new(*name);
            if help.is_empty() {
                value
            } else {
                value.help(*help)
            }
        })))
    }
}
