#![no_main]
//! Fuzzes both sides of the rdsports listener handshake (`rdsports_wire::listener`): the
//! request check, the reply parser, and the no-amplification bound of `build_reply`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::listener;

fuzz_target!(|data: &[u8]| {
    let _ = listener::check_request(data);
    if let Some(nonce) = listener::parse_request(data) {
        let host = String::from_utf8_lossy(data.get(22..).unwrap_or(&[]));
        let reply =
            listener::build_reply(nonce, &host, 3389, "127.0.0.1".parse().unwrap(), data.len());
        assert!(reply.len() <= data.len());
    }
    let _ = listener::parse_reply(data);
    let _ = listener::ListenerHandshake::new([7; 16]).on_bytes(data);
});
