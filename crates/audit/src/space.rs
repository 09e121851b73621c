//! The packet space a rule matches: five dimensions (source address, destination address,
//! protocol, source port, destination port), each a set of inclusive integer intervals.
//!
//! A [`Cube`] is a product of one set per dimension; a [`Region`] is a union of disjoint
//! cubes. Intersection and difference are exact, so "covered by several earlier rules
//! together" and "allows this much beyond the plan" are computed, never estimated.
//!
//! Addresses are 128-bit: IPv6 as is, IPv4 mapped into `::ffff:0:0/96` (RFC 4291 §2.5.5.2),
//! so one number line holds both families.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Index of the source-address dimension.
pub const SRC: usize = 0;
/// Index of the destination-address dimension.
pub const DST: usize = 1;
/// Index of the protocol dimension (IP protocol numbers 0–255).
pub const PROTO: usize = 2;
/// Index of the source-port dimension.
pub const SPORT: usize = 3;
/// Index of the destination-port dimension.
pub const DPORT: usize = 4;
/// Number of dimensions.
pub const DIMS: usize = 5;

/// Start of the IPv4-mapped block `::ffff:0.0.0.0`.
pub const V4_BASE: u128 = 0xffff_0000_0000;
/// The IPv4 part of the address line.
pub const V4: (u128, u128) = (V4_BASE, V4_BASE + 0xffff_ffff);

/// IP protocol number of TCP.
pub const TCP: u128 = 6;
/// IP protocol number of UDP.
pub const UDP: u128 = 17;

/// The largest value of a dimension.
pub fn max_of(dim: usize) -> u128 {
    match dim {
        SRC | DST => u128::MAX,
        PROTO => 255,
        _ => 65535,
    }
}

/// A set of values of one dimension: sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Set(Vec<(u128, u128)>);

impl Set {
    /// The empty set.
    pub fn empty() -> Set {
        Set(Vec::new())
    }

    /// Every value of `dim`.
    pub fn full(dim: usize) -> Set {
        Set(vec![(0, max_of(dim))])
    }

    /// `[a, b]` (empty when `a > b`).
    pub fn range(a: u128, b: u128) -> Set {
        if a > b {
            Set::empty()
        } else {
            Set(vec![(a, b)])
        }
    }

    /// One value.
    pub fn one(v: u128) -> Set {
        Set(vec![(v, v)])
    }

    /// A set from any intervals (overlapping, unsorted, reversed ones dropped).
    pub fn from_intervals(mut v: Vec<(u128, u128)>) -> Set {
        v.retain(|(a, b)| a <= b);
        v.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Set(out)
    }

    /// The addresses of a network.
    pub fn net(n: IpNet) -> Set {
        let (a, b) = net_bounds(n);
        Set::range(a, b)
    }

    /// The intervals.
    pub fn intervals(&self) -> &[(u128, u128)] {
        &self.0
    }

