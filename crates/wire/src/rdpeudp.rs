//! The RDP UDP transport's connection opening (MS-RDPEUDP 2.2.2 and 3.1.5.1): the client's
//! SYN datagram and the parse of the server's SYN+ACK.
//!
//! What it does: builds the SYN datagram that opens an RDP-UDP connection (RDP on UDP 3389,
//! RD Gateway on UDP 3391) and recognises the SYN+ACK that proves the UDP transport is
//! enabled and reachable. The SYN+ACK tells the server's initial sequence number, its MTUs,
//! its receive window and, with `RDPUDP_FLAG_SYNEX`, the RDP-UDP version it chose.
//!
//! What it does not do: the ACK that would complete the handshake, the TLS/DTLS that follows,
//! or any data transfer. The initial sequence number and correlation id are parameters: this
//! module has no randomness.
//!
//! All multi-byte fields are big-endian (network byte order). The SYN datagram is laid out
//! as follows and zero-padded to 1232 bytes, the largest MTU, as section 3.1.5.1.1 requires:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | `snSourceAck`: -1 (`ff ff ff ff`) in a SYN |
//! | 4 | 2 | `uReceiveWindowSize`: packets the sender can buffer |
//! | 6 | 2 | `uFlags`: `RDPUDP_FLAG_SYN` (plus `CORRELATION_ID`, `SYNEX` when present) |
//! | 8 | 4 | `snInitialSequenceNumber` |
//! | 12 | 2 | `uUpStreamMtu` (1132 to 1232) |
//! | 14 | 2 | `uDownStreamMtu` (1132 to 1232) |
//! | 16 | 32 | `RDPUDP_CORRELATION_ID_PAYLOAD` (16-byte id, 16 zero bytes), only with its flag |
//! | .. | 4 | `RDPUDP_SYNDATAEX_PAYLOAD` (`uSynExFlags`, `uUdpVer`), only with its flag |

use crate::bytes::{be16, be32};
use crate::{Exchange, Identification, Progress};
use serde_json::Value;

/// `RDPUDP_FLAG_SYN`.
pub const FLAG_SYN: u16 = 0x0001;
/// `RDPUDP_FLAG_FIN`.
pub const FLAG_FIN: u16 = 0x0002;
/// `RDPUDP_FLAG_ACK`.
pub const FLAG_ACK: u16 = 0x0004;
/// `RDPUDP_FLAG_DATA`.
pub const FLAG_DATA: u16 = 0x0008;
/// `RDPUDP_FLAG_FEC`.
pub const FLAG_FEC: u16 = 0x0010;
/// `RDPUDP_FLAG_CN`.
pub const FLAG_CN: u16 = 0x0020;
/// `RDPUDP_FLAG_CWR`.
pub const FLAG_CWR: u16 = 0x0040;
/// `RDPUDP_FLAG_SACK_OPTION` (not used by the protocol).
pub const FLAG_SACK_OPTION: u16 = 0x0080;
/// `RDPUDP_FLAG_ACK_OF_ACKS`.
pub const FLAG_ACK_OF_ACKS: u16 = 0x0100;
/// `RDPUDP_FLAG_SYNLOSSY`.
pub const FLAG_SYNLOSSY: u16 = 0x0200;
/// `RDPUDP_FLAG_ACKDELAYED`.
pub const FLAG_ACKDELAYED: u16 = 0x0400;
/// `RDPUDP_FLAG_CORRELATION_ID`.
pub const FLAG_CORRELATION_ID: u16 = 0x0800;
/// `RDPUDP_FLAG_SYNEX`.
pub const FLAG_SYNEX: u16 = 0x1000;

/// `RDPUDP_VERSION_INFO_VALID` in `uSynExFlags`.
pub const SYNEX_VERSION_INFO_VALID: u16 = 0x0001;
/// `RDPUDP_PROTOCOL_VERSION_1`.
pub const PROTOCOL_VERSION_1: u16 = 0x0001;
/// `RDPUDP_PROTOCOL_VERSION_2`.
pub const PROTOCOL_VERSION_2: u16 = 0x0002;
/// `RDPUDP_PROTOCOL_VERSION_3` (MS-RDPEUDP2 data transfer).
pub const PROTOCOL_VERSION_3: u16 = 0x0101;

/// The smallest MTU the specification allows.
pub const MIN_MTU: u16 = 1132;
/// The largest MTU the specification allows, and the size of a SYN datagram.
pub const MAX_MTU: u16 = 1232;
/// The receive window this probe advertises, in packets.
pub const DEFAULT_RECEIVE_WINDOW: u16 = 64;

