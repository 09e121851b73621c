//! NTP version 4 (RFC 5905) for the probe of UDP 123: a client request and a bounded
//! parser of the server's reply.
//!
//! [`build_request`] writes the 48-byte header of RFC 5905 section 7.3 with leap indicator
//! 0, version 4 and mode 3 (client), every field zero except the transmit timestamp, which
//! the caller supplies as an [`NtpTime`] (this crate reads no clock). A server copies that
//! timestamp into the origin timestamp of its reply (section 8), so the request needs no
//! other nonce: the registry sends the current second with a random fraction.
//!
//! [`parse_packet`] reads the header of any NTP packet of version 1 to 4; [`parse_response`]
//! adds the checks of a client: mode 4 (server) with the origin timestamp echoing ours, or
//! mode 5 (broadcast, whose origin is not an echo). [`identify`] reports the leap
//! indicator, stratum, poll and precision exponents, root delay and dispersion, the
//! reference id (text for stratum 0 and 1, an IPv4 address above: section 7.3), and the
//! reference, receive and transmit timestamps converted to Unix seconds. A Kiss-o'-Death
//! packet (stratum 0 with a four-letter code such as `RATE` or `DENY`, section 7.4) still
//! proves an NTP server: it is reported with its code and a note, and without times.
//!
//! NTP timestamps count seconds since 1900 in 32 bits, so they wrap every 136 years (the
//! first wrap is in February 2036). Timestamps in a reply are placed in the era nearest
//! the request's own time. Extension fields and MACs after the header are ignored; this
//! module does not compute offset or delay (that needs the arrival time, which the
//! transport owns), authenticate (symmetric keys, NTS), or speak the control modes 6 and 7.

use std::net::Ipv4Addr;

use thiserror::Error;

use crate::{Exchange, Identification, Progress, bytes};

/// The NTP port.
pub const PORT: u16 = 123;
/// The length of the NTP header, the whole of a packet without extensions.
pub const HEADER_LEN: usize = 48;
/// The largest reply this probe reads (extension fields and MACs after the header are
/// skipped, but a datagram must fit the receive buffer).
pub const MAX_REPLY_LEN: usize = 2048;
/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const UNIX_OFFSET: i64 = 2_208_988_800;
/// The version this module sends.
pub const VERSION: u8 = 4;
/// Mode 3: client.
pub const MODE_CLIENT: u8 = 3;
/// Mode 4: server.
pub const MODE_SERVER: u8 = 4;
/// Mode 5: broadcast.
pub const MODE_BROADCAST: u8 = 5;

/// Seconds in one NTP era (2^32).
const ERA: i64 = 1 << 32;

/// A 64-bit NTP timestamp: seconds since 1900 (modulo 2^32) and a binary fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct NtpTime {
    /// Seconds since 1900-01-01 00:00 UTC, modulo 2^32.
    pub seconds: u32,
    /// Fraction of a second, in units of 2^-32 s.
    pub fraction: u32,
}

impl NtpTime {
    /// The timestamp from its 64-bit wire value (seconds in the high half).
    pub fn from_bits(bits: u64) -> Self {
        NtpTime {
            seconds: (bits >> 32) as u32,
            fraction: bits as u32,
        }
    }

    /// The 64-bit wire value.
    pub fn to_bits(self) -> u64 {
        (u64::from(self.seconds) << 32) | u64::from(self.fraction)
    }

    /// The timestamp of `unix_seconds` plus `fraction` / 2^32 s (wrapped into its era).
    pub fn from_unix(unix_seconds: i64, fraction: u32) -> Self {
        NtpTime {
            seconds: unix_seconds.wrapping_add(UNIX_OFFSET).rem_euclid(ERA) as u32,
            fraction,
        }
    }

    /// Whether the timestamp is zero (RFC 5905: "unknown or not set").
    pub fn is_zero(self) -> bool {
        self.to_bits() == 0
    }

