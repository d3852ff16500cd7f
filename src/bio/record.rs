//! Where the TLS record boundaries are in the byte stream the BIO hands to OpenSSL.
//!
//! With OpenSSL's read-ahead on, OpenSSL asks for as much as its buffer holds; if a read
//! brings more than one record, OpenSSL moves the unread rest to the front of its buffer after
//! every record (quadratic in the number of small records per read). Handing over at most one
//! record per read avoids that while keeping one transport read per record.

/// The TLS record header: type, version (2 bytes), length (2 bytes).
const HEADER: usize = 5;

/// How many whole records (header and body) `bytes` start with, counting stops at `max`.
pub(crate) fn count_complete(bytes: &[u8], max: usize) -> usize {
    count_complete_by(|i| bytes.get(i).copied(), bytes.len(), max)
}

/// [`count_complete`] over `len` bytes seen through `peek`.
pub(crate) fn count_complete_by(
    peek: impl Fn(usize) -> Option<u8>,
    len: usize,
    max: usize,
) -> usize {
    let (mut at, mut n) = (0usize, 0usize);
    while n < max {
        let (Some(hi), Some(lo)) = (peek(at + 3), peek(at + 4)) else {
            break;
        };
        let end = at + HEADER + u16::from_be_bytes([hi, lo]) as usize;
        if len < end {
            break;
        }
        (at, n) = (end, n + 1);
    }
    n
}

/// Tracks the record being handed over.
#[derive(Debug, Default)]
pub(crate) struct RecordCursor {
    header: [u8; HEADER],
    /// Header bytes of the current record already handed over (0 to `HEADER`).
    have: u8,
    /// Body bytes of the current record still to hand over (valid once `have == HEADER`):
    /// at most the header's 16-bit length. (Small types: every connection holds a cursor.)
    body_left: u16,
}

/// `HEADER` as the type of [`RecordCursor::have`].
const HEADER_U8: u8 = HEADER as u8;

impl RecordCursor {
    /// Whether the next byte handed over starts a record.
    pub(crate) fn at_boundary(&self) -> bool {
        self.have == 0 || (self.have == HEADER_U8 && self.body_left == 0)
    }

    fn start_next_if_done(&mut self) {
        if self.have == HEADER_U8 && self.body_left == 0 {
            self.have = 0;
        }
    }

    /// How many of the available bytes (seen through `peek`) belong to the current record.
    /// A malformed length only makes reads shorter or longer, never wrong: OpenSSL checks
    /// the records itself.
    pub(crate) fn limit(&mut self, peek: &dyn Fn(usize) -> Option<u8>) -> usize {
        self.start_next_if_done();
        let have = usize::from(self.have);
        if have < HEADER {
            let need = HEADER - have;
            let mut header = self.header;
            for i in 0..need {
                match peek(i) {
                    Some(b) => header[have + i] = b,
                    None => return i.max(1),
                }
            }
            return need + u16::from_be_bytes([header[3], header[4]]) as usize;
        }
        usize::from(self.body_left)
    }

    /// Records that `bytes` were handed over.
    pub(crate) fn consume(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            self.start_next_if_done();
            let have = usize::from(self.have);
            if have < HEADER {
                let k = (HEADER - have).min(bytes.len());
                self.header[have..have + k].copy_from_slice(&bytes[..k]);
                // have + k ≤ HEADER.
                self.have += k as u8;
                bytes = &bytes[k..];
                if self.have == HEADER_U8 {
                    self.body_left = u16::from_be_bytes([self.header[3], self.header[4]]);
                }
            } else {
                let k = usize::from(self.body_left).min(bytes.len());
                // k ≤ body_left, a u16.
                self.body_left -= k as u16;
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

    #[test]
    fn a_record_of_the_largest_length_a_header_can_state() {
        // 0xFFFF bytes of body: more than TLS allows, but the cursor must not wrap.
        let mut record = vec![23, 3, 3, 0xff, 0xff];
        record.resize(HEADER + 0xffff, 7);
        record.extend_from_slice(&[23, 3, 3, 0, 1, b'z']);
        let mut c = RecordCursor::default();
        assert_eq!(limit_of(&mut c, &record), HEADER + 0xffff);
        c.consume(&record[..HEADER + 1000]);
        assert!(!c.at_boundary());
        assert_eq!(limit_of(&mut c, &record[HEADER + 1000..]), 0xffff - 1000);
        c.consume(&record[HEADER + 1000..HEADER + 0xffff]);
        assert!(c.at_boundary());
        assert_eq!(limit_of(&mut c, &record[HEADER + 0xffff..]), HEADER + 1);
    }

    #[test]
    fn counts_whole_records_only() {
        let stream = [
            23, 3, 3, 0, 3, b'a', b'b', b'c', 23, 3, 3, 0, 2, b'x', b'y', 23, 3,
        ];
        assert_eq!(count_complete(&stream, 8), 2);
        assert_eq!(count_complete(&stream, 1), 1);
        assert_eq!(count_complete(&stream[..14], 8), 1);
        assert_eq!(count_complete(&stream[..4], 8), 0);
        assert_eq!(count_complete(&[], 8), 0);
        let mut c = RecordCursor::default();
        assert!(c.at_boundary());
        c.consume(&stream[..6]);
        assert!(!c.at_boundary());
        c.consume(&stream[6..8]);
        assert!(c.at_boundary());
    }
}
