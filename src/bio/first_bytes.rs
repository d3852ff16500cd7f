//! [`FirstBytes`]: the first few bytes a peer sent, kept to explain a peer that does not speak
//! TLS. Held inline rather than in a `Vec`: every connection keeps one, and a heap allocation
//! for 16 bytes costs more than the bytes themselves.

/// How many of the peer's first bytes are kept for error messages.
pub(crate) const FIRST_BYTES: usize = 16;

/// Up to [`FIRST_BYTES`] bytes, appended to (over several reads) until full; the bytes kept
/// never change.
#[derive(Clone, Copy, Default)]
pub(crate) struct FirstBytes {
    bytes: [u8; FIRST_BYTES],
    len: u8,
}

impl FirstBytes {
    /// Appends what it still lacks of its [`FIRST_BYTES`] from `delivered`.
    #[inline]
    pub(crate) fn keep(&mut self, delivered: &[u8]) {
        let have = usize::from(self.len);
        // Every transport read passes through here: once full, nothing more to do.
        if have == FIRST_BYTES {
            return;
        }
        let take = (FIRST_BYTES - have).min(delivered.len());
        self.bytes[have..have + take].copy_from_slice(&delivered[..take]);
        // take ≤ FIRST_BYTES - have, so the sum fits in a u8.
        self.len += take as u8;
    }

    /// How many bytes are still missing.
    pub(crate) fn missing(&self) -> usize {
        FIRST_BYTES - usize::from(self.len)
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_first_sixteen_bytes_across_deliveries() {
        let mut first = FirstBytes::default();
        assert!(first.is_empty());
        first.keep(b"\x16\x03\x01");
        assert_eq!(first.as_slice(), b"\x16\x03\x01");
        assert_eq!(first.missing(), 13);
        first.keep(b"0123456789abcdefXYZ");
        assert_eq!(first.as_slice(), b"\x16\x03\x010123456789abc");
        assert_eq!(first.missing(), 0);
        first.keep(b"more");
        assert_eq!(first.as_slice(), b"\x16\x03\x010123456789abc");
    }

    #[test]
    fn an_empty_delivery_changes_nothing() {
        let mut first = FirstBytes::default();
        first.keep(b"");
        assert!(first.is_empty());
        assert_eq!(first.missing(), FIRST_BYTES);
    }
}