    /// Unix seconds, with the era chosen by RFC 4330 section 3's rule: a timestamp with the
    /// top bit set is in 1968-2036, one without it in 2036-2104.
    pub fn to_unix(self) -> i64 {
        let era = if self.seconds & 0x8000_0000 != 0 {
            0
        } else {
            1
        };
        i64::from(self.seconds) + era * ERA - UNIX_OFFSET
    }

    /// Unix seconds (the whole part), with the era that puts it nearest `pivot_unix`.
    pub fn unix_near(self, pivot_unix: i64) -> i64 {
        let base = i64::from(self.seconds) - UNIX_OFFSET;
        // Pivots beyond ±2^62 s are clamped: the arithmetic below stays in range.
        let pivot = pivot_unix.clamp(-(1 << 62), 1 << 62);
        let eras = (pivot - base + ERA / 2).div_euclid(ERA);
        base + eras * ERA
    }

    /// Unix seconds with the fraction, in the era nearest `pivot_unix`, rounded to the
    /// microsecond.
    pub fn unix_seconds_near(self, pivot_unix: i64) -> f64 {
        let whole = self.unix_near(pivot_unix) as f64;
        let fraction = f64::from(self.fraction) / 4_294_967_296.0;
        ((whole + fraction) * 1e6).round() / 1e6
    }
}

/// Builds the client request: LI 0, version 4, mode 3, every field zero but `transmit`.
pub fn build_request(transmit: NtpTime) -> [u8; HEADER_LEN] {
    let mut packet = [0u8; HEADER_LEN];
    packet[0] = (VERSION << 3) | MODE_CLIENT;
    packet[40..48].copy_from_slice(&transmit.to_bits().to_be_bytes());
    packet
}

/// Why bytes are not a usable NTP reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NtpError {
    /// Fewer bytes than the 48-byte header.
    #[error("{len} bytes, shorter than the {HEADER_LEN}-byte NTP header")]
    Truncated {
        /// The length received.
        len: usize,
    },
    /// A version this module does not read (0, or above 4).
    #[error("NTP version {0} is not understood")]
    UnsupportedVersion(u8),
    /// A mode other than server (4) or broadcast (5).
    #[error("mode {mode} ({}) is not a server's reply", mode_name(*mode))]
    NotAReply {
        /// The mode found.
        mode: u8,
    },
    /// A server reply whose origin timestamp is not our transmit timestamp: an answer to
    /// another request, late or forged.
    #[error("the origin timestamp {found:#018x} does not echo ours ({expected:#018x})")]
    OriginMismatch {
        /// Our transmit timestamp.
        expected: u64,
        /// The reply's origin timestamp.
        found: u64,
    },
}

/// The header of an NTP packet (RFC 5905 section 7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtpPacket {
    /// Leap indicator: 0 none, 1 last minute has 61 s, 2 has 59 s, 3 clock unsynchronised.
    pub leap: u8,
    /// Version number.
    pub version: u8,
    /// Mode (3 client, 4 server, 5 broadcast ...).
    pub mode: u8,
    /// Stratum: 0 unspecified (or Kiss-o'-Death), 1 primary, 2-15 secondary, 16
    /// unsynchronised.
    pub stratum: u8,
    /// Poll interval, log2 seconds.
    pub poll: i8,
    /// Precision of the server's clock, log2 seconds.
    pub precision: i8,
    /// Root delay, NTP short format (16.16 seconds).
    pub root_delay: u32,
    /// Root dispersion, NTP short format (16.16 seconds).
    pub root_dispersion: u32,
    /// Reference id, as sent.
    pub reference_id: [u8; 4],
    /// When the server's clock was last set.
    pub reference: NtpTime,
    /// The client's transmit timestamp, echoed.
    pub origin: NtpTime,
    /// When the request reached the server.
    pub receive: NtpTime,
    /// When the reply left the server.
    pub transmit: NtpTime,
    /// Bytes after the header (extension fields, MAC), not read.
    pub trailing: usize,
}

