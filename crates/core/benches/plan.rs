//! Benchmark: parse and plan generated deployments of growing size (up to 10,000 hosts).
//!
//! `cargo bench -p rdsports-core --bench plan` prints, per size, the hosts, the flows, the
//! parse and plan times (best of several runs) and the process's peak resident memory.
//! Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking range); nothing is probed.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rdsports_core::plan::plan;
use rdsports_core::{Catalog, Deployment};

/// A deployment with `session_hosts` session hosts, and brokers, gateways and DCs in
/// proportion: 1 gateway per 250 session hosts, 1 broker per 300, 1 DC per 2,000 (at least
/// 2 of each), plus web access, licensing, NPS, CRL, SQL and clients.
fn deployment(session_hosts: usize) -> String {
    let gateways = (session_hosts / 250).max(2);
    let brokers = (session_hosts / 300).max(2);
    let dcs = (session_hosts / 2000).max(2);
    let mut s = String::from(
        "name = \"bench\"\n[options]\nbroker_ha = true\ncrl = [\"http\", \"ldap\"]\n\n\
         [[zone]]\nname = \"internet\"\nnetworks = [\"0.0.0.0/0\"]\n\
         [[zone]]\nname = \"perimeter\"\nnetworks = [\"198.18.0.0/24\"]\n\
         [[zone]]\nname = \"servers\"\nnetworks = [\"198.18.1.0/24\"]\n\
         [[zone]]\nname = \"farm\"\nnetworks = [\"198.18.128.0/17\", \"198.19.0.0/16\"]\n\n\
         [[host]]\nname = \"clients\"\naddress = \"0.0.0.0/0\"\nroles = [\"client\"]\n\
         [[host]]\nname = \"clearinghouse\"\naddress = \"0.0.0.0/0\"\nroles = [\"clearinghouse\"]\n",
    );
    let mut host = |name: String, addr: String, roles: &str| {
        let _ = write!(s, "[[host]]\nname = \"{name}\"\naddress = \"{addr}\"\nroles = [{roles}]\n");
    };
    for i in 0..gateways {
        host(format!("gw{i}"), format!("198.18.0.{}", 10 + i), "\"gateway\", \"web-access\"");
    }
    for i in 0..brokers {
        host(format!("cb{i}"), format!("198.18.1.{}", 10 + i), "\"connection-broker\"");
    }
    for i in 0..dcs {
        host(format!("dc{i}"), format!("198.18.1.{}", 100 + i), "\"domain-controller\", \"dns\"");
    }
    host("ls1".into(), "198.18.1.200".into(), "\"licensing\"");
    host("nps1".into(), "198.18.1.201".into(), "\"nps\"");
    host("pki1".into(), "198.18.1.202".into(), "\"crl\"");
    host("sql1".into(), "198.18.1.203".into(), "\"sql\"");
    for i in 0..session_hosts {
        let n = 128 * 256 + i; // 198.18.128.0 onwards, then into 198.19.0.0/16
        let (b, c, d) = (18 + n / 65536, (n / 256) % 256, n % 256);
        host(format!("sh{i}"), format!("198.{b}.{c}.{d}"), "\"session-host\"");
    }
    s
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.unwrap_or_else(f))
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    println!("{:>8} {:>8} {:>10} {:>10} {:>10}", "sh", "hosts", "flows", "parse ms", "plan ms");
    for sh in [100, 1_000, 4_000, 9_950] {
        let text = deployment(sh);
        let (parse, d) = best(3, || Deployment::parse(&text).unwrap_or_else(|e| panic!("{e:?}")));
        let (planned, flows) = best(3, || plan(&catalog, &d).flows.len());
        println!(
            "{:>8} {:>8} {:>10} {:>10.1} {:>10.1}",
            sh,
            d.hosts.len(),
            flows,
            parse.as_secs_f64() * 1e3,
            planned.as_secs_f64() * 1e3
        );
    }
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS of the whole run: {mb:.0} MB");
    }
}