const FEC_HEADER_LEN: usize = 8;
const SYNDATA_LEN: usize = 8;
const CORRELATION_LEN: usize = 32;
const SYNEX_LEN: usize = 4;
const COOKIE_HASH_LEN: usize = 32;

const FLAG_NAMES: [(u16, &str); 13] = [
    (FLAG_SYN, "syn"),
    (FLAG_FIN, "fin"),
    (FLAG_ACK, "ack"),
    (FLAG_DATA, "data"),
    (FLAG_FEC, "fec"),
    (FLAG_CN, "cn"),
    (FLAG_CWR, "cwr"),
    (FLAG_SACK_OPTION, "sack_option"),
    (FLAG_ACK_OF_ACKS, "ack_of_acks"),
    (FLAG_SYNLOSSY, "synlossy"),
    (FLAG_ACKDELAYED, "ackdelayed"),
    (FLAG_CORRELATION_ID, "correlation_id"),
    (FLAG_SYNEX, "synex"),
];

/// Why a datagram is not a SYN+ACK.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The datagram ends before a structure its flags announce.
    #[error("datagram too short: {0}")]
    Truncated(&'static str),
    /// The datagram is not an RDP-UDP SYN+ACK.
    #[error("{0}")]
    Invalid(String),
}

/// The parameters of the client's SYN datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynParams {
    /// `snInitialSequenceNumber` (the specification wants it random: the caller picks it).
    pub initial_sequence_number: u32,
    /// `uReceiveWindowSize`, in packets.
    pub receive_window: u16,
    /// `uUpStreamMtu` and `uDownStreamMtu` (clamped to 1132..=1232 when built).
    pub mtu: u16,
    /// The 16-byte `uCorrelationId`, sent with `RDPUDP_FLAG_CORRELATION_ID` when present.
    pub correlation_id: Option<[u8; 16]>,
    /// The `uUdpVer` to offer in `RDPUDP_SYNDATAEX_PAYLOAD` with `RDPUDP_FLAG_SYNEX`, when
    /// present. Version 3 also needs a cookie hash this probe does not have, so it is sent as
    /// version 2.
    pub synex_version: Option<u16>,
}

impl SynParams {
    /// The probe's defaults: a window of 64 packets, MTUs of 1232, no correlation id and no
    /// `SYNEX` payload.
    pub fn new(initial_sequence_number: u32) -> Self {
        SynParams {
            initial_sequence_number,
            receive_window: DEFAULT_RECEIVE_WINDOW,
            mtu: MAX_MTU,
            correlation_id: None,
            synex_version: None,
        }
    }
}

/// `RDPUDP_SYNDATAEX_PAYLOAD` as the server sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynEx {
    /// `uSynExFlags`.
    pub flags: u16,
    /// `uUdpVer`.
    pub version: u16,
}

/// A parsed SYN+ACK datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynAck {
    /// `snSourceAck`: the client's initial sequence number being acknowledged.
    pub source_ack: u32,
    /// `uReceiveWindowSize` of the server.
    pub receive_window: u16,
    /// `uFlags`.
    pub flags: u16,
    /// The server's `snInitialSequenceNumber`.
    pub initial_sequence_number: u32,
    /// `uUpStreamMtu`.
    pub upstream_mtu: u16,
    /// `uDownStreamMtu`.
    pub downstream_mtu: u16,
    /// `uCorrelationId`, when `RDPUDP_FLAG_CORRELATION_ID` is set.
    pub correlation_id: Option<[u8; 16]>,
    /// The extended SYN data, when `RDPUDP_FLAG_SYNEX` is set.
    pub synex: Option<SynEx>,
}

/// Builds the SYN datagram described in the module docs, zero-padded to 1232 bytes.
pub fn build_syn(params: &SynParams) -> Vec<u8> {
    let mut flags = FLAG_SYN;
    if params.correlation_id.is_some() {
        flags |= FLAG_CORRELATION_ID;
    }
    if params.synex_version.is_some() {
        flags |= FLAG_SYNEX;
    }
    let mtu = params.mtu.clamp(MIN_MTU, MAX_MTU);
    let mut out = Vec::with_capacity(usize::from(MAX_MTU));
    out.extend_from_slice(&u32::MAX.to_be_bytes()); // snSourceAck = -1
    out.extend_from_slice(&params.receive_window.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&params.initial_sequence_number.to_be_bytes());
    out.extend_from_slice(&mtu.to_be_bytes());
    out.extend_from_slice(&mtu.to_be_bytes());
    if let Some(id) = params.correlation_id {
        out.extend_from_slice(&id);
        out.extend_from_slice(&[0u8; 16]);
    }
    if let Some(version) = params.synex_version {
        // Version 3 needs a cookieHash (the SHA-256 of a TCP-side security cookie).
        let version = if version == PROTOCOL_VERSION_3 {
            PROTOCOL_VERSION_2
        } else {
            version
        };
        out.extend_from_slice(&SYNEX_VERSION_INFO_VALID.to_be_bytes());
        out.extend_from_slice(&version.to_be_bytes());
    }
    out.resize(usize::from(MAX_MTU), 0);
    out
}

