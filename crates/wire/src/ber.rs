//! A small BER (ITU-T X.690) TLV reader and writer, shared by the LDAP and Kerberos codecs.
//!
//! The reader takes definite lengths in short form and in long form, including the
//! non-minimal long forms Active Directory sends (`30 84 00 00 00 7d ...`: a SEQUENCE whose
//! length is written in four bytes). It bounds every length by [`MAX_LENGTH`] and every
//! nesting level by [`MAX_DEPTH`], reports input that stops early as [`BerError::Truncated`]
//! (so a stream codec can ask for more bytes), and rejects indefinite lengths (`0x80`), which
//! LDAP (RFC 4511 section 5.1) and Kerberos (DER, RFC 4120 section 5.1) both forbid. It never
//! panics and never allocates more than its input.
//!
//! The writer emits minimal definite lengths (DER style), which every BER reader accepts.
//!
//! This module does not decode OBJECT IDENTIFIER, REAL or constructed string encodings, and
//! does not check that an encoding is canonical DER: it reads what LDAP and Kerberos peers
//! send and writes what our probes need.

use thiserror::Error;

/// The deepest nesting [`Reader::nested`] and [`validate`] accept.
pub const MAX_DEPTH: usize = 32;

/// The largest value length the reader accepts (16 MiB); larger declared lengths are errors.
pub const MAX_LENGTH: usize = 16 * 1024 * 1024;

/// Why BER bytes could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BerError {
    /// The input stops inside a TLV: more bytes are needed.
    #[error("BER input is truncated")]
    Truncated,
    /// An indefinite length (`0x80`), which LDAP and Kerberos forbid.
    #[error("BER indefinite length is not allowed")]
    IndefiniteLength,
    /// The reserved length octet `0xff`.
    #[error("BER length octet 0xff is reserved")]
    ReservedLength,
    /// A length above [`MAX_LENGTH`] or written in more than eight bytes.
    #[error("BER length exceeds {max} bytes")]
    LengthTooLarge {
        /// The limit, [`MAX_LENGTH`].
        max: usize,
    },
    /// A high tag number written in more than four bytes.
    #[error("BER tag number is too large")]
    TagTooLarge,
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("BER nesting deeper than {max} levels")]
    TooDeep {
        /// The limit, [`MAX_DEPTH`].
        max: usize,
    },
    /// A TLV with another tag than the one the structure requires.
    #[error("unexpected BER tag {found:?} (expected {expected:?})")]
    UnexpectedTag {
        /// The tag the structure requires.
        expected: Tag,
        /// The tag found.
        found: Tag,
    },
    /// A required element is missing at the end of a constructed value.
    #[error("BER element {expected:?} is missing")]
    Missing {
        /// The tag the structure requires.
        expected: Tag,
    },
    /// An INTEGER or ENUMERATED that is empty or does not fit in 64 bits.
    #[error("invalid BER integer")]
    InvalidInteger,
    /// A BOOLEAN whose content is not exactly one byte.
    #[error("invalid BER boolean")]
    InvalidBoolean,
}

/// The class bits of a tag (X.690 section 8.1.2.2), in the order of their encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `00`: types defined by X.680 (INTEGER, SEQUENCE ...).
    Universal,
    /// `01`: types defined by the application (LDAP operations, Kerberos messages).
    Application,
    /// `10`: context-specific tags (`[0]`, `[1]` ... inside a structure).
    ContextSpecific,
    /// `11`: private use.
    Private,
}

/// An identifier octet (or octets): class, primitive or constructed form, and tag number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    /// The class.
    pub class: Class,
    /// Whether the content is itself a series of TLVs.
    pub constructed: bool,
    /// The tag number.
    pub number: u32,
}

