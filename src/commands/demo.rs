//! `rdsports demo`: the built-in example deployment brought to life on this machine, in a
//! private network, and checked from every host, with one flow closed on purpose.
//!
//! On Linux the process first moves into an unprivileged user and network namespace of its
//! own ([`rdsports_net::namespace`]): real port numbers, no root, and nothing on the
//! machine's network is touched. Where that is impossible (or with `--no-namespace`) it
//! stays on this machine's loopback with a stated port offset. Each deployment host gets
//! its own loopback address (127.0.0.N; populations 127.0.1.N), never its documentation
//! address. Listeners stand in for every host ([`rdsports_net::listen`], in-process), the
//! license server's RPC endpoint mapper is left closed, and `check` runs from every source
//! host at once. The exit status says whether everything behaved as the demo intends.

use std::time::Instant;

use anyhow::Context as _;
use rdsports_core::Deployment;
use rdsports_core::plan::plan;
use rdsports_net::demo::{self, Layout};
use rdsports_net::namespace::{PrivateNetwork, enter_private_network};
use rdsports_report::demo::{
    CLOSED_HOST, CLOSED_PORT, Contacts, FALLBACK_RPC_RANGE, Network, evaluate, hosts_table, intro,
    lab_addresses, needing_closed, plan_section, results_section, summary_section,
};

use crate::ExitStatus;
use crate::cli::DemoArgs;
use crate::input;

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitStatus> {
    // Before any thread exists: the kernel refuses a user namespace to a threaded process.
    let network = if args.no_namespace {
        Network::Loopback("--no-namespace".into())
    } else {
        match enter_private_network() {
            Ok(PrivateNetwork::Entered) => Network::Private,
            Ok(PrivateNetwork::Unavailable(why)) => Network::Loopback(why),
            Err(broken) => anyhow::bail!("{broken}"),
        }
    };
    let started = Instant::now();
    let mut deployment = Deployment::parse(input::EXAMPLE)
        .map_err(|_| anyhow::anyhow!("the built-in example does not parse (a bug)"))?;
    if network != Network::Private {
        deployment.options.rpc_range = FALLBACK_RPC_RANGE;
    }
    let catalog = input::catalog()?;
    let plan = plan(&catalog, &deployment);
    let d = &deployment;
    let closed_host = d
        .host_index(CLOSED_HOST)
        .context("the built-in example has no license server ls01 (a bug)")?;
    let closed_id = plan
        .flows
        .iter()
        .find(|f| f.to == closed_host && f.ports.start() == CLOSED_PORT && f.ports.len() == 1)
        .map(|f| plan.entry(f).id.clone())
        .context("the built-in example plans no RPC to the license server (a bug)")?;
    let lab = lab_addresses(d);
    let width = input::width();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let layout = Layout {
        addresses: &lab,
        offset: network.offset(),
        closed: (closed_host, CLOSED_PORT),
    };
    // The listeners, with their ports printed before every source host checks at once.
    let listening = {
        let _guard = runtime.enter();
        demo::open(&plan, &layout)
    };
    let mut out = intro(d, &network);
    out.push_str(&hosts_table(d, &lab, &listening.listening, width));
    out.push_str(&plan_section(&plan, closed_host).unwrap_or_default());
    input::print(&out)?;
    let not_listening = listening.not_listening.clone();
    let seen = runtime.block_on(listening.check(&plan, &layout));

    let needed = needing_closed(&plan, closed_host, CLOSED_PORT).len();
    let outcome = evaluate(&seen.documents, needed, &not_listening);
    let addresses: Vec<_> = seen.sources.iter().map(|&s| lab[s]).collect();
    let mut out = results_section(&seen.documents, &addresses, &outcome, width, args.full);
    out.push_str(&summary_section(
        &seen.documents,
        &outcome,
        Contacts {
            handshakes: seen.handshakes,
            others: seen.others,
        },
        &closed_id,
        &network,
        started.elapsed().as_secs_f64(),
    ));
    input::print(&out)?;
    Ok(if outcome.intended() {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}
