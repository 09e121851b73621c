//! The plan's JSON document, written fast: a 10,000-host farm plans about 3 million flows, a
//! gigabyte of pretty JSON, and serde_json spends most of its time escaping the same host
//! names, purposes and keys again for every flow.
//!
//! So the text is assembled from pieces that serde_json itself wrote. [`Pieces::new`]
//! serialises the real document ([`PlanDocument`] with its deployment and warnings) holding
//! two [`PlanFlow`]s made of unique marker values, and cuts that text around the markers:
//! what is left (indentation, keys, punctuation, the document's head and tail) is exactly
//! what serde_json writes around any flow's values. Each value is escaped once, by serde_json,
//! per host, catalog entry and zone. The schema's types stay the one definition of the keys
//! and their order; if the cut text does not fit together (a marker collides with the
//! deployment's own text), the caller falls back to serialising every flow.

use std::borrow::Cow;
use std::io::{self, Write};

use rdsports_core::Flow;
use rdsports_core::plan::Plan;
use rdsports_schema::Transport;
use rdsports_schema::plan::{PLAN_SCHEMA_VERSION, PlanDocument, PlanFlow, PortSpan};
use serde::Serialize;

/// A value's place in a flow, in the order of the keys.
const SLOTS: usize = 10;

/// The text between a flow's values, and around the flows.
pub(super) struct Pieces {
    /// The document up to the first flow's first value.
    head: Vec<u8>,
    /// Between value `i` and value `i + 1` of a flow.
    between: [Vec<u8>; SLOTS - 1],
    /// Between two catalog ids of one flow.
    id_separator: Vec<u8>,
    /// From a flow's last value to the next flow's first value.
    next: Vec<u8>,
    /// From the last flow's last value to the end of the document.
    tail: Vec<u8>,
}

/// A marker flow: every value unique, `mark` telling the two flows apart.
fn marker_flow(mark: u32) -> PlanFlow<'static> {
    let s = |i: u32| Cow::Owned(marker(mark, i));
    PlanFlow {
        from: s(0),
        to: s(1),
        protocol: if mark == 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        },
        ports: PortSpan {
            first: 1 + mark as u16,
            last: 9,
        },
        service: s(4),
        purpose: s(5),
        catalog_id: s(6),
        catalog_ids: Cow::Owned(vec![s(7), s(10)]),
        from_zone: s(8),
        to_zone: s(9),
    }
}

/// Text from the private use area, which serde_json writes as it is.
fn marker(mark: u32, i: u32) -> String {
    [
        '\u{E000}',
        char::from_u32(0xE100 + mark * 16 + i).unwrap_or('\u{E0FF}'),
    ]
    .iter()
    .collect()
}

fn json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Where `needle` next occurs in `text` at or after `from`.
fn find(text: &[u8], needle: &[u8], from: usize) -> Option<(usize, usize)> {
    let at = text
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)?;
    Some((from + at, from + at + needle.len()))
}

impl Pieces {
    /// The pieces of `plan`'s document with these warnings; `None` when the text cannot be cut
    /// (then serialise every flow).
    pub(super) fn new(plan: &Plan<'_>, warnings: &[String]) -> Option<Pieces> {
        let flows = [marker_flow(0), marker_flow(1)];
        let doc = PlanDocument {
            schema_version: PLAN_SCHEMA_VERSION,
            deployment: Cow::Borrowed(plan.deployment.name.as_str()),
            flows: &flows[..],
            warnings: Cow::Borrowed(warnings),
        };
        let text = serde_json::to_vec_pretty(&doc).ok()?;
        // Each flow's values as (start, end) in `text`, and the id separator.
        let mut places = [[(0, 0); SLOTS]; 2];
        let mut separators = Vec::new();
        let mut at = 0;
        for (f, flow) in flows.iter().enumerate() {
            let values: [Vec<u8>; SLOTS] = [
                json(&flow.from),
                json(&flow.to),
                json(&flow.protocol),
                json(&flow.ports),
                json(&flow.service),
                json(&flow.purpose),
                json(&flow.catalog_id),
                json(&flow.catalog_ids[0]),
                json(&flow.from_zone),
                json(&flow.to_zone),
            ];
            for (slot, value) in values.iter().enumerate() {
                let (start, mut end) = find(&text, value, at)?;
                if slot == 7 {
                    let (second, second_end) = find(&text, &json(&flow.catalog_ids[1]), end)?;
                    separators.push(text[end..second].to_vec());
                    end = second_end;
                }
                places[f][slot] = (start, end);
                at = end;
            }
        }
        let cut = |f: usize, slot: usize| text[places[f][slot].1..places[f][slot + 1].0].to_vec();
        let between: [Vec<u8>; SLOTS - 1] = std::array::from_fn(|slot| cut(0, slot));
        let same = (0..SLOTS - 1).all(|slot| cut(1, slot) == between[slot])
            && separators.first() == separators.get(1);
        if !same {
            return None;
        }
        Some(Pieces {
            head: text[..places[0][0].0].to_vec(),
            between,
            id_separator: separators.swap_remove(0),
            next: text[places[0][SLOTS - 1].1..places[1][0].0].to_vec(),
            tail: text[places[1][SLOTS - 1].1..].to_vec(),
        })
    }
}

