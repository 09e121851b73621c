//! True drops and ICMP errors, which need a network of our own: the test re-runs itself
//! inside `unshare -rn` (a new user and network namespace; no real interface is touched)
//! and builds a small network there with addresses in 198.18.0.0/15:
//!
//! * 198.18.0.0/24 on one end of a veth pair whose other end has no address: a SYN or a
//!   datagram to 198.18.0.2 vanishes (a silent drop, no firewall needed);
//! * 198.18.1.0/24 is a `prohibit` route (EACCES, like an ICMP administratively prohibited);
//! * 198.18.2.0/24 is an `unreachable` route (EHOSTUNREACH);
//! * with `nft` installed, loopback ports behind a drop rule and an ICMP admin-prohibited
//!   reject rule.
//!
//! When `unshare` or `ip` is missing or not permitted, the test prints why and skips.

#[cfg(target_os = "linux")]
mod linux {
    use std::net::SocketAddr;
    use std::process::Command;
    use std::time::Duration;

    use rdsports_net::{
        Adaptive, Cancel, Observation, Settings, Target, Verdict, probe, probe_all,
    };
    use tokio::net::TcpListener;

    use crate::common::{hello, settings};

    const CHILD_ENV: &str = "RDSPORTS_NET_TEST_CHILD";

    fn works(program: &str, args: &[&str]) -> Result<(), String> {
        match Command::new(program).args(args).output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "`{program} {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(error) => Err(format!("`{program}` cannot run: {error}")),
        }
    }

    #[test]
    fn drops_and_icmp_errors_in_a_namespace() {
        if let Err(why) = works("unshare", &["-rn", "true"]).and_then(|()| works("ip", &["-V"])) {
            println!("skipped: no private network namespace can be made here: {why}");
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let out = Command::new("unshare")
            .arg("-rn")
            .arg(exe)
            .args(["--ignored", "--exact", "netns::linux::child_in_namespace"])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "netns")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("{stdout}");
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        assert!(
            stdout.contains("1 passed"),
            "the child test did not run:\n{stdout}"
        );
    }

    fn ip(args: &str) {
        let args: Vec<&str> = args.split_whitespace().collect();
        works("ip", &args).unwrap();
    }

    async fn run(target: Target) -> Observation {
        let limit = Duration::from_secs(15);
        tokio::time::timeout(limit, probe(&target, &settings(400)))
            .await
            .expect("finished")
            .unwrap()
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    #[ignore = "run inside `unshare -rn` by drops_and_icmp_errors_in_a_namespace"]
    fn child_in_namespace() {
        assert_eq!(
            std::env::var(CHILD_ENV).as_deref(),
            Ok("netns"),
            "run through the parent"
        );
        ip("link set lo up");
        ip("link add rdsp0 type veth peer name rdsp1");
        ip("link set rdsp0 up");
        ip("link set rdsp1 up");
        ip("addr add 198.18.0.1/24 dev rdsp0");
        ip("neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev rdsp0 nud permanent");
        ip("route add prohibit 198.18.1.0/24");
        ip("route add unreachable 198.18.2.0/24");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let seen = run(Target::tcp(addr("198.18.0.2:445"))).await;
            assert_eq!(seen.verdict, Verdict::Filtered, "{seen:?}");
            assert_eq!(seen.attempts, 2);
            assert!(seen.reason.unwrap().contains("no answer to 2"));

            let seen = run(Target::tcp(addr("198.18.1.2:445"))).await;
            assert_eq!(seen.verdict, Verdict::Filtered, "{seen:?}");
            assert!(seen.reason.unwrap().contains("prohibited"));

            let seen = run(Target::tcp(addr("198.18.2.2:445"))).await;
            assert_eq!(seen.verdict, Verdict::Filtered, "{seen:?}");
            assert!(seen.reason.unwrap().contains("unreachable"));

            let seen = run(Target::udp(addr("198.18.0.2:53")).with_probe(hello())).await;
            assert_eq!(seen.verdict, Verdict::OpenFiltered, "{seen:?}");
            assert_eq!(seen.attempts, 2);

            let seen = run(Target::udp(addr("198.18.1.2:53")).with_probe(hello())).await;
            assert_eq!(seen.verdict, Verdict::Filtered, "{seen:?}");
            assert!(seen.reason.unwrap().contains("prohibited"));

            firewall_rules().await;
        });
    }

    /// A listening port behind an nftables drop rule, and ports behind an ICMP
    /// admin-prohibited reject.
    async fn firewall_rules() {
        if let Err(why) = works("nft", &["--version"]) {
            println!("nftables part skipped: {why}");
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dropped = listener.local_addr().unwrap();
        let seen = run(Target::tcp(dropped)).await;
        assert_eq!(seen.verdict, Verdict::Open, "before the rule: {seen:?}");
        let port = dropped.port();
        let rules = format!(
            "add table ip rdsports_test\n\
             add chain ip rdsports_test input {{ type filter hook input priority 0; }}\n\
             add rule ip rdsports_test input tcp dport {port} drop\n\
             add rule ip rdsports_test input tcp dport 7 reject with icmp type admin-prohibited\n\
             add rule ip rdsports_test input udp dport 7 reject with icmp type admin-prohibited\n"
        );
        let path =
            std::env::temp_dir().join(format!("rdsports-net-test-{}.nft", std::process::id()));
        std::fs::write(&path, rules).unwrap();
        let loaded = works("nft", &["-f", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        if let Err(why) = loaded {
            println!("nftables part skipped: {why}");
            return;
        }
        let seen = run(Target::tcp(dropped)).await;
        assert_eq!(
            seen.verdict,
            Verdict::Filtered,
            "behind the drop rule: {seen:?}"
        );
        assert_eq!(seen.attempts, 2);

        let seen = run(Target::tcp(addr("127.0.0.1:7"))).await;
        assert_eq!(seen.verdict, Verdict::Filtered, "{seen:?}");
        assert!(seen.reason.unwrap().contains("unreachable"));

        let seen = run(Target::udp(addr("127.0.0.1:7")).with_probe(hello())).await;
        assert_eq!(seen.verdict, Verdict::Filtered, "{seen:?}");
        adaptive_waits(dropped).await;
        blind_first_burst(dropped).await;
        retry_gives_its_place_back(dropped).await;
        println!("nftables part ran");
        drop(listener);
    }

    /// A run's first burst: the dropped port's first attempt starts with no estimate at
    /// all, beside twenty answered connects to the same address. It does not wait the
    /// full timeout: it ends once the address's own estimate is confident and allows no
    /// more than was waited, and the two SYNs still needed decide. Pinned to the full
    /// timeout, the reason would say "confirmed at the full 1500 ms".
    async fn blind_first_burst(dropped: SocketAddr) {
        let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut targets: Vec<Target> = (0..20)
            .map(|_| Target::tcp(open.local_addr().unwrap()))
            .collect();
        targets.push(Target::tcp(dropped));
        let seen = run_adaptive(&targets, targets.len(), 8, 1500).await;
        assert_eq!(seen.len(), 21);
        assert!(
            seen[..20].iter().all(|o| o.verdict == Verdict::Open),
            "{seen:?}"
        );
        let last = &seen[20];
        assert_eq!(last.verdict, Verdict::Filtered, "{last:?}");
        assert_eq!(last.attempts, 3, "{last:?}");
        let wait = last.wait.as_ref().unwrap();
        assert_eq!(wait.decided_by, "adaptive", "{last:?}");
        assert!(wait.wait_ms < 1500.0, "{last:?}");
        let reason = last.reason.as_deref().unwrap();
        assert!(reason.contains("adaptive waits, the last"), "{reason}");
    }

    /// With one place, the dropped port's unanswered first attempt gives it back: the
    /// three answered connects queued behind it finish before its second attempt, and
    /// the verdict is still two unanswered SYNs at the full timeout.
    async fn retry_gives_its_place_back(dropped: SocketAddr) {
        let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut targets = vec![Target::tcp(dropped)];
        targets.extend((0..3).map(|_| Target::tcp(open.local_addr().unwrap())));
        let settings = Settings {
            concurrency: 1,
            ..settings(400)
        };
        let mut order = Vec::new();
        let run = tokio::time::timeout(
            Duration::from_secs(15),
            probe_all(targets, &settings, &Cancel::new(), |index, _| {
                order.push(index)
            }),
        )
        .await
        .expect("finished");
        assert_eq!(order, [1, 2, 3, 0]);
        let seen: Vec<Observation> = run.observations.into_iter().flatten().collect();
        assert_eq!(seen.len(), 4);
        assert!(
            seen[1..].iter().all(|o| o.verdict == Verdict::Open),
            "{seen:?}"
        );
        assert_eq!(seen[0].verdict, Verdict::Filtered, "{:?}", seen[0]);
        assert_eq!(seen[0].attempts, 2, "{:?}", seen[0]);
        assert!(
            seen[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("no answer to 2")
        );
    }

    /// Probes `targets` adaptively (100 ms minimum wait) within 15 s; the observations.
    async fn run_adaptive(
        targets: &[Target],
        concurrency: usize,
        confident_samples: u32,
        timeout_ms: u64,
    ) -> Vec<Observation> {
        let settings = Settings {
            concurrency,
            adaptive: Some(Adaptive {
                min_wait: Duration::from_millis(100),
                confident_samples,
            }),
            ..settings(timeout_ms)
        };
        let run = tokio::time::timeout(
            Duration::from_secs(15),
            probe_all(targets.to_vec(), &settings, &Cancel::new(), |_, _| {}),
        )
        .await
        .expect("finished");
        run.observations.into_iter().flatten().collect()
    }

    /// Adaptive waits: ten answered connects give 127.0.0.1 an estimate; the dropped port
    /// is then decided by shortened waits (one attempt more than pinned, the last one
    /// twice as long) once the estimate is confident, and by full waits, as pinned, while
    /// it is not.
    async fn adaptive_waits(dropped: SocketAddr) {
        let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut targets: Vec<Target> = (0..10)
            .map(|_| Target::tcp(open.local_addr().unwrap()))
            .collect();
        targets.push(Target::tcp(dropped));
        for (confident_samples, attempts, decided_by) in [(8, 3, "adaptive"), (1000, 2, "full")] {
            let seen = run_adaptive(&targets, 1, confident_samples, 400).await;
            assert_eq!(seen.len(), 11);
            for o in &seen[..10] {
                assert_eq!(o.verdict, Verdict::Open, "{o:?}");
                assert_eq!(o.wait.as_ref().unwrap().mode, "adaptive");
            }
            // The first connect had no estimate yet: the full timeout.
            assert_eq!(seen[0].wait.as_ref().unwrap().decided_by, "full");
            let last = &seen[10];
            assert_eq!(last.verdict, Verdict::Filtered, "{last:?}");
            assert_eq!(last.attempts, attempts, "{last:?}");
            let wait = last.wait.as_ref().unwrap();
            assert_eq!(wait.decided_by, decided_by, "{last:?}");
            assert!(wait.samples >= 10, "{last:?}");
            if decided_by == "adaptive" {
                assert!(wait.wait_ms < 400.0, "{last:?}");
                assert!(last.reason.as_deref().unwrap().contains("adaptive waits"));
            } else {
                assert_eq!(wait.wait_ms, 400.0, "{last:?}");
                assert!(
                    last.reason
                        .as_deref()
                        .unwrap()
                        .contains("within 400 ms each")
                );
            }
        }
    }
}