impl Tag {
    /// BOOLEAN (universal 1).
    pub const BOOLEAN: Tag = Tag::universal(1);
    /// INTEGER (universal 2).
    pub const INTEGER: Tag = Tag::universal(2);
    /// BIT STRING (universal 3).
    pub const BIT_STRING: Tag = Tag::universal(3);
    /// OCTET STRING (universal 4).
    pub const OCTET_STRING: Tag = Tag::universal(4);
    /// ENUMERATED (universal 10).
    pub const ENUMERATED: Tag = Tag::universal(10);
    /// UTF8String (universal 12).
    pub const UTF8_STRING: Tag = Tag::universal(12);
    /// SEQUENCE and SEQUENCE OF (universal 16, constructed).
    pub const SEQUENCE: Tag = Tag::universal_constructed(16);
    /// SET and SET OF (universal 17, constructed).
    pub const SET: Tag = Tag::universal_constructed(17);
    /// GeneralizedTime (universal 24).
    pub const GENERALIZED_TIME: Tag = Tag::universal(24);
    /// GeneralString (universal 27), used for Kerberos realms and names.
    pub const GENERAL_STRING: Tag = Tag::universal(27);

    /// A primitive universal tag.
    pub const fn universal(number: u32) -> Tag {
        Tag {
            class: Class::Universal,
            constructed: false,
            number,
        }
    }

    /// A constructed universal tag.
    pub const fn universal_constructed(number: u32) -> Tag {
        Tag {
            class: Class::Universal,
            constructed: true,
            number,
        }
    }

    /// A primitive application tag (`[APPLICATION n]` on a primitive type).
    pub const fn application(number: u32) -> Tag {
        Tag {
            class: Class::Application,
            constructed: false,
            number,
        }
    }

    /// A constructed application tag (`[APPLICATION n]` on a SEQUENCE, or explicit).
    pub const fn application_constructed(number: u32) -> Tag {
        Tag {
            class: Class::Application,
            constructed: true,
            number,
        }
    }

    /// A primitive context-specific tag (`[n] IMPLICIT` on a primitive type).
    pub const fn context(number: u32) -> Tag {
        Tag {
            class: Class::ContextSpecific,
            constructed: false,
            number,
        }
    }

    /// A constructed context-specific tag (`[n]` explicit, or implicit on a SEQUENCE/SET).
    pub const fn context_constructed(number: u32) -> Tag {
        Tag {
            class: Class::ContextSpecific,
            constructed: true,
            number,
        }
    }
}

/// The identifier and length octets of one TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The tag.
    pub tag: Tag,
    /// How many bytes the identifier and length octets take.
    pub header_len: usize,
    /// The declared content length (at most [`MAX_LENGTH`]).
    pub value_len: usize,
}

impl Header {
    /// Header plus content: the whole TLV's size in bytes.
    pub fn total_len(&self) -> usize {
        // Cannot overflow: header_len is at most 1 + 5 + 9 bytes and value_len <= MAX_LENGTH.
        self.header_len + self.value_len
    }
}

/// One complete TLV borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The content octets.
    pub value: &'a [u8],
}

/// Reads the identifier and length octets at the start of `input`.
///
/// Returns [`BerError::Truncated`] when `input` ends inside the header. The content need
/// not be present: use [`Header::total_len`] to learn how many bytes the whole TLV takes
/// (this is how a stream reader frames an LDAP message).
pub fn read_header(input: &[u8]) -> Result<Header, BerError> {
    let first = *input.first().ok_or(BerError::Truncated)?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::ContextSpecific,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut pos = 1;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        // High-tag-number form: base-128 digits, high bit set on all but the last.
        number = 0;
        loop {
            if pos > 4 {
                return Err(BerError::TagTooLarge);
            }
            let byte = *input.get(pos).ok_or(BerError::Truncated)?;
            pos += 1;
            number = (number << 7) | u32::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                break;
            }
        }
    }
    let length_octet = *input.get(pos).ok_or(BerError::Truncated)?;
    pos += 1;
    let value_len = match length_octet {
        0..=0x7f => usize::from(length_octet),
        0x80 => return Err(BerError::IndefiniteLength),
        0xff => return Err(BerError::ReservedLength),
        _ => {
            let count = usize::from(length_octet & 0x7f);
            if count > 8 {
                return Err(BerError::LengthTooLarge { max: MAX_LENGTH });
            }
            let end = pos + count;
            let bytes = input.get(pos..end).ok_or(BerError::Truncated)?;
            pos = end;
            // At most eight bytes: fits in a u64 without overflow. Leading zero bytes (the
            // non-minimal form Active Directory uses) are accepted.
            let value = bytes
                .iter()
                .fold(0_u64, |acc, &b| (acc << 8) | u64::from(b));
            if value > MAX_LENGTH as u64 {
                return Err(BerError::LengthTooLarge { max: MAX_LENGTH });
            }
            // Bounded by MAX_LENGTH above, so the conversion is lossless.
            value as usize
        }
    };
    Ok(Header {
        tag: Tag {
            class,
            constructed,
            number,
        },
        header_len: pos,
        value_len,
    })
}