/// Parses a datagram as an RDP-UDP SYN+ACK (`RDPUDP_FLAG_SYN` and `RDPUDP_FLAG_ACK` set,
/// MTUs within the specification's range). Padding after the payloads is ignored.
pub fn parse_syn_ack(datagram: &[u8]) -> Result<SynAck, Error> {
    let (Some(source_ack), Some(receive_window), Some(flags)) =
        (be32(datagram, 0), be16(datagram, 4), be16(datagram, 6))
    else {
        return Err(Error::Truncated("RDPUDP_FEC_HEADER"));
    };
    if flags & (FLAG_SYN | FLAG_ACK) != FLAG_SYN | FLAG_ACK {
        return Err(Error::Invalid(format!(
            "flags {flags:#06x} lack SYN and ACK"
        )));
    }
    let (Some(isn), Some(up), Some(down)) = (
        be32(datagram, FEC_HEADER_LEN),
        be16(datagram, FEC_HEADER_LEN + 4),
        be16(datagram, FEC_HEADER_LEN + 6),
    ) else {
        return Err(Error::Truncated("RDPUDP_SYNDATA_PAYLOAD"));
    };
    for mtu in [up, down] {
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return Err(Error::Invalid(format!("MTU {mtu} outside 1132..=1232")));
        }
    }
    let mut at = FEC_HEADER_LEN + SYNDATA_LEN;
    let mut correlation_id = None;
    if flags & FLAG_CORRELATION_ID != 0 {
        // uCorrelationId (16 bytes) then uReserved (16 bytes).
        let id = datagram
            .get(at..at + CORRELATION_LEN)
            .and_then(|payload| payload.get(..16))
            .and_then(|id| <[u8; 16]>::try_from(id).ok());
        let Some(id) = id else {
            return Err(Error::Truncated("RDPUDP_CORRELATION_ID_PAYLOAD"));
        };
        correlation_id = Some(id);
        at += CORRELATION_LEN;
    }
    let mut synex = None;
    if flags & FLAG_SYNEX != 0 {
        let (Some(ex_flags), Some(version)) = (be16(datagram, at), be16(datagram, at + 2)) else {
            return Err(Error::Truncated("RDPUDP_SYNDATAEX_PAYLOAD"));
        };
        if version == PROTOCOL_VERSION_3
            && ex_flags & SYNEX_VERSION_INFO_VALID != 0
            && datagram
                .get(at + SYNEX_LEN..at + SYNEX_LEN + COOKIE_HASH_LEN)
                .is_none()
        {
            // A server never sends the cookie hash, but a SYN-shaped datagram might.
            return Err(Error::Truncated("cookieHash"));
        }
        synex = Some(SynEx {
            flags: ex_flags,
            version,
        });
    }
    Ok(SynAck {
        source_ack,
        receive_window,
        flags,
        initial_sequence_number: isn,
        upstream_mtu: up,
        downstream_mtu: down,
        correlation_id,
        synex,
    })
}

/// The names of the `uFlags` bits set in `flags`, in bit order; unknown bits as `0x....`.
pub fn flag_names(flags: u16) -> Vec<String> {
    let mut names = Vec::new();
    let mut known = 0u16;
    for (bit, name) in FLAG_NAMES {
        known |= bit;
        if flags & bit != 0 {
            names.push(name.to_owned());
        }
    }
    if flags & !known != 0 {
        names.push(format!("{:#06x}", flags & !known));
    }
    names
}

/// The name of a `uUdpVer` value.
pub fn version_name(version: u16) -> String {
    match version {
        PROTOCOL_VERSION_1 => "1".to_owned(),
        PROTOCOL_VERSION_2 => "2".to_owned(),
        PROTOCOL_VERSION_3 => "3".to_owned(),
        other => format!("{other:#06x}"),
    }
}

