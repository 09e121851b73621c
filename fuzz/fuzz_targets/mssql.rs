#![no_main]
//! Fuzzes the TDS PRELOGIN response and SQL Server Browser parsers of `rdsports_wire::mssql`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::mssql;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = mssql::parse_prelogin_response(data) {
        let _ = mssql::identify_prelogin(&p);
    }
    let _ = mssql::parse_prelogin_payload(data);
    if let Ok(instances) = mssql::parse_browser_response(data) {
        let _ = mssql::identify_browser(&instances);
    }
    let _ = mssql::MssqlPrelogin::new(0).on_bytes(data);
    let _ = mssql::SqlBrowser::new().on_bytes(data);
});
