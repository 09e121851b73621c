//! Checked reads of fixed-width integers from the bytes a peer sent.
//!
//! Every read is bounds-checked: it returns `None` when the bytes are not all there, when
//! the offset is past the end, or when offset plus width would overflow. Nothing here panics,
//! whatever arrived. The free functions read at an offset from the start of a slice (header
//! fields); [`Reader`] reads one field after the other (length-prefixed lists, NDR).

/// The `N` bytes at `at`.
fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The little-endian `u16` at `at`.
pub(crate) fn le16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_le_bytes)
}

/// The little-endian `u32` at `at`.
pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_le_bytes)
}

/// The little-endian `u64` at `at`.
pub(crate) fn le64(b: &[u8], at: usize) -> Option<u64> {
    array(b, at).map(u64::from_le_bytes)
}

/// The big-endian (network order) `u16` at `at`.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_be_bytes)
}

/// The big-endian (network order) `u32` at `at`.
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_be_bytes)
}

/// A cursor over received bytes: each read takes the bytes after the previous one. A read
/// that fails leaves the cursor where it was.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    /// Moves to the next multiple of `n` bytes from the start (NDR alignment). Past the end,
    /// every read fails.
    pub(crate) fn align(&mut self, n: usize) {
        if n > 1 {
            self.at = self.at.div_ceil(n).saturating_mul(n);
        }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let a = array(self.bytes, self.at)?;
        self.at += N;
        Some(a)
    }

    /// The next little-endian `u16`.
    pub(crate) fn le16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    /// The next little-endian `u32`.
    pub(crate) fn le32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_at_an_offset() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(le16(&b, 0), Some(0x0201));
        assert_eq!(be16(&b, 0), Some(0x0102));
        assert_eq!(le32(&b, 1), Some(0x0504_0302));
        assert_eq!(be32(&b, 1), Some(0x0203_0405));
        assert_eq!(le64(&b, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(le16(&b, 8), None, "one byte left");
        assert_eq!(le64(&b, 2), None);
        assert_eq!(be32(&b, 100), None, "past the end");
        assert_eq!(le16(&b, usize::MAX), None, "offset + width overflows");
        assert_eq!(le16(&[], 0), None);
    }

    #[test]
    fn the_cursor_reads_field_after_field() {
        let b = [
            0x02, 0x00, 0xaa, 0xbb, 0x01, 0x00, 0x00, 0x00, 0x04, 0x03, 0x02, 0x01,
        ];
        let mut r = Reader::new(&b);
        assert_eq!(r.le16(), Some(2));
        assert_eq!(r.take(2), Some(&[0xaa, 0xbb][..]));
        assert_eq!(r.le32(), Some(1));
        assert_eq!(r.take(5), None, "only 4 left: nothing taken");
        assert_eq!(r.le32(), Some(0x0102_0304));
        assert_eq!(r.le16(), None);
        assert_eq!(r.take(0), Some(&[][..]));
    }

    #[test]
    fn alignment_is_from_the_start_and_past_the_end_fails() {
        let b = [1, 0, 0, 0, 2, 0, 0, 0, 3];
        let mut r = Reader::new(&b);
        assert_eq!(r.take(1), Some(&[1][..]));
        r.align(4);
        assert_eq!(r.le32(), Some(2));
        r.align(4);
        assert_eq!(r.take(1), Some(&[3][..]));
        r.align(4);
        assert_eq!(r.take(0), None, "the cursor is past the end");
        assert_eq!(r.le16(), None);
        r.align(0);
        r.align(1);
        assert_eq!(r.le16(), None);
    }

    /// One step of a cursor walk: (kind, argument).
    fn step(r: &mut Reader<'_>, kind: u8, n: usize) {
        let before = r.at;
        let moved = match kind % 4 {
            0 => r.le16().is_some(),
            1 => r.le32().is_some(),
            2 => r.take(n).is_some(),
            _ => {
                r.align(n);
                return;
            }
        };
        if !moved {
            assert_eq!(r.at, before, "a failed read does not move the cursor");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_and_offsets_never_panic(
            b in proptest::collection::vec(any::<u8>(), 0..64),
            at in prop_oneof![0usize..80, any::<usize>()],
        ) {
            let in_range = |w: usize| at.checked_add(w).is_some_and(|e| e <= b.len());
            prop_assert_eq!(le16(&b, at).is_some(), in_range(2));
            prop_assert_eq!(le32(&b, at).is_some(), in_range(4));
            prop_assert_eq!(le64(&b, at).is_some(), in_range(8));
            prop_assert_eq!(be16(&b, at).is_some(), in_range(2));
            prop_assert_eq!(be32(&b, at).is_some(), in_range(4));
            if let Some(v) = le32(&b, at) {
                prop_assert_eq!(v.swap_bytes(), be32(&b, at).unwrap());
            }
        }

        #[test]
        fn arbitrary_cursor_walks_never_panic(
            b in proptest::collection::vec(any::<u8>(), 0..64),
            steps in proptest::collection::vec(
                (any::<u8>(), prop_oneof![0usize..16, any::<usize>()]),
                0..32,
            ),
        ) {
            let mut r = Reader::new(&b);
            for (kind, n) in steps {
                step(&mut r, kind, n);
            }
        }
    }
}
