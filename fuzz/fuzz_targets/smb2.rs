#![no_main]
//! Fuzzes the SMB2 NEGOTIATE response parser of `rdsports_wire::smb2`, including the
//! negotiate contexts and the SPNEGO mechanism scan.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::smb2;

fuzz_target!(|data: &[u8]| {
    if let Ok(reply) = smb2::parse_reply(data) {
        let _ = smb2::identify(&reply);
    }
    let _ = smb2::spnego_mechs(data);
    let _ = smb2::SmbNegotiate::new([0; 16], [0; 32]).on_bytes(data);
});
