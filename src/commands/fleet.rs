//! `rdsports fleet`: the inventory for Ansible or PowerShell remoting, and the summary of the
//! result files a fleet run brings back.

use rdsports_report::fleet::{self, Os};
use rdsports_schema::check::UdpSilence;

use crate::ExitStatus;
use crate::cli::{
    FleetCommand, FleetInventoryArgs, FleetOs, FleetSummaryArgs, InventoryFormat, SummaryFormat,
};
use crate::input;

pub fn run(command: &FleetCommand) -> anyhow::Result<ExitStatus> {
    match command {
        FleetCommand::Inventory(args) => inventory(args),
        FleetCommand::Summary(args) => summary(args),
    }
}

fn inventory(args: &FleetInventoryArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let (_, out) = fleet::fleet_hosts(&deployment);
    for (i, why) in &out {
        eprintln!("left out: {} ({why})", deployment.hosts[*i].name);
    }
    let text = match args.format {
        InventoryFormat::Ansible => fleet::ansible_inventory(
            &deployment,
            match args.os {
                FleetOs::Windows => Os::Windows,
                FleetOs::Linux => Os::Linux,
            },
            &input::results::digest(&loaded.text),
        ),
        InventoryFormat::Csv => fleet::csv_inventory(&deployment),
    };
    input::print(&text)?;
    Ok(ExitStatus::Ok)
}

fn summary(args: &FleetSummaryArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let udp = if args.strict_udp {
        UdpSilence::Fail
    } else {
        UdpSilence::Warn
    };
    let facts = input::results::facts_of_dir(&args.dir, udp)?;
    let s = fleet::summarize_facts(&deployment, &input::results::digest(&loaded.text), &facts);
    let text = match args.format {
        SummaryFormat::Table => fleet::summary_table(&s, input::width()),
        SummaryFormat::Json => fleet::summary_json(&s),
    };
    input::print(&text)?;
    for line in fleet::refused_lines(&s) {
        eprintln!("error: {line}");
    }
    Ok(if s.refused() {
        ExitStatus::BadInput
    } else if s.all_ok() {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}
