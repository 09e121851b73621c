//! Helpers shared by the readers' unit tests.

use crate::eval::{self, Verdict};
use crate::model::{Decision, Hook, Ruleset};
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set};

/// The verdict of the forward hook on one TCP/UDP packet from client port 50000.
pub(crate) fn verdict(rs: &Ruleset, src: &str, dst: &str, proto: u128, dport: u128) -> Verdict {
    let a = |s: &str| Set::one(space::addr_value(s.parse().unwrap()));
    let cube = Cube::full()
        .with(SRC, &a(src))
        .with(DST, &a(dst))
        .with(PROTO, &Set::one(proto))
        .with(SPORT, &Set::one(50000))
        .with(DPORT, &Set::one(dport));
    let pieces = eval::evaluate(rs, Hook::Forward, cube);
    assert_eq!(pieces.len(), 1, "{pieces:?}");
    pieces[0].verdict.clone()
}

/// Whether that packet is accepted (`None`: possible).
pub(crate) fn allowed(
    rs: &Ruleset,
    src: &str,
    dst: &str,
    proto: u128,
    dport: u128,
) -> Option<bool> {
    verdict(rs, src, dst, proto, dport)
        .decision()
        .map(|d| d == Decision::Accept)
}