/// What the probe reports for a SYN+ACK answering a SYN with `our_isn`.
pub fn identify(syn_ack: &SynAck, our_isn: u32) -> Identification {
    let flags: Vec<Value> = flag_names(syn_ack.flags)
        .into_iter()
        .map(Value::from)
        .collect();
    let ack_ok = syn_ack.source_ack == our_isn;
    // Without SYNEX in both SYN and SYN+ACK, both ends use version 1.
    let version = syn_ack.synex.map_or(PROTOCOL_VERSION_1, |ex| ex.version);
    let mut id = Identification::service("rdp")
        .with("transport", "udp")
        .with("flags", flags)
        .with(
            "server_initial_sequence_number",
            syn_ack.initial_sequence_number,
        )
        .with("upstream_mtu", syn_ack.upstream_mtu)
        .with("downstream_mtu", syn_ack.downstream_mtu)
        .with("receive_window", syn_ack.receive_window)
        .with("udp_version", version_name(version))
        .with("ack_ok", ack_ok);
    if let Some(cid) = syn_ack.correlation_id {
        let hex: String = cid.iter().map(|b| format!("{b:02x}")).collect();
        id = id.with("correlation_id", hex);
    }
    if !ack_ok {
        id.note = Some(format!(
            "SYN+ACK acknowledges sequence number {}, not ours ({our_isn})",
            syn_ack.source_ack
        ));
    }
    id
}

/// The RDP-UDP SYN probe: one SYN datagram, one SYN+ACK expected.
#[derive(Debug, Clone)]
pub struct RdpUdpSyn {
    params: SynParams,
}

impl RdpUdpSyn {
    /// A probe with [`SynParams::new`] defaults and the caller's initial sequence number.
    pub fn new(initial_sequence_number: u32) -> Self {
        RdpUdpSyn {
            params: SynParams::new(initial_sequence_number),
        }
    }

    /// A probe with explicit parameters.
    pub fn with_params(params: SynParams) -> Self {
        RdpUdpSyn { params }
    }
}

