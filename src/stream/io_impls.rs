//! `Read`, `BufRead` and `Write` for [`SslStream`]: plaintext in and out, with the optional
//! input and output buffers.

use super::{InputBuffer, SslStream, MAX_RECORD_PLAINTEXT};
use crate::error::Error;
use crate::transport::Transport;
use std::io::{self, BufRead, IoSlice, Read, Write};

impl<T: Transport> Read for SslStream<T> {
    /// Reads plaintext, filling `buf` across records while more can be had without waiting
    /// (see "Reads, writes and memory" on [`SslStream`]); never waits once it has bytes.
    /// `Ok(0)` after the peer's close_notify.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_plaintext(buf).map_err(io::Error::from)
    }
}

// The `Read` and `Write` methods as sslbridge errors: the async stream turns "would block"
// into `Pending` without making (and dropping) an `io::Error` for it each time.
impl<T: Transport> SslStream<T> {
    pub(crate) fn read_plaintext(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.read_plaintext_counting(buf, &mut 0)
    }

    /// [`read_plaintext`](Self::read_plaintext), counting in `records` the `SSL_read`s that
    /// returned data, about one per record (none when it served the `BufRead` buffer).
    pub(crate) fn read_plaintext_counting(
        &mut self,
        buf: &mut [u8],
        records: &mut usize,
    ) -> Result<usize, Error> {
        if let Some(input) = self.input_mut().filter(|i| i.pos < i.end) {
            let n = buf.len().min(input.end - input.pos);
            buf[..n].copy_from_slice(&input.data[input.pos..input.pos + n]);
            input.pos += n;
            return Ok(n);
        }
        self.ssl_read(buf, records)
    }

    pub(crate) fn write_plaintext(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if self.output().is_none() {
            return self.write_unbuffered(buf);
        }
        let room = self.output_room()?;
        let n = buf.len().min(room);
        if let Some(output) = self.output_mut() {
            output.data.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    /// Room in the output buffer, flushing it first when it is full (0 without one).
    fn output_room(&mut self) -> Result<usize, Error> {
        if self.output().is_some_and(|o| o.data.len() >= o.capacity) {
            self.flush_output()?;
        }
        Ok(self
            .output()
            .map_or(0, |o| o.capacity.saturating_sub(o.data.len())))
    }

    pub(crate) fn write_plaintext_vectored(
        &mut self,
        bufs: &[IoSlice<'_>],
    ) -> Result<usize, Error> {
        let mut nonempty = bufs.iter().filter(|b| !b.is_empty());
        let Some(first) = nonempty.next() else {
            return Ok(0);
        };
        if self.output().is_none()
            && (first.len() >= MAX_RECORD_PLAINTEXT || nonempty.next().is_none())
        {
            return self.write_plaintext(first);
        }
        let limit = if self.output().is_none() {
            MAX_RECORD_PLAINTEXT
        } else {
            self.output_room()?
        };
        let total: usize = bufs.iter().map(|b| b.len()).sum::<usize>().min(limit);
        let mut gathered = Vec::with_capacity(total);
        for b in bufs {
            let room = total - gathered.len();
            if room == 0 {
                break;
            }
            gathered.extend_from_slice(&b[..b.len().min(room)]);
        }
        self.write_plaintext(&gathered)
    }

    pub(crate) fn flush_plaintext(&mut self) -> Result<(), Error> {
        self.flush_output()?;
        if self.ssl.is_null() || !self.handshake_done {
            return Ok(());
        }
        self.flush_transport()
    }
}

impl<T: Transport> BufRead for SslStream<T> {
    /// Refills the input buffer ([`input_buffer_size`](crate::ClientOptions::input_buffer_size))
    /// as `read` does: across records, without waiting once it has bytes.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.input().is_none_or(|i| i.pos >= i.end) {
            let capacity = self.input_capacity as usize;
            // Out of the stream while `ssl_read` (which needs &mut self) fills it.
            let mut input = self
                .rare
                .as_deref_mut()
                .and_then(|r| r.input.take())
                .unwrap_or_else(|| InputBuffer {
                    data: vec![0u8; capacity],
                    pos: 0,
                    end: 0,
                });
            let result = self.ssl_read(&mut input.data, &mut 0);
            input.pos = 0;
            input.end = *result.as_ref().unwrap_or(&0);
            self.rare_mut().input = Some(input);
            result.map_err(io::Error::from)?;
        }
        let input = self.input().expect("fill_buf made the buffer above");
        Ok(&input.data[input.pos..input.end])
    }

    fn consume(&mut self, amt: usize) {
        if let Some(input) = self.input_mut() {
            input.pos = (input.pos + amt).min(input.end);
        }
    }
}

impl<T: Transport> Write for SslStream<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_plaintext(buf).map_err(io::Error::from)
    }

    /// Gathers the slices (up to one maximal record, 16 KiB) into a single `SSL_write`: a
    /// header and a body become one record and one transport write, not two. (With an output
    /// buffer, they are copied into it.)
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.write_plaintext_vectored(bufs).map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_plaintext().map_err(io::Error::from)
    }
}
