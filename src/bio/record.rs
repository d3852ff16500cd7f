//! Where the TLS record boundaries are in the byte stream the BIO hands to OpenSSL.
//!
//! With OpenSSL's read-ahead on, OpenSSL asks for as much as its buffer holds; if a read
//! brings more than one record, OpenSSL moves the unread rest to the front of its buffer after
//! every record (quadratic in the number of small records per read). Handing over at most one
//! record per read avoids that while keeping one transport read per record.

/// The TLS record header: type, version (2 bytes), length (2 bytes).
const HEADER: usize = 5;

/// Whether `bytes` start with a whole record (header and body).
pub(crate) fn is_complete(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER
        && bytes.len() >= HEADER + u16::from_be_bytes([bytes[3], bytes[4]]) as usize
}

/// Tracks the record being handed over.
#[derive(Debug, Default)]
pub(crate) struct RecordCursor {
    header: [u8; HEADER],
    /// Header bytes of the current record already handed over.
    have: usize,
    /// Body bytes of the current record still to hand over (valid once `have == HEADER`).
    body_left: usize,
}

impl RecordCursor {
    fn start_next_if_done(&mut self) {
        if self.have == HEADER && self.body_left == 0 {
            self.have = 0;
        }
    }

    /// How many of the available bytes (seen through `peek`) belong to the current record.
    /// A malformed length only makes reads shorter or longer, never wrong: OpenSSL checks
    /// the records itself.
    pub(crate) fn limit(&mut self, peek: &dyn Fn(usize) -> Option<u8>) -> usize {
        self.start_next_if_done();
        if self.have < HEADER {
            let need = HEADER - self.have;
            let mut header = self.header;
            for i in 0..need {
                match peek(i) {
                    Some(b) => header[self.have + i] = b,
                    None => return i.max(1),
                }
            }
            return need + u16::from_be_bytes([header[3], header[4]]) as usize;
        }
        self.body_left
    }

    /// Records that `bytes` were handed over.
    pub(crate) fn consume(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            self.start_next_if_done();
            if self.have < HEADER {
                let k = (HEADER - self.have).min(bytes.len());
                self.header[self.have..self.have + k].copy_from_slice(&bytes[..k]);
                self.have += k;
                bytes = &bytes[k..];
                if self.have == HEADER {
                    self.body_left = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                }
            } else {
                let k = self.body_left.min(bytes.len());
                self.body_left -= k;
                bytes = &bytes[k..];
                if k == 0 {
                    // Unreachable with a consistent limit(); never loop forever regardless.
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit_of(cursor: &mut RecordCursor, data: &[u8]) -> usize {
        cursor.limit(&|i| data.get(i).copied())
    }

    #[test]
    fn stops_at_each_record_boundary() {
        // Two records: 3-byte body, then 2-byte body.
        let stream = [23, 3, 3, 0, 3, b'a', b'b', b'c', 23, 3, 3, 0, 2, b'x', b'y'];
        let mut c = RecordCursor::default();
        assert_eq!(limit_of(&mut c, &stream), 8);
        c.consume(&stream[..8]);
        assert_eq!(limit_of(&mut c, &stream[8..]), 7);
        // A partial header: only what is there.
        let mut c = RecordCursor::default();
        assert_eq!(limit_of(&mut c, &stream[..2]), 2);
        c.consume(&stream[..2]);
        assert_eq!(limit_of(&mut c, &stream[2..]), 3 + 3);
        c.consume(&stream[2..4]);
        assert_eq!(limit_of(&mut c, &stream[4..]), 1 + 3);
        c.consume(&stream[4..6]);
        assert_eq!(limit_of(&mut c, &stream[6..]), 2);
    }
}