impl Exchange for RdpUdpSyn {
    fn start(&mut self) -> Vec<u8> {
        build_syn(&self.params)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        // One datagram per call: a short one is not a prefix of anything.
        match parse_syn_ack(received) {
            Ok(syn_ack) => Progress::Done(identify(&syn_ack, self.params.initial_sequence_number)),
            Err(e) => Progress::Done(Identification::unrecognised(format!(
                "not an RDP-UDP SYN+ACK: {e}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        // A SYN+ACK is padded to at most the largest MTU; allow a full UDP payload.
        64 * 1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testutil::hex;

    #[test]
    fn syn_bytes() {
        let syn = RdpUdpSyn::new(0x1234_5678).start();
        assert_eq!(syn.len(), 1232);
        let head = hex("ff ff ff ff \
             00 40 \
             00 01 \
             12 34 56 78 \
             04 d0 \
             04 d0");
        // snSourceAck -1, window 64, flags SYN; ISN, up/down MTU 1232 (0x04d0).
        assert_eq!(&syn[..16], &head[..]);
        assert!(syn[16..].iter().all(|&b| b == 0), "zero padding");
    }

    #[test]
    fn syn_with_correlation_and_synex() {
        let mut params = SynParams::new(7);
        params.correlation_id = Some([0x11; 16]);
        params.synex_version = Some(PROTOCOL_VERSION_3);
        params.mtu = 9000;
        let syn = build_syn(&params);
        assert_eq!(syn.len(), 1232);
        // flags: SYNEX | CORRELATION_ID | SYN = 0x1801; MTU clamped to 1232.
        assert_eq!(
            &syn[..16],
            &hex("ff ff ff ff 00 40 18 01 00 00 00 07 04 d0 04 d0")[..]
        );
        assert_eq!(&syn[16..32], &[0x11; 16]);
        assert_eq!(&syn[32..48], &[0; 16]);
        // uSynExFlags VERSION_INFO_VALID, uUdpVer 2 (3 would need a cookie hash).
        assert_eq!(&syn[48..52], &hex("00 01 00 02")[..]);
    }

    /// A SYN+ACK acknowledging ISN 0x12345678, server ISN 0xcafef00d, window 64, MTUs 1232,
    /// padded like a SYN.
    fn syn_ack_bytes() -> Vec<u8> {
        let mut d = hex("12 34 56 78 00 40 00 05 ca fe f0 0d 04 d0 04 d0");
        d.resize(1232, 0);
        d
    }

    #[test]
    fn parse_plain_syn_ack() {
        let d = syn_ack_bytes();
        let s = parse_syn_ack(&d).unwrap();
        assert_eq!(s.source_ack, 0x1234_5678);
        assert_eq!(s.flags, FLAG_SYN | FLAG_ACK);
        assert_eq!(s.initial_sequence_number, 0xcafe_f00d);
        assert_eq!((s.upstream_mtu, s.downstream_mtu), (1232, 1232));
        assert_eq!(s.synex, None);
        let Progress::Done(id) = RdpUdpSyn::new(0x1234_5678).on_bytes(&d) else {
            panic!()
        };
        assert_eq!(id.service, Some("rdp"));
        assert_eq!(id.detail["transport"], "udp");
        assert_eq!(id.detail["flags"], serde_json::json!(["syn", "ack"]));
        assert_eq!(id.detail["udp_version"], "1");
        assert_eq!(id.detail["ack_ok"], true);
        assert_eq!(id.note, None);
    }

    #[test]
    fn parse_syn_ack_with_synex_and_correlation() {
        // flags SYNEX|CORRELATION_ID|ACK|SYN = 0x1805; MTUs 1200 (0x04b0) and 1132 (0x046c).
        let mut d = hex("00 00 00 07 00 20 18 05 00 00 00 01 04 b0 04 6c");
        d.extend_from_slice(&[0xab; 16]);
        d.extend_from_slice(&[0; 16]);
        d.extend_from_slice(&hex("00 01 00 02"));
        let s = parse_syn_ack(&d).unwrap();
        assert_eq!(s.correlation_id, Some([0xab; 16]));
        assert_eq!(
            s.synex,
            Some(SynEx {
                flags: 1,
                version: 2
            })
        );
        let Progress::Done(id) = RdpUdpSyn::new(7).on_bytes(&d) else {
            panic!()
        };
        assert_eq!(id.detail["udp_version"], "2");
        assert_eq!(id.detail["correlation_id"], "ab".repeat(16));
        assert_eq!(id.detail["upstream_mtu"], 1200);
        assert_eq!(id.detail["downstream_mtu"], 1132);
        assert_eq!(
            id.detail["flags"],
            serde_json::json!(["syn", "ack", "correlation_id", "synex"])
        );
    }

    #[test]
    fn wrong_ack_is_still_rdp_with_note() {
        let Progress::Done(id) = RdpUdpSyn::new(1).on_bytes(&syn_ack_bytes()) else {
            panic!()
        };
        assert_eq!(id.service, Some("rdp"));
        assert_eq!(id.detail["ack_ok"], false);
        assert!(id.note.unwrap().contains("not ours"));
    }

    #[test]
    fn not_rdpeudp() {
        // Our own SYN echoed back (no ACK flag).
        let echo = RdpUdpSyn::new(5).start();
        let Progress::Done(id) = RdpUdpSyn::new(5).on_bytes(&echo) else {
            panic!()
        };
        assert_eq!(id.service, None);
        // A DNS-looking reply.
        let dns = hex("ab cd 81 80 00 01 00 00 00 00 00 00");
        assert!(parse_syn_ack(&dns).is_err());
        // SYN|ACK with an MTU of 0.
        let bad = hex("12 34 56 78 00 40 00 05 ca fe f0 0d 00 00 04 d0");
        assert!(matches!(parse_syn_ack(&bad), Err(Error::Invalid(_))));
        // SYNEX announced but missing.
        let short = hex("12 34 56 78 00 40 10 05 ca fe f0 0d 04 d0 04 d0");
        assert_eq!(
            parse_syn_ack(&short),
            Err(Error::Truncated("RDPUDP_SYNDATAEX_PAYLOAD"))
        );
    }

    #[test]
    fn every_truncation_is_clean() {
        let d = syn_ack_bytes();
        for n in 0..16 {
            let Progress::Done(id) = RdpUdpSyn::new(0x1234_5678).on_bytes(&d[..n]) else {
                panic!()
            };
            assert_eq!(id.service, None, "prefix {n}");
        }
        for n in 16..d.len() {
            assert!(parse_syn_ack(&d[..n]).is_ok());
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
            let _ = parse_syn_ack(&bytes);
            let _ = RdpUdpSyn::new(0).on_bytes(&bytes);
        }

        #[test]
        fn flagged_datagrams_never_panic(flags in any::<u16>(), tail in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut d = vec![0, 0, 0, 0, 0, 64];
            d.extend_from_slice(&(flags | FLAG_SYN | FLAG_ACK).to_be_bytes());
            d.extend_from_slice(&[0, 0, 0, 1, 4, 0xd0, 4, 0xd0]);
            d.extend_from_slice(&tail);
            let _ = parse_syn_ack(&d);
        }
    }
}
