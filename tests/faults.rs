//! Faults through the public `ChaosTransport`: an end of stream, an error or a panic at exact
//! byte offsets of the record stream, and benign chaos (short reads and writes, `Interrupted`,
//! `WouldBlock`) that every connection must absorb.

mod common;

#[path = "faults/at_byte.rs"]
mod at_byte;

#[path = "faults/chaos.rs"]
mod chaos;