/// Reads one complete TLV at the start of `input`; returns it and the bytes after it.
pub fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), BerError> {
    let header = read_header(input)?;
    let value = input
        .get(header.header_len..header.total_len())
        .ok_or(BerError::Truncated)?;
    let rest = input.get(header.total_len()..).ok_or(BerError::Truncated)?;
    Ok((
        Tlv {
            tag: header.tag,
            value,
        },
        rest,
    ))
}

/// Checks that `input` is a series of well-formed TLVs, descending into constructed values
/// at most `max_depth` levels (capped at [`MAX_DEPTH`]). Returns how many TLVs it saw.
pub fn validate(input: &[u8], max_depth: usize) -> Result<usize, BerError> {
    validate_at(input, 0, max_depth.min(MAX_DEPTH))
}

fn validate_at(input: &[u8], depth: usize, max_depth: usize) -> Result<usize, BerError> {
    if depth > max_depth {
        return Err(BerError::TooDeep { max: max_depth });
    }
    let mut count = 0_usize;
    let mut rest = input;
    while !rest.is_empty() {
        let (tlv, after) = read_tlv(rest)?;
        count = count.saturating_add(1);
        if tlv.tag.constructed {
            count = count.saturating_add(validate_at(tlv.value, depth + 1, max_depth)?);
        }
        rest = after;
    }
    Ok(count)
}

/// A cursor over the TLVs inside one constructed value, tracking its nesting depth.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader over top-level TLVs.
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, depth: 0 }
    }

    /// Whether every TLV has been read.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.input
    }

    /// The tag of the next TLV, if there is one and its header is readable.
    pub fn peek_tag(&self) -> Option<Tag> {
        read_header(self.input).ok().map(|header| header.tag)
    }

    /// Reads the next TLV.
    pub fn read(&mut self) -> Result<Tlv<'a>, BerError> {
        let (tlv, rest) = read_tlv(self.input)?;
        self.input = rest;
        Ok(tlv)
    }

    /// Reads the next TLV, which must have tag `expected`; returns its content.
    pub fn read_expected(&mut self, expected: Tag) -> Result<&'a [u8], BerError> {
        if self.input.is_empty() {
            return Err(BerError::Missing { expected });
        }
        let (tlv, rest) = read_tlv(self.input)?;
        if tlv.tag != expected {
            return Err(BerError::UnexpectedTag {
                expected,
                found: tlv.tag,
            });
        }
        self.input = rest;
        Ok(tlv.value)
    }

    /// Reads the next TLV if it has tag `tag` (an OPTIONAL element); otherwise reads nothing.
    pub fn read_optional(&mut self, tag: Tag) -> Result<Option<&'a [u8]>, BerError> {
        if self.input.is_empty() {
            return Ok(None);
        }
        let (tlv, rest) = read_tlv(self.input)?;
        if tlv.tag != tag {
            return Ok(None);
        }
        self.input = rest;
        Ok(Some(tlv.value))
    }

    /// A reader over the TLVs inside `value` (the content of a constructed TLV read from
    /// this reader), one level deeper.
    pub fn nested(&self, value: &'a [u8]) -> Result<Reader<'a>, BerError> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep { max: MAX_DEPTH });
        }
        Ok(Reader {
            input: value,
            depth,
        })
    }

    /// Reads the next TLV, which must be the constructed tag `expected`, and returns a
    /// reader over its content.
    pub fn read_constructed(&mut self, expected: Tag) -> Result<Reader<'a>, BerError> {
        let value = self.read_expected(expected)?;
        self.nested(value)
    }

    /// Reads an explicitly tagged `[n]` element and returns a reader over its content.
    pub fn read_explicit(&mut self, number: u32) -> Result<Reader<'a>, BerError> {
        self.read_constructed(Tag::context_constructed(number))
    }

    /// Reads an OPTIONAL explicitly tagged `[n]` element.
    pub fn read_optional_explicit(&mut self, number: u32) -> Result<Option<Reader<'a>>, BerError> {
        match self.read_optional(Tag::context_constructed(number))? {
            Some(value) => Ok(Some(self.nested(value)?)),
            None => Ok(None),
        }
    }

    /// Reads an INTEGER.
    pub fn read_integer(&mut self) -> Result<i64, BerError> {
        decode_integer(self.read_expected(Tag::INTEGER)?)
    }

    /// Reads an ENUMERATED.
    pub fn read_enumerated(&mut self) -> Result<i64, BerError> {
        decode_integer(self.read_expected(Tag::ENUMERATED)?)
    }

    /// Reads a BOOLEAN.
    pub fn read_boolean(&mut self) -> Result<bool, BerError> {
        decode_boolean(self.read_expected(Tag::BOOLEAN)?)
    }

    /// Reads an OCTET STRING.
    pub fn read_octet_string(&mut self) -> Result<&'a [u8], BerError> {
        self.read_expected(Tag::OCTET_STRING)
    }
}

