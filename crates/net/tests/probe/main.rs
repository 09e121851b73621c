//! Integration tests of the probe engine, against servers on loopback only (127.0.0.1,
//! ::1) and, for true drops and ICMP errors, inside a network namespace the test creates
//! with `unshare -rn` (addresses in 198.18.0.0/15). Verdicts are asserted; times are not,
//! beyond "finished" (speed belongs to the benchmark).

mod cancel;
mod common;
mod engine;
mod fdlimit;
mod hostile;
mod identify;
mod netns;
mod registry;
mod tcp;
mod tls;
mod udp;
