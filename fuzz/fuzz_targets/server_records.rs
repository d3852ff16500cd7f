#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: sslbridge_fuzz::targets::init(), |data: &[u8]| {
    sslbridge_fuzz::targets::server_records(data)
});