    /// Whether the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: u128) -> bool {
        let i = self.0.partition_point(|&(_, b)| b < v);
        self.0.get(i).is_some_and(|&(a, _)| a <= v)
    }

    /// How many values the set holds (saturating at `u128::MAX`).
    pub fn len(&self) -> u128 {
        self.0.iter().fold(0u128, |n, &(a, b)| {
            n.saturating_add((b - a).saturating_add(1))
        })
    }

    /// Values in both.
    pub fn intersect(&self, o: &Set) -> Set {
        let (small, large) = if self.0.len() <= o.0.len() {
            (self, o)
        } else {
            (o, self)
        };
        if small.0.len() * 8 < large.0.len() {
            // Each interval of the small set cuts its part out of the large one.
            let mut out = Vec::new();
            for &(a, b) in &small.0 {
                let k = large.0.partition_point(|&(_, e)| e < a);
                for &(s, e) in &large.0[k..] {
                    if s > b {
                        break;
                    }
                    out.push((s.max(a), e.min(b)));
                }
            }
            return Set(out);
        }
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.0.len() && j < o.0.len() {
            let (a1, b1) = self.0[i];
            let (a2, b2) = o.0[j];
            let (a, b) = (a1.max(a2), b1.min(b2));
            if a <= b {
                out.push((a, b));
            }
            if b1 < b2 { i += 1 } else { j += 1 }
        }
        Set(out)
    }

    /// Whether the two sets share a value (no allocation). A small set against a large one
    /// is looked up (binary search), not merged.
    pub fn meets(&self, o: &Set) -> bool {
        let (small, large) = if self.0.len() <= o.0.len() {
            (self, o)
        } else {
            (o, self)
        };
        if small.0.len() * 8 < large.0.len() {
            return small.0.iter().any(|&(a, b)| {
                let k = large.0.partition_point(|&(_, e)| e < a);
                large.0.get(k).is_some_and(|&(s, _)| s <= b)
            });
        }
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < o.0.len() {
            let (a1, b1) = self.0[i];
            let (a2, b2) = o.0[j];
            if a1.max(a2) <= b1.min(b2) {
                return true;
            }
            if b1 < b2 { i += 1 } else { j += 1 }
        }
        false
    }

    /// Values of `self` not in `o`.
    pub fn minus(&self, o: &Set) -> Set {
        let mut out = Vec::new();
        let mut j = 0;
        for &(a, b) in &self.0 {
            let mut start = a;
            let mut done = false;
            j += o.0[j..].partition_point(|&(_, e)| e < start);
            let mut k = j;
            while k < o.0.len() && o.0[k].0 <= b {
                let (oa, ob) = o.0[k];
                if oa > start {
                    out.push((start, oa - 1));
                }
                if ob >= b {
                    done = true;
                    break;
                }
                start = ob + 1;
                k += 1;
            }
            if !done {
                out.push((start, b));
            }
        }
        Set(out)
    }

    /// Values in either.
    pub fn union(&self, o: &Set) -> Set {
        let mut v = self.0.clone();
        v.extend_from_slice(&o.0);
        Set::from_intervals(v)
    }

    /// Whether every value of `self` is in `o` (no allocation): each interval of `self` lies
    /// inside one interval of `o`, as `o`'s intervals neither overlap nor touch.
    pub fn subset_of(&self, o: &Set) -> bool {
        self.0.iter().all(|&(a, b)| {
            let k = o.0.partition_point(|&(_, e)| e < a);
            o.0.get(k).is_some_and(|&(s, e)| s <= a && b <= e)
        })
    }

    /// The complement within `dim`.
    pub fn complement(&self, dim: usize) -> Set {
        Set::full(dim).minus(self)
    }
}

