//! More probes than descriptors: the engine lowers its concurrency to the budget and rides
//! out "too many open files" without a verdict ever saying so. Runs in a child process
//! whose limit is lowered to 128 (the limit is process-wide, so not in this one).

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::process::Command;
    use std::time::Duration;

    use rdsports_net::{Cancel, Settings, Target, Verdict, probe_all};
    use tokio::net::TcpListener;

    const CHILD_ENV: &str = "RDSPORTS_NET_TEST_CHILD";
    const LIMIT: libc::rlim_t = 128;

    #[test]
    fn more_probes_than_descriptors_all_finish() {
        let exe = std::env::current_exe().unwrap();
        let out = Command::new(exe)
            .args([
                "--ignored",
                "--exact",
                "fdlimit::unix::child_with_few_descriptors",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "fdlimit")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        assert!(
            stdout.contains("1 passed"),
            "the child test did not run:\n{stdout}"
        );
    }

    #[test]
    #[ignore = "run in a child process by more_probes_than_descriptors_all_finish"]
    fn child_with_few_descriptors() {
        assert_eq!(
            std::env::var(CHILD_ENV).as_deref(),
            Ok("fdlimit"),
            "run through the parent"
        );
        let limit = libc::rlimit {
            rlim_cur: LIMIT,
            rlim_max: LIMIT,
        };
        // SAFETY: setrlimit reads one valid rlimit; this child process runs only this test.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let open = listener.local_addr().unwrap();
            tokio::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => drop(stream),
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                }
            });
            let refused = TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap()
                .local_addr()
                .unwrap();
            let mut targets = Vec::new();
            for i in 0..600 {
                targets.push(Target::tcp(if i % 2 == 0 { open } else { refused }));
            }
            let settings = Settings {
                timeout: Duration::from_secs(5),
                retries: 1,
                concurrency: 100_000,
                adaptive: None,
            };
            // From the first result on, a thread takes every descriptor that becomes free
            // for 300 ms, so probes starting then meet EMFILE and must wait.
            let mut hog: Option<std::thread::JoinHandle<usize>> = None;
            let on_result = |_: usize, _: &rdsports_net::Observation| {
                if hog.is_none() {
                    hog = Some(std::thread::spawn(|| {
                        let mut files = Vec::new();
                        let until = std::time::Instant::now() + Duration::from_millis(300);
                        while std::time::Instant::now() < until {
                            while let Ok(file) = File::open("/dev/null") {
                                files.push(file);
                            }
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        files.len()
                    }));
                }
            };
            let run = tokio::time::timeout(
                Duration::from_secs(60),
                probe_all(targets, &settings, &Cancel::new(), on_result),
            )
            .await
            .expect("the run finished");
            let hog_taken = hog.expect("a result came").join().unwrap();
            println!(
                "budget {:?}, concurrency {} (lowest {}), waits {}, descriptors hogged {hog_taken}",
                run.fd_budget, run.concurrency, run.lowest_concurrency, run.resource_waits
            );
            assert!(hog_taken > 0, "the hog found no free descriptor to take");
            assert!(
                run.resource_waits > 0,
                "no probe met EMFILE; the test proves nothing"
            );
            assert_eq!(run.fd_budget.soft, Some(u64::from(LIMIT as u32)));
            assert!(run.concurrency < LIMIT as usize);
            assert!(run.not_probed.is_empty(), "{:?}", run.not_probed);
            for (i, seen) in run.observations.iter().enumerate() {
                let seen = seen.as_ref().unwrap();
                let expected = if i % 2 == 0 {
                    Verdict::Open
                } else {
                    Verdict::Refused
                };
                assert_eq!(seen.verdict, expected, "target {i}: {seen:?}");
            }
        });
    }
}
