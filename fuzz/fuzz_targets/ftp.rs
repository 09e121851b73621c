#![no_main]
//! Fuzzes the FTP reply and PASV parsers of `rdsports_wire::ftp`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::ftp;

fuzz_target!(|data: &[u8]| {
    if let Ok((reply, _)) = ftp::parse_reply(data) {
        let _ = ftp::identify(&reply);
    }
    let _ = ftp::parse_pasv(&String::from_utf8_lossy(data));
    let _ = ftp::FtpBanner::new().on_bytes(data);
});
