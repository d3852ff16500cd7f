//! `Read`, `BufRead` and `Write` for [`SslStream`]: plaintext in and out, with the optional
//! input and output buffers.

use super::{SslStream, MAX_RECORD_PLAINTEXT};
use crate::transport::Transport;
use std::io::{self, BufRead, IoSlice, Read, Write};

impl<T: Transport> Read for SslStream<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input_pos < self.input_end {
            let n = buf.len().min(self.input_end - self.input_pos);
            buf[..n].copy_from_slice(&self.input[self.input_pos..self.input_pos + n]);
            self.input_pos += n;
            return Ok(n);
        }
        self.ssl_read(buf).map_err(io::Error::from)
    }
}

impl<T: Transport> BufRead for SslStream<T> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.input_pos >= self.input_end {
            if self.input.len() < self.input_capacity {
                self.input = vec![0u8; self.input_capacity];
            }
            let mut input = std::mem::take(&mut self.input);
            let result = self.ssl_read(&mut input);
            self.input = input;
            let n = result.map_err(io::Error::from)?;
            self.input_pos = 0;
            self.input_end = n;
        }
        Ok(&self.input[self.input_pos..self.input_end])
    }

    fn consume(&mut self, amt: usize) {
        self.input_pos = (self.input_pos + amt).min(self.input_end);
    }
}

impl<T: Transport> Write for SslStream<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.output_capacity == 0 {
            return self.write_unbuffered(buf).map_err(io::Error::from);
        }
        if self.output.len() >= self.output_capacity {
            self.flush_output().map_err(io::Error::from)?;
        }
        let room = self.output_capacity - self.output.len();
        let n = buf.len().min(room);
        self.output.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    /// Gathers the slices (up to one maximal record, 16 KiB) into a single `SSL_write`: a
    /// header and a body become one record and one transport write, not two. (With an output
    /// buffer, they are copied into it.)
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut nonempty = bufs.iter().filter(|b| !b.is_empty());
        let Some(first) = nonempty.next() else {
            return Ok(0);
        };
        if self.output_capacity == 0
            && (first.len() >= MAX_RECORD_PLAINTEXT || nonempty.next().is_none())
        {
            return self.write(first);
        }
        let limit = if self.output_capacity == 0 {
            MAX_RECORD_PLAINTEXT
        } else {
            if self.output.len() >= self.output_capacity {
                self.flush_output().map_err(io::Error::from)?;
            }
            self.output_capacity - self.output.len()
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
        self.write(&gathered)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_output().map_err(io::Error::from)?;
        if self.ssl.is_null() || !self.handshake_done {
            return Ok(());
        }
        self.flush_transport().map_err(io::Error::from)
    }
}