/// Strings escaped once, by serde_json, with their quotes.
struct Escaped {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Escaped {
    fn new<'s>(strings: impl Iterator<Item = &'s str>) -> Escaped {
        let mut e = Escaped {
            bytes: Vec::new(),
            ends: Vec::new(),
        };
        for s in strings {
            e.bytes.extend_from_slice(&json(s));
            e.ends.push(e.bytes.len());
        }
        e
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

/// Writes the document of the flows of `plan` that `keep` selects. `false`: no flow was
/// selected and nothing was written (the pieces only hold a non-empty list).
pub(super) fn write<W: Write + ?Sized>(
    plan: &Plan<'_>,
    keep: &dyn Fn(&Flow) -> bool,
    pieces: &Pieces,
    out: &mut W,
) -> io::Result<bool> {
    let mut flows = plan.flows.iter().filter(|f| keep(f)).peekable();
    if flows.peek().is_none() {
        return Ok(false);
    }
    let d = plan.deployment;
    let entries = &plan.catalog.entries;
    let hosts = Escaped::new(d.hosts.iter().map(|h| h.name.as_str()));
    let zones = Escaped::new(d.zones.iter().map(|z| z.name.as_str()));
    let services = Escaped::new(entries.iter().map(|e| e.service.as_str()));
    let purposes = Escaped::new(entries.iter().map(|e| e.purpose.as_str()));
    let ids = Escaped::new(entries.iter().map(|e| e.id.as_str()));
    let protocols = [json(&Transport::Tcp), json(&Transport::Udp)];
    let zone_of: Vec<usize> = d.hosts.iter().map(|h| h.zone).collect();
    let b = &pieces.between;
    let mut first = true;
    for f in flows {
        out.write_all(if first { &pieces.head } else { &pieces.next })?;
        first = false;
        out.write_all(hosts.get(f.from))?;
        out.write_all(&b[0])?;
        out.write_all(hosts.get(f.to))?;
        out.write_all(&b[1])?;
        out.write_all(match f.protocol {
            rdsports_core::Protocol::Tcp => &protocols[0],
            rdsports_core::Protocol::Udp => &protocols[1],
        })?;
        out.write_all(&b[2])?;
        // Digits and '-' need no escaping: the quoted text is what serde_json writes.
        out.write_all(b"\"")?;
        out.write_all(super::span(f.ports).text(&mut [0; 11]).as_bytes())?;
        out.write_all(b"\"")?;
        out.write_all(&b[3])?;
        out.write_all(services.get(f.entry))?;
        out.write_all(&b[4])?;
        out.write_all(purposes.get(f.entry))?;
        out.write_all(&b[5])?;
        out.write_all(ids.get(f.entry))?;
        out.write_all(&b[6])?;
        out.write_all(ids.get(f.entry))?;
        for &a in &f.also {
            out.write_all(&pieces.id_separator)?;
            out.write_all(ids.get(a))?;
        }
        out.write_all(&b[7])?;
        out.write_all(zones.get(zone_of[f.from]))?;
        out.write_all(&b[8])?;
        out.write_all(zones.get(zone_of[f.to]))?;
    }
    out.write_all(&pieces.tail)?;
    Ok(true)
}