/// Decodes the content of an INTEGER or ENUMERATED (two's complement, big-endian, 1 to 8
/// bytes, or 9 bytes whose first is a `00` sign pad for values up to `u64::MAX >> 1`).
pub fn decode_integer(value: &[u8]) -> Result<i64, BerError> {
    let (first, _) = value.split_first().ok_or(BerError::InvalidInteger)?;
    let digits = if value.len() == 9 && *first == 0 {
        // A sign pad before eight bytes: only valid when the result stays positive in i64.
        let rest = value.get(1..).ok_or(BerError::InvalidInteger)?;
        if rest.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(BerError::InvalidInteger);
        }
        rest
    } else if value.len() > 8 {
        return Err(BerError::InvalidInteger);
    } else {
        value
    };
    let negative = digits.first().is_some_and(|b| b & 0x80 != 0);
    let start: i64 = if negative { -1 } else { 0 };
    Ok(digits
        .iter()
        .fold(start, |acc, &b| (acc << 8) | i64::from(b)))
}

/// Decodes the content of a BOOLEAN (one byte; zero is false, anything else true).
pub fn decode_boolean(value: &[u8]) -> Result<bool, BerError> {
    match value {
        [byte] => Ok(*byte != 0),
        _ => Err(BerError::InvalidBoolean),
    }
}