impl NtpPacket {
    /// The kiss code of a Kiss-o'-Death packet: stratum 0 and a reference id of one to
    /// four printable ASCII letters, left-justified and zero-filled.
    pub fn kiss_code(&self) -> Option<String> {
        if self.stratum != 0 {
            return None;
        }
        ascii_id(&self.reference_id)
    }

    /// The reference id as text: the code for stratum 0 and the clock's name for stratum 1
    /// (hex when not printable), an IPv4 address above (for an IPv6 upstream it is the
    /// first four bytes of an MD5 digest, which reads as an address all the same).
    pub fn reference_text(&self) -> String {
        match self.stratum {
            0 | 1 => ascii_id(&self.reference_id)
                .unwrap_or_else(|| format!("0x{:08x}", u32::from_be_bytes(self.reference_id))),
            _ => Ipv4Addr::from(self.reference_id).to_string(),
        }
    }
}

fn ascii_id(id: &[u8; 4]) -> Option<String> {
    let len = id.iter().position(|&b| b == 0).unwrap_or(id.len());
    let (text, padding) = id.split_at(len);
    let printable = !text.is_empty()
        && text.iter().all(|b| b.is_ascii_graphic())
        && padding.iter().all(|&b| b == 0);
    printable.then(|| String::from_utf8_lossy(text).into_owned())
}

fn be32(header: &[u8; HEADER_LEN], at: usize) -> u32 {
    bytes::be32(header, at).unwrap_or(0)
}

fn timestamp(header: &[u8; HEADER_LEN], at: usize) -> NtpTime {
    NtpTime {
        seconds: be32(header, at),
        fraction: be32(header, at + 4),
    }
}

/// Reads the header of an NTP packet of version 1 to 4, in any mode.
pub fn parse_packet(bytes: &[u8]) -> Result<NtpPacket, NtpError> {
    let header: &[u8; HEADER_LEN] = bytes
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(NtpError::Truncated { len: bytes.len() })?;
    let first = header[0];
    let version = (first >> 3) & 0x07;
    if !(1..=VERSION).contains(&version) {
        return Err(NtpError::UnsupportedVersion(version));
    }
    Ok(NtpPacket {
        leap: first >> 6,
        version,
        mode: first & 0x07,
        stratum: header[1],
        poll: header[2] as i8,
        precision: header[3] as i8,
        root_delay: be32(header, 4),
        root_dispersion: be32(header, 8),
        reference_id: be32(header, 12).to_be_bytes(),
        reference: timestamp(header, 16),
        origin: timestamp(header, 24),
        receive: timestamp(header, 32),
        transmit: timestamp(header, 40),
        trailing: bytes.len() - HEADER_LEN,
    })
}

/// Reads a reply to the request that carried `sent`: mode 4 with `sent` echoed as the
/// origin timestamp, or a mode 5 broadcast.
pub fn parse_response(bytes: &[u8], sent: NtpTime) -> Result<NtpPacket, NtpError> {
    let packet = parse_packet(bytes)?;
    match packet.mode {
        MODE_SERVER if packet.origin != sent => Err(NtpError::OriginMismatch {
            expected: sent.to_bits(),
            found: packet.origin.to_bits(),
        }),
        MODE_SERVER | MODE_BROADCAST => Ok(packet),
        mode => Err(NtpError::NotAReply { mode }),
    }
}

/// The name of an NTP mode (RFC 5905 figure 10).
pub fn mode_name(mode: u8) -> &'static str {
    match mode {
        0 => "reserved",
        1 => "symmetric active",
        2 => "symmetric passive",
        3 => "client",
        4 => "server",
        5 => "broadcast",
        6 => "control",
        _ => "private",
    }
}