/// The bounds of a network on the 128-bit address line.
pub fn net_bounds(n: IpNet) -> (u128, u128) {
    match n {
        IpNet::V4(n) => (
            V4_BASE + u128::from(u32::from(n.network())),
            V4_BASE + u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// An address on the line, back as an IP address (IPv4 for the mapped block).
pub fn addr_of(v: u128) -> IpAddr {
    if (V4.0..=V4.1).contains(&v) {
        IpAddr::V4(Ipv4Addr::from((v - V4_BASE) as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

/// An address as a number on the line.
pub fn addr_value(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => V4_BASE + u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The fewest CIDR networks that cover exactly `[a, b]` of the address line.
pub fn cidrs(a: u128, b: u128) -> Vec<String> {
    if a == 0 && b == u128::MAX {
        return vec!["any".to_owned()];
    }
    let mut out = Vec::new();
    let mut start = a;
    loop {
        // The largest aligned block starting at `start` that stays within `b`.
        let mut size_bits = if start == 0 {
            128
        } else {
            start.trailing_zeros()
        };
        while size_bits > 0 {
            let last = if size_bits == 128 {
                u128::MAX
            } else {
                start + ((1u128 << size_bits) - 1)
            };
            if last <= b {
                break;
            }
            size_bits -= 1;
        }
        let last = if size_bits == 128 {
            u128::MAX
        } else {
            start + ((1u128 << size_bits) - 1)
        };
        let v4 = (V4.0..=V4.1).contains(&start) && last <= V4.1 && size_bits <= 32;
        if v4 {
            let prefix = 32 - size_bits;
            out.push(format!("{}/{prefix}", addr_of(start)));
        } else {
            out.push(format!("{}/{}", Ipv6Addr::from(start), 128 - size_bits));
        }
        if last >= b {
            break;
        }
        start = last + 1;
    }
    out
}

/// A product of one set per dimension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cube(pub [Set; DIMS]);

impl Cube {
    /// Every packet.
    pub fn full() -> Cube {
        Cube(std::array::from_fn(Set::full))
    }

    /// Whether some dimension is empty (the cube holds nothing).
    pub fn is_empty(&self) -> bool {
        self.0.iter().any(Set::is_empty)
    }

    /// Narrows one dimension (intersection).
    pub fn with(mut self, dim: usize, s: &Set) -> Cube {
        self.0[dim] = self.0[dim].intersect(s);
        self
    }

    /// Packets in both.
    pub fn intersect(&self, o: &Cube) -> Cube {
        Cube(std::array::from_fn(|d| self.0[d].intersect(&o.0[d])))
    }

    /// Whether the cubes share a packet (the small dimensions first: they tell most often).
    pub fn meets(&self, o: &Cube) -> bool {
        [PROTO, DPORT, SPORT, DST, SRC]
            .iter()
            .all(|&d| self.0[d].meets(&o.0[d]))
    }

    /// Whether every packet of `self` is in `o`.
    pub fn subset_of(&self, o: &Cube) -> bool {
        [PROTO, DPORT, SPORT, DST, SRC]
            .iter()
            .all(|&d| self.0[d].subset_of(&o.0[d]))
    }

    /// Packets of `self` not in `o`, as at most five disjoint cubes.
    pub fn minus(&self, o: &Cube) -> Vec<Cube> {
        if !self.meets(o) {
            return vec![self.clone()];
        }
        let mut out = Vec::new();
        let mut inside = self.clone();
        for d in 0..DIMS {
            let outside = inside.0[d].minus(&o.0[d]);
            if !outside.is_empty() {
                // Copy the other dimensions only (this one may be large).
                let mut outside = Some(outside);
                out.push(Cube(std::array::from_fn(|k| {
                    if k == d {
                        outside.take().unwrap_or_default()
                    } else {
                        inside.0[k].clone()
                    }
                })));
            }
            inside.0[d] = inside.0[d].intersect(&o.0[d]);
        }
        out
    }

    /// How many (source, destination, protocol, destination port) tuples the cube holds,
    /// the source port left out (a flow may use any); saturating.
    pub fn size(&self) -> u128 {
        [SRC, DST, PROTO, DPORT]
            .iter()
            .fold(1u128, |n, &d| n.saturating_mul(self.0[d].len()))
    }
}

/// A union of disjoint cubes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Region(pub Vec<Cube>);

impl Region {
    /// Nothing.
    pub fn empty() -> Region {
        Region(Vec::new())
    }

    /// One cube.
    pub fn of(c: Cube) -> Region {
        if c.is_empty() {
            Region::empty()
        } else {
            Region(vec![c])
        }
    }

    /// Whether the region holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The region without `c`.
    pub fn minus_cube(&self, c: &Cube) -> Region {
        let mut out = Vec::with_capacity(self.0.len());
        for p in &self.0 {
            if p.meets(c) {
                out.extend(p.minus(c));
            } else {
                out.push(p.clone());
            }
        }
        Region(out)
    }

    /// The part of the region inside `c`.
    pub fn intersect_cube(&self, c: &Cube) -> Region {
        Region(
            self.0
                .iter()
                .filter(|p| p.meets(c))
                .map(|p| p.intersect(c))
                .filter(|p| !p.is_empty())
                .collect(),
        )
    }

    /// Tuples in the region (see [`Cube::size`]), saturating.
    pub fn size(&self) -> u128 {
        self.0.iter().fold(0u128, |n, c| n.saturating_add(c.size()))
    }
}

/// A port set as text: `22`, `1024-65535`, `80,443`, `any`.
pub fn ports_text(s: &Set) -> String {
    if s.intervals() == [(0, 65535)] || s.intervals() == [(1, 65535)] {
        return "any".to_owned();
    }
    s.intervals()
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A protocol set as text: `tcp`, `udp`, `tcp,udp`, `any`, or numbers.
pub fn protos_text(s: &Set) -> String {
    if s.intervals() == [(0, 255)] {
        return "any".to_owned();
    }
    let mut v = Vec::new();
    for &(a, b) in s.intervals() {
        for p in a..=b.min(a + 16) {
            v.push(match p {
                6 => "tcp".to_owned(),
                17 => "udp".to_owned(),
                1 => "icmp".to_owned(),
                58 => "icmpv6".to_owned(),
                n => n.to_string(),
            });
        }
        if b > a + 16 {
            v.push(format!("..{b}"));
        }
    }
    v.join(",")
}

/// An address set as CIDRs, at most `max` of them (then `+N more`).
pub fn addrs_text(s: &Set, max: usize) -> String {
    if s.intervals() == [(0, u128::MAX)] {
        return "any".to_owned();
    }
    if s.intervals() == [V4] {
        return "0.0.0.0/0".to_owned();
    }
    if s.intervals() == [(0, V4.0 - 1), (V4.1 + 1, u128::MAX)] {
        return "any IPv6".to_owned();
    }
    // A family minus a few networks reads better as "... except ...".
    let v4 = Set::range(V4.0, V4.1);
    for (family, name) in [(v4.clone(), "0.0.0.0/0"), (v4.complement(SRC), "any IPv6")] {
        if s.subset_of(&family) && s.len() > family.len() / 2 {
            let rest = family.minus(s);
            if !rest.is_empty() && rest.intervals().len() <= max {
                return format!("{name} except {}", addrs_text(&rest, max));
            }
        }
    }
    let mut all = Vec::new();
    for &(a, b) in s.intervals() {
        all.extend(cidrs(a, b));
        if all.len() > max {
            break;
        }
    }
    let total: usize = if all.len() > max {
        s.intervals().iter().map(|&(a, b)| cidrs(a, b).len()).sum()
    } else {
        all.len()
    };
    let mut text: Vec<String> = all.into_iter().take(max).collect();
    if total > max {
        text.push(format!("+{} more", total - max));
    }
    text.join(",")
}

/// A count that may have saturated, for people: exact up to 2^128, else "more than".
pub struct Count(pub u128);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == u128::MAX {
            f.write_str(">= 2^128")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let a = Set::from_intervals(vec![(1, 10), (20, 30)]);
        let b = Set::from_intervals(vec![(5, 25)]);
        assert_eq!(a.intersect(&b).intervals(), &[(5, 10), (20, 25)]);
        assert_eq!(a.minus(&b).intervals(), &[(1, 4), (26, 30)]);
        assert_eq!(b.minus(&a).intervals(), &[(11, 19)]);
        assert_eq!(a.union(&b).intervals(), &[(1, 30)]);
        assert_eq!(Set::full(PROTO).minus(&Set::full(PROTO)), Set::empty());
        assert_eq!(
            Set::from_intervals(vec![(3, 4), (5, 6)]).intervals(),
            &[(3, 6)]
        );
        assert!(a.contains(25) && !a.contains(15));
    }

    #[test]
    fn cube_difference_is_exact_and_disjoint() {
        let mut a = Cube::full();
        a.0[DPORT] = Set::range(1, 100);
        let mut b = Cube::full();
        b.0[DPORT] = Set::range(50, 60);
        b.0[PROTO] = Set::one(TCP);
        let pieces = a.minus(&b);
        let total: u128 = pieces
            .iter()
            .map(|c| c.0[PROTO].len() * c.0[DPORT].len())
            .sum();
        assert_eq!(total, 256 * 100 - 11);
        for (i, p) in pieces.iter().enumerate() {
            assert!(!p.meets(&b));
            for q in &pieces[i + 1..] {
                assert!(!p.meets(q));
            }
        }
    }

    use proptest::prelude::*;

    /// A set of values below 64 from up to `n` intervals (merged as any set is).
    fn small_set(n: usize) -> impl Strategy<Value = Set> {
        prop::collection::vec((0u128..64, 0u128..4), 0..n)
            .prop_map(|v| Set::from_intervals(v.into_iter().map(|(a, l)| (a, a + l)).collect()))
    }

    proptest! {
        /// The set operations (merged, or looked up when one side is much smaller) against
        /// the values themselves.
        #[test]
        fn set_operations_equal_brute_force(a in small_set(24), b in small_set(3)) {
            let values = |s: &Set| (0u128..70).filter(|&v| s.contains(v)).collect::<Vec<_>>();
            for (x, y) in [(&a, &b), (&b, &a)] {
                let (vx, vy) = (values(x), values(y));
                let both: Vec<u128> = vx.iter().copied().filter(|v| vy.contains(v)).collect();
                let only: Vec<u128> = vx.iter().copied().filter(|v| !vy.contains(v)).collect();
                prop_assert_eq!(values(&x.intersect(y)), both.clone());
                prop_assert_eq!(x.intersect(y), Set::from_intervals(x.intersect(y).0.clone()));
                prop_assert_eq!(x.meets(y), !both.is_empty());
                prop_assert_eq!(values(&x.minus(y)), only.clone());
                prop_assert_eq!(x.subset_of(y), only.is_empty());
            }
        }
    }

    #[test]
    fn cidr_text() {
        let n: IpNet = "192.0.2.0/24".parse().unwrap();
        let (a, b) = net_bounds(n);
        assert_eq!(cidrs(a, b), vec!["192.0.2.0/24"]);
        assert_eq!(
            cidrs(a + 1, a + 6),
            vec![
                "192.0.2.1/32",
                "192.0.2.2/31",
                "192.0.2.4/31",
                "192.0.2.6/32"
            ]
        );
        assert_eq!(cidrs(V4.0, V4.1), vec!["0.0.0.0/0"]);
        assert_eq!(cidrs(0, u128::MAX), vec!["any"]);
        assert_eq!(cidrs(0, 0), vec!["::/128"]);
    }
}