/// Parses a GeneralizedTime in UTC (`YYYYMMDDHHMMSS[.fraction]Z`, X.680 section 46, as used
/// by Kerberos and by the LDAP `currentTime` attribute) into Unix seconds, dropping any
/// fraction. Returns `None` for anything else (local times, missing seconds, bad ranges).
pub fn parse_generalized_time(text: &[u8]) -> Option<i64> {
    let digits = text.get(..14)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        digits
            .get(range)?
            .iter()
            .try_fold(0_i64, |acc, &d| Some(acc * 10 + i64::from(d - b'0')))
    };
    let year = number(0..4)?;
    let month = number(4..6)?;
    let day = number(6..8)?;
    let hour = number(8..10)?;
    let minute = number(10..12)?;
    let second = number(12..14)?;
    let mut rest = text.get(14..)?;
    if let Some((sep, fraction)) = rest.split_first()
        && (*sep == b'.' || *sep == b',')
    {
        let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        rest = fraction.get(len..)?;
    }
    if rest != b"Z" {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Appends the identifier octets of `tag`.
pub fn encode_tag(tag: Tag, out: &mut Vec<u8>) {
    let class_bits: u8 = match tag.class {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xc0,
    };
    let form_bit: u8 = if tag.constructed { 0x20 } else { 0 };
    if tag.number < 0x1f {
        // Fits in the low five bits.
        out.push(class_bits | form_bit | tag.number as u8);
        return;
    }
    out.push(class_bits | form_bit | 0x1f);
    let mut groups = [0_u8; 5];
    let mut count = 0;
    let mut number = tag.number;
    loop {
        if let Some(slot) = groups.get_mut(count) {
            *slot = (number & 0x7f) as u8;
        }
        count += 1;
        number >>= 7;
        if number == 0 {
            break;
        }
    }
    for index in (0..count).rev() {
        let group = groups.get(index).copied().unwrap_or(0);
        out.push(if index == 0 { group } else { group | 0x80 });
    }
}

/// Appends a minimal definite length.
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// One TLV with the given tag and content.
pub fn tlv(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    encode_tag(tag, &mut out);
    encode_length(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

/// A constructed TLV whose content is the concatenation of `parts`.
pub fn constructed(tag: Tag, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// A SEQUENCE of `parts`.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    constructed(Tag::SEQUENCE, parts)
}

/// An explicit context tag `[number]` around one encoded element.
pub fn explicit(number: u32, inner: &[u8]) -> Vec<u8> {
    tlv(Tag::context_constructed(number), inner)
}

/// The minimal two's complement content octets of `value`.
pub fn integer_content(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    // Drop a leading byte while it only repeats the sign of the next one.
    while start < 7 {
        let (Some(&byte), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) else {
            break;
        };
        let redundant = (byte == 0x00 && next & 0x80 == 0) || (byte == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes.get(start..).unwrap_or(&[0]).to_vec()
}

/// An INTEGER.
pub fn integer(value: i64) -> Vec<u8> {
    tlv(Tag::INTEGER, &integer_content(value))
}

/// An ENUMERATED.
pub fn enumerated(value: i64) -> Vec<u8> {
    tlv(Tag::ENUMERATED, &integer_content(value))
}

/// A BOOLEAN (DER: `ff` for true, `00` for false).
pub fn boolean(value: bool) -> Vec<u8> {
    tlv(Tag::BOOLEAN, &[if value { 0xff } else { 0x00 }])
}

/// An OCTET STRING.
pub fn octet_string(value: &[u8]) -> Vec<u8> {
    tlv(Tag::OCTET_STRING, value)
}

/// A GeneralString (Kerberos realms and name components are ASCII in practice).
pub fn general_string(value: &str) -> Vec<u8> {
    tlv(Tag::GENERAL_STRING, value.as_bytes())
}

/// A GeneralizedTime from its text form (for example `20370913024805Z`).
pub fn generalized_time(text: &str) -> Vec<u8> {
    tlv(Tag::GENERALIZED_TIME, text.as_bytes())
}

/// A BIT STRING of whole bytes (no unused bits).
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(Tag::BIT_STRING, &content)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    use crate::testutil::hex;

    #[test]
    fn reads_short_form() {
        // INTEGER, length 1, value 5.
        let bytes = hex("02 01 05 ff");
        let (tlv, rest) = read_tlv(&bytes).unwrap();
        assert_eq!(tlv.tag, Tag::INTEGER);
        assert_eq!(tlv.value, &[5]);
        assert_eq!(rest, &[0xff]);
    }

    #[test]
    fn reads_non_minimal_long_form_as_active_directory_sends() {
        // SEQUENCE whose length 4 is written in four bytes (84 00 00 00 04), holding
        // INTEGER 1 also with a non-minimal one-byte long form (81 01).
        let bytes = hex("30 84 00 00 00 04  02 81 01 01");
        let header = read_header(&bytes).unwrap();
        assert_eq!(header.header_len, 6);
        assert_eq!(header.value_len, 4);
        let mut reader = Reader::new(&bytes);
        let mut inner = reader.read_constructed(Tag::SEQUENCE).unwrap();
        assert_eq!(inner.read_integer().unwrap(), 1);
        assert!(inner.is_empty());
        assert!(reader.is_empty());
    }

    #[test]
    fn rejects_indefinite_and_reserved_lengths() {
        assert_eq!(
            read_header(&hex("30 80 00 00")),
            Err(BerError::IndefiniteLength)
        );
        assert_eq!(read_header(&hex("30 ff")), Err(BerError::ReservedLength));
    }

    #[test]
    fn bounds_lengths() {
        // 2^32: above MAX_LENGTH.
        assert_eq!(
            read_header(&hex("04 85 01 00 00 00 00")),
            Err(BerError::LengthTooLarge { max: MAX_LENGTH })
        );
        // Nine length bytes.
        assert_eq!(
            read_header(&hex("04 89 00 00 00 00 00 00 00 00 01")),
            Err(BerError::LengthTooLarge { max: MAX_LENGTH })
        );
        // A declared length the input does not hold yet is a truncation, not an error.
        let header = read_header(&hex("04 82 01 00")).unwrap();
        assert_eq!(header.total_len(), 4 + 256);
        assert_eq!(read_tlv(&hex("04 82 01 00 aa")), Err(BerError::Truncated));
    }

    #[test]
    fn reads_high_tag_numbers() {
        // [APPLICATION 31] primitive: 5f 1f; [CONTEXT 200] constructed: bf 81 48.
        let header = read_header(&hex("5f 1f 00")).unwrap();
        assert_eq!(header.tag, Tag::application(31));
        let header = read_header(&hex("bf 81 48 00")).unwrap();
        assert_eq!(header.tag, Tag::context_constructed(200));
        assert_eq!(
            read_header(&hex("1f ff ff ff ff 01 00")),
            Err(BerError::TagTooLarge)
        );
    }

    #[test]
    fn writes_tags_round_trip() {
        for tag in [
            Tag::INTEGER,
            Tag::SEQUENCE,
            Tag::application_constructed(30),
            Tag::context(31),
            Tag::context_constructed(200),
            Tag::application(0x0fff_ffff),
        ] {
            let bytes = tlv(tag, b"xy");
            let (read, rest) = read_tlv(&bytes).unwrap();
            assert_eq!(read.tag, tag);
            assert_eq!(read.value, b"xy");
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn limits_depth() {
        // 40 nested SEQUENCEs: 30 <len> 30 <len> ... 05 00 (NULL).
        let mut bytes = hex("05 00");
        for _ in 0..40 {
            bytes = sequence(&[&bytes]);
        }
        assert_eq!(
            validate(&bytes, MAX_DEPTH),
            Err(BerError::TooDeep { max: MAX_DEPTH })
        );
        assert_eq!(
            validate(&bytes, 100),
            Err(BerError::TooDeep { max: MAX_DEPTH })
        );
        let mut reader = Reader::new(&bytes);
        let mut result = Ok(());
        for _ in 0..40 {
            match reader.read_constructed(Tag::SEQUENCE) {
                Ok(inner) => reader = inner,
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        assert_eq!(result, Err(BerError::TooDeep { max: MAX_DEPTH }));
        // Ten levels are fine: 10 SEQUENCEs plus the NULL.
        let mut shallow = hex("05 00");
        for _ in 0..10 {
            shallow = sequence(&[&shallow]);
        }
        assert_eq!(validate(&shallow, MAX_DEPTH), Ok(11));
    }

    #[test]
    fn writes_minimal_lengths() {
        let mut out = Vec::new();
        encode_length(0x7f, &mut out);
        encode_length(0x80, &mut out);
        encode_length(0x1234, &mut out);
        assert_eq!(out, hex("7f 81 80 82 12 34"));
    }

    #[test]
    fn writes_integers_minimally() {
        assert_eq!(integer(0), hex("02 01 00"));
        assert_eq!(integer(127), hex("02 01 7f"));
        assert_eq!(integer(128), hex("02 02 00 80"));
        assert_eq!(integer(-1), hex("02 01 ff"));
        assert_eq!(integer(-129), hex("02 02 ff 7f"));
        // A Kerberos nonce above 2^31 needs a sign pad.
        assert_eq!(integer(0xdead_beef), hex("02 05 00 de ad be ef"));
        assert_eq!(enumerated(2), hex("0a 01 02"));
        for value in [
            0,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            0xdead_beef,
            i64::MAX,
            i64::MIN,
        ] {
            let bytes = integer(value);
            assert_eq!(Reader::new(&bytes).read_integer(), Ok(value), "{value}");
        }
    }

    #[test]
    fn decodes_integers() {
        assert_eq!(
            decode_integer(&hex("00 ff ff ff ff ff ff ff ff")),
            Err(BerError::InvalidInteger)
        );
        assert_eq!(
            decode_integer(&hex("00 7f ff ff ff ff ff ff ff")),
            Ok(i64::MAX)
        );
        assert_eq!(
            decode_integer(&hex("01 00 00 00 00 00 00 00 00")),
            Err(BerError::InvalidInteger)
        );
        assert_eq!(decode_integer(&[]), Err(BerError::InvalidInteger));
        // Non-minimal but valid BER.
        assert_eq!(decode_integer(&hex("00 00 05")), Ok(5));
    }

    #[test]
    fn writes_other_primitives() {
        assert_eq!(boolean(false), hex("01 01 00"));
        assert_eq!(boolean(true), hex("01 01 ff"));
        assert_eq!(octet_string(b"ab"), hex("04 02 61 62"));
        assert_eq!(general_string("A"), hex("1b 01 41"));
        assert_eq!(
            bit_string(&[0x40, 0x81, 0x00, 0x10]),
            hex("03 05 00 40 81 00 10")
        );
        assert_eq!(explicit(1, &integer(5)), hex("a1 03 02 01 05"));
        assert_eq!(generalized_time("20370913024805Z"), {
            let mut v = hex("18 0f");
            v.extend_from_slice(b"20370913024805Z");
            v
        });
    }

    #[test]
    fn reader_reports_missing_and_unexpected() {
        let bytes = hex("04 00");
        let mut reader = Reader::new(&bytes);
        assert_eq!(
            reader.read_integer(),
            Err(BerError::UnexpectedTag {
                expected: Tag::INTEGER,
                found: Tag::OCTET_STRING
            })
        );
        assert_eq!(reader.read_optional(Tag::INTEGER), Ok(None));
        assert_eq!(reader.read_octet_string(), Ok(&[][..]));
        assert_eq!(
            reader.read_integer(),
            Err(BerError::Missing {
                expected: Tag::INTEGER
            })
        );
        assert_eq!(
            reader.read_boolean(),
            Err(BerError::Missing {
                expected: Tag::BOOLEAN
            })
        );
        assert_eq!(decode_boolean(&[]), Err(BerError::InvalidBoolean));
    }

    #[test]
    fn parses_generalized_time() {
        assert_eq!(parse_generalized_time(b"19700101000000Z"), Some(0));
        assert_eq!(
            parse_generalized_time(b"20370913024805Z"),
            Some(2_136_422_885)
        );
        // LDAP currentTime from Active Directory carries a fraction.
        assert_eq!(
            parse_generalized_time(b"20240229120000.0Z"),
            Some(1_709_208_000)
        );
        assert_eq!(parse_generalized_time(b"20230229120000Z"), None);
        assert_eq!(parse_generalized_time(b"20240101120000"), None);
        assert_eq!(parse_generalized_time(b"20240101120000.Z"), None);
        assert_eq!(parse_generalized_time(b"20241301120000Z"), None);
        assert_eq!(parse_generalized_time(b"2024010112000Z"), None);
        assert_eq!(parse_generalized_time(b"20240101126000Z"), None);
    }

    #[test]
    fn truncation_at_every_length_is_clean() {
        let bytes = sequence(&[&integer(300), &octet_string(&[7; 200]), &boolean(true)]);
        for len in 0..bytes.len() {
            assert!(
                matches!(read_tlv(&bytes[..len]), Err(BerError::Truncated)),
                "{len}"
            );
        }
        assert_eq!(validate(&bytes, MAX_DEPTH), Ok(4));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = validate(&bytes, MAX_DEPTH);
            let _ = read_tlv(&bytes);
            let _ = decode_integer(&bytes);
            let _ = parse_generalized_time(&bytes);
            let mut reader = Reader::new(&bytes);
            while let Ok(tlv) = reader.read() {
                if tlv.tag.constructed {
                    let _ = reader.nested(tlv.value).map(|mut inner| inner.read());
                }
            }
        }

        #[test]
        fn integers_round_trip(value in any::<i64>()) {
            let bytes = integer(value);
            prop_assert_eq!(Reader::new(&bytes).read_integer(), Ok(value));
        }
    }
}