/// What a kiss code means (RFC 5905 figure 16, and `NTSN` of RFC 8915 section 5.7).
pub fn kiss_meaning(code: &str) -> Option<&'static str> {
    Some(match code {
        "ACST" => "the association belongs to a unicast server",
        "AUTH" => "server authentication failed",
        "AUTO" => "the Autokey sequence failed",
        "BCST" => "the association belongs to a broadcast server",
        "CRYP" => "cryptographic authentication or identification failed",
        "DENY" => "the server denies access to this client",
        "DROP" => "the peer was lost in symmetric mode",
        "RSTR" => "the server's local policy denies access to this client",
        "INIT" => "the server has not synchronised its clock for the first time yet",
        "MCST" => "the association belongs to a dynamically discovered server",
        "NKEY" => "no key was found for this client",
        "NTSN" => "the server could not process the NTS cookie (NTS negative acknowledgment)",
        "RATE" => "too many requests: the server asks this client to poll less often",
        "RMOT" => "the association was altered from a remote host",
        "STEP" => "the server's clock stepped and has not resynchronised yet",
        _ => return None,
    })
}

/// NTP short format (16.16 seconds) as milliseconds, rounded to the microsecond.
fn short_ms(value: u32) -> f64 {
    (f64::from(value) / 65_536.0 * 1e6).round() / 1e3
}

/// What the probe reports for a reply. Times are placed in the era nearest `pivot_unix`
/// (the request's own time).
pub fn identify(packet: &NtpPacket, pivot_unix: i64) -> Identification {
    let mut id = Identification::service("ntp")
        .with("version", packet.version)
        .with("mode", mode_name(packet.mode))
        .with("leap_indicator", packet.leap)
        .with("stratum", packet.stratum)
        .with("reference_id", packet.reference_text());
    let mut notes: Vec<String> = Vec::new();
    if packet.mode == MODE_BROADCAST {
        notes.push("a broadcast packet (mode 5), not an answer to our request".into());
    }
    if let Some(code) = packet.kiss_code() {
        let meaning = kiss_meaning(&code).unwrap_or("an unregistered kiss code");
        notes.push(format!(
            "Kiss-o'-Death {code}: {meaning}; the server speaks NTP but gave no time"
        ));
        id = id.with("kiss_code", code);
        id.note = Some(notes.join("; "));
        return id;
    }
    id = id
        .with("poll_log2_s", packet.poll)
        .with("precision_log2_s", packet.precision)
        .with("root_delay_ms", short_ms(packet.root_delay))
        .with("root_dispersion_ms", short_ms(packet.root_dispersion));
    if !packet.reference.is_zero() {
        id = id.with(
            "reference_time_unix",
            packet.reference.unix_near(pivot_unix),
        );
    }
    if !packet.receive.is_zero() {
        id = id.with(
            "receive_time_unix",
            packet.receive.unix_seconds_near(pivot_unix),
        );
    }
    if packet.transmit.is_zero() {
        notes.push("the reply carries no transmit timestamp".into());
    } else {
        id = id
            .with(
                "transmit_time_unix",
                packet.transmit.unix_seconds_near(pivot_unix),
            )
            .with("server_time_unix", packet.transmit.unix_near(pivot_unix));
    }
    if packet.leap == 3 || packet.stratum == 0 || packet.stratum >= 16 {
        notes.push(format!(
            "the server does not claim a synchronised clock (leap indicator {}, stratum {})",
            packet.leap, packet.stratum
        ));
    }
    if !notes.is_empty() {
        id.note = Some(notes.join("; "));
    }
    id
}

/// The NTP probe: one client request, then the server's reply that echoes it.
#[derive(Debug, Clone)]
pub struct NtpQuery {
    transmit: NtpTime,
    pivot_unix: i64,
}

impl NtpQuery {
    /// A request carrying `transmit` ("now", or any value the caller wants echoed). Reply
    /// times are placed in the era nearest `transmit` read by [`NtpTime::to_unix`].
    pub fn new(transmit: NtpTime) -> Self {
        NtpQuery {
            transmit,
            pivot_unix: transmit.to_unix(),
        }
    }

    /// A request sent at `unix_seconds` plus `fraction` / 2^32 s.
    pub fn at_unix(unix_seconds: i64, fraction: u32) -> Self {
        NtpQuery {
            transmit: NtpTime::from_unix(unix_seconds, fraction),
            pivot_unix: unix_seconds,
        }
    }

