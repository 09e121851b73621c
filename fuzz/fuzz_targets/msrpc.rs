#![no_main]
//! Fuzzes the DCE/RPC bind reply, `ept_lookup` response and tower parsers of
//! `rdsports_wire::msrpc`, and the endpoint-mapper walk past an accepted bind.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::msrpc;
use rdsports_wire::{Exchange, Progress};

/// An accepted bind_ack for call id 1 (sec_addr "135", NDR transfer syntax v2).
const BIND_ACK: [u8; 60] = [
    0x05, 0x00, 0x0c, 0x03, 0x10, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0xd0, 0x16, 0xd0, 0x16, 0x34, 0x12, 0x00, 0x00, 0x04, 0x00, 0x31, 0x33, 0x35, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
    0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 0x02, 0x00, 0x00, 0x00,
];

fuzz_target!(|data: &[u8]| {
    let _ = msrpc::parse_bind_reply(data, 1);
    if let Ok(msrpc::CallReply::Lookup(resp)) = msrpc::parse_lookup_reply(data, 2) {
        for entry in resp.entries {
            if let Some(tower) = entry.tower {
                let _ = msrpc::decode_tower(&tower, &entry.annotation);
            }
        }
    }
    if let Ok(resp) = msrpc::parse_lookup_stub(data) {
        let _ = resp.entries.len();
    }
    let _ = msrpc::decode_tower(data, "");

    let mut walk = msrpc::EpmLookup::new();
    walk.start();
    let mut progress = walk.on_bytes(&BIND_ACK);
    // Feed the input as successive replies while the walk asks for more.
    for chunk in data.chunks(512).take(8) {
        match progress {
            Progress::Send(_) | Progress::NeedMore => progress = walk.on_bytes(chunk),
            Progress::Done(_) => break,
        }
    }
});
