#![no_main]
//! Fuzzes the RD Gateway transport answer and the RD Web Access exchange of
//! `rdsports_wire::rdg`: every split of the input into a first and a second answer.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::{Exchange, Progress, http, rdg};

fuzz_target!(|data: &[u8]| {
    if let Ok(head) = http::parse_response_head(data) {
        let _ = rdg::judge_gateway(&head);
        let _ = rdg::status_line(&head);
    }
    let mut gateway = rdg::GatewayOutData::new("fuzz.example.test", [7; 16]);
    let _ = gateway.on_bytes(data);
    let _ = gateway.on_close(data);
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (first, second) = data.split_at(split);
    let mut web = rdg::RdWebAccess::new("fuzz.example.test");
    let _ = web.start();
    match web.on_bytes(first) {
        Progress::Send(_) => {
            let _ = web.on_bytes(second);
            let _ = web.on_close(second);
        }
        _ => {
            let _ = web.on_close(first);
        }
    }
});