    /// The transmit timestamp the request carries.
    pub fn transmit(&self) -> NtpTime {
        self.transmit
    }
}

impl Exchange for NtpQuery {
    fn start(&mut self) -> Vec<u8> {
        build_request(self.transmit).to_vec()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_response(received, self.transmit) {
            Ok(packet) => Progress::Done(identify(&packet, self.pivot_unix)),
            // An answer to another request: keep waiting for ours.
            Err(NtpError::OriginMismatch { .. }) => Progress::NeedMore,
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not an NTP reply to our request: {error}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        MAX_REPLY_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testutil::hex;

    /// 2023-11-14 22:13:20 UTC.
    const NOW: i64 = 1_700_000_000;
    /// NOW in NTP seconds: 1_700_000_000 + 2_208_988_800 = 3_908_988_800 = 0xe8fe6f80.
    const NOW_NTP: u32 = 0xe8fe_6f80;

    fn sent() -> NtpTime {
        NtpTime {
            seconds: NOW_NTP,
            fraction: 0x1234_5678,
        }
    }

    /// A stratum-2 server reply (RFC 5905 figure 8), field by field.
    fn server_reply() -> Vec<u8> {
        hex("24 02 06 e9                 \
             00 00 08 00                 \
             00 00 10 00                 \
             c0 00 02 01                 \
             e8 fe 6f 76 80 00 00 00     \
             e8 fe 6f 80 12 34 56 78     \
             e8 fe 6f 82 40 00 00 00     \
             e8 fe 6f 82 80 00 00 00")
        // LI 0, VN 4, mode 4; stratum 2; poll 6; precision -23; root delay 0x0800/65536 s
        // = 31.25 ms; root dispersion 0x1000/65536 s = 62.5 ms; reference id 192.0.2.1;
        // reference time NOW-10 s + 0.5; origin = our transmit; receive NOW+2 s + 0.25;
        // transmit NOW+2 s + 0.5.
    }

    #[test]
    fn request_bytes() {
        let request = NtpQuery::new(sent()).start();
        let mut expected = hex("23 00 00 00");
        expected.resize(40, 0);
        expected.extend_from_slice(&hex("e8 fe 6f 80 12 34 56 78"));
        assert_eq!(request, expected);
        assert_eq!(request.len(), HEADER_LEN);
        // The request reads back as version 4, mode 3.
        let packet = parse_packet(&request).unwrap();
        assert_eq!((packet.version, packet.mode, packet.leap), (4, 3, 0));
        assert_eq!(packet.transmit, sent());
    }

    #[test]
    fn unix_conversions() {
        assert_eq!(
            NtpTime::from_unix(NOW, 7),
            NtpTime {
                seconds: NOW_NTP,
                fraction: 7
            }
        );
        assert_eq!(NtpTime::from_unix(0, 0).seconds, 2_208_988_800);
        assert_eq!(NtpTime::from_unix(NOW, 0).to_unix(), NOW);
        assert_eq!(NtpQuery::at_unix(NOW, 0x1234_5678).transmit(), sent());
        // After the 2036 wrap, seconds restart near zero: era 1.
        let after_wrap = 2_085_978_496 + 100; // 2036-02-07 06:28:16 UTC + 100 s
        let t = NtpTime::from_unix(after_wrap, 0);
        assert_eq!(t.seconds, 100);
        assert_eq!(t.to_unix(), after_wrap);
        assert_eq!(t.unix_near(after_wrap - 1000), after_wrap);
        // A reply timestamp just before the wrap, asked just after it, stays in era 0.
        let before = NtpTime {
            seconds: u32::MAX - 5,
            fraction: 0,
        };
        assert_eq!(before.unix_near(after_wrap), 2_085_978_496 - 6);
        assert_eq!(
            NtpTime {
                seconds: 0,
                fraction: 0x8000_0000
            }
            .unix_seconds_near(-UNIX_OFFSET),
            -UNIX_OFFSET as f64 + 0.5
        );
        assert_eq!(
            NtpTime::from_bits(0x0102_0304_0506_0708).to_bits(),
            0x0102_0304_0506_0708
        );
        // Extreme pivots do not overflow.
        let _ = sent().unix_near(i64::MAX);
        let _ = sent().unix_near(i64::MIN);
    }

    #[test]
    fn server_reply_is_identified() {
        let Progress::Done(id) = NtpQuery::new(sent()).on_bytes(&server_reply()) else {
            panic!("done")
        };
        assert_eq!(id.service, Some("ntp"));
        assert_eq!(id.note, None);
        assert_eq!(id.detail["stratum"], 2);
        assert_eq!(id.detail["version"], 4);
        assert_eq!(id.detail["mode"], "server");
        assert_eq!(id.detail["leap_indicator"], 0);
        assert_eq!(id.detail["poll_log2_s"], 6);
        assert_eq!(id.detail["precision_log2_s"], -23);
        assert_eq!(id.detail["root_delay_ms"], 31.25);
        assert_eq!(id.detail["root_dispersion_ms"], 62.5);
        assert_eq!(id.detail["reference_id"], "192.0.2.1");
        assert_eq!(id.detail["reference_time_unix"], NOW - 10);
        assert_eq!(id.detail["receive_time_unix"], NOW as f64 + 2.25);
        assert_eq!(id.detail["transmit_time_unix"], NOW as f64 + 2.5);
        assert_eq!(id.detail["server_time_unix"], NOW + 2);
    }

    #[test]
    fn stratum_one_names_its_clock() {
        let mut reply = server_reply();
        reply[1] = 1;
        reply[12..16].copy_from_slice(b"GPS\0");
        let packet = parse_response(&reply, sent()).unwrap();
        assert_eq!(packet.reference_text(), "GPS");
        assert_eq!(packet.kiss_code(), None);
        reply[12..16].copy_from_slice(&[0x01, 0x02, 0x00, 0x00]);
        assert_eq!(parse_packet(&reply).unwrap().reference_text(), "0x01020000");
    }

    #[test]
    fn kiss_o_death_still_proves_ntp() {
        for (code, words) in [("RATE", "poll less often"), ("DENY", "denies access")] {
            let mut reply = server_reply();
            reply[1] = 0;
            reply[12..16].copy_from_slice(code.as_bytes());
            let Progress::Done(id) = NtpQuery::new(sent()).on_bytes(&reply) else {
                panic!("done")
            };
            assert_eq!(id.service, Some("ntp"));
            assert_eq!(id.detail["kiss_code"], code);
            assert_eq!(id.detail["reference_id"], code);
            assert_eq!(id.detail["stratum"], 0);
            let note = id.note.unwrap();
            assert!(
                note.contains("Kiss-o'-Death") && note.contains(words),
                "{note}"
            );
            // No time from a KoD: the registry must not compute a clock skew from it.
            assert!(!id.detail.contains_key("server_time_unix"));
        }
        let mut reply = server_reply();
        reply[1] = 0;
        reply[12..16].copy_from_slice(b"XY\0\0");
        let packet = parse_packet(&reply).unwrap();
        assert_eq!(packet.kiss_code().as_deref(), Some("XY"));
        let id = identify(&packet, NOW);
        assert!(id.note.unwrap().contains("unregistered"));
    }

    #[test]
    fn unsynchronised_servers_say_so() {
        // Stratum 0 with a zero reference id is not a kiss: an unsynchronised server.
        let mut reply = server_reply();
        reply[0] = 0xe4; // LI 3, VN 4, mode 4
        reply[1] = 0;
        reply[12..16].copy_from_slice(&[0; 4]);
        let Progress::Done(id) = NtpQuery::new(sent()).on_bytes(&reply) else {
            panic!("done")
        };
        assert_eq!(id.service, Some("ntp"));
        assert!(!id.detail.contains_key("kiss_code"));
        assert_eq!(id.detail["reference_id"], "0x00000000");
        assert_eq!(id.detail["leap_indicator"], 3);
        assert!(
            id.note
                .unwrap()
                .contains("does not claim a synchronised clock")
        );
        // A zero transmit timestamp gives no server time.
        let mut reply = server_reply();
        reply[40..48].copy_from_slice(&[0; 8]);
        let id = identify(&parse_packet(&reply).unwrap(), NOW);
        assert!(!id.detail.contains_key("server_time_unix"));
        assert!(id.note.unwrap().contains("no transmit timestamp"));
    }

    #[test]
    fn wrong_origin_waits_for_ours() {
        let mut reply = server_reply();
        reply[31] ^= 0x01;
        assert!(matches!(
            parse_response(&reply, sent()),
            Err(NtpError::OriginMismatch { .. })
        ));
        let mut query = NtpQuery::new(sent());
        assert_eq!(query.on_bytes(&reply), Progress::NeedMore);
        assert!(
            matches!(query.on_bytes(&server_reply()), Progress::Done(id) if id.service == Some("ntp"))
        );
    }

    #[test]
    fn broadcast_needs_no_echo() {
        let mut reply = server_reply();
        reply[0] = 0x25; // LI 0, VN 4, mode 5
        reply[24..32].copy_from_slice(&[0; 8]);
        let Progress::Done(id) = NtpQuery::new(sent()).on_bytes(&reply) else {
            panic!("done")
        };
        assert_eq!(id.service, Some("ntp"));
        assert_eq!(id.detail["mode"], "broadcast");
        assert!(id.note.unwrap().contains("broadcast"));
    }

    #[test]
    fn other_modes_and_versions_are_not_replies() {
        // Our own request echoed back (a reflector) is mode 3.
        let echo = NtpQuery::new(sent()).start();
        let Progress::Done(id) = NtpQuery::new(sent()).on_bytes(&echo) else {
            panic!("done")
        };
        assert_eq!(id.service, None);
        assert!(id.note.unwrap().contains("mode 3 (client)"));
        for first in [0x04u8, 0x2c, 0x3c] {
            // Version 0, version 5, version 7.
            let mut reply = server_reply();
            reply[0] = first;
            assert!(matches!(
                parse_response(&reply, sent()),
                Err(NtpError::UnsupportedVersion(_))
            ));
        }
        // Version 3 replies are read.
        let mut reply = server_reply();
        reply[0] = 0x1c;
        assert_eq!(parse_response(&reply, sent()).unwrap().version, 3);
        // Trailing bytes (a MAC) are counted and skipped.
        let mut reply = server_reply();
        reply.extend_from_slice(&[0xaa; 20]);
        assert_eq!(parse_response(&reply, sent()).unwrap().trailing, 20);
    }

    #[test]
    fn every_truncation_is_rejected() {
        let reply = server_reply();
        for len in 0..HEADER_LEN {
            assert_eq!(
                parse_response(&reply[..len], sent()),
                Err(NtpError::Truncated { len }),
                "{len}"
            );
            let Progress::Done(id) = NtpQuery::new(sent()).on_bytes(&reply[..len]) else {
                panic!("{len}")
            };
            assert_eq!(id.service, None, "{len}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(packet) = parse_packet(&bytes) {
                let _ = identify(&packet, NOW);
                let _ = identify(&packet, i64::MIN);
                let _ = packet.reference_text();
            }
            let _ = NtpQuery::new(sent()).on_bytes(&bytes);
            // With the origin echoed, header-sized input reaches identify through on_bytes.
            if bytes.len() >= HEADER_LEN {
                let origin = NtpTime::from_bits(u64::from_be_bytes(bytes[24..32].try_into().unwrap()));
                let _ = NtpQuery::new(origin).on_bytes(&bytes);
            }
        }

        #[test]
        fn unix_round_trip(unix in -4_000_000_000i64..8_000_000_000, fraction in any::<u32>(), offset in -1_000_000_000i64..1_000_000_000) {
            let t = NtpTime::from_unix(unix, fraction);
            prop_assert_eq!(t.unix_near(unix + offset), unix);
            prop_assert_eq!(NtpTime::from_bits(t.to_bits()), t);
        }
    }
}
