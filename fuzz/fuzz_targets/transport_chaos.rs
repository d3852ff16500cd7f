#![no_main]

use libfuzzer_sys::fuzz_target;
use sslbridge_fuzz::targets;

fuzz_target!(init: targets::init(), |data: &[u8]| targets::run(targets::transport_chaos, data));
