#![no_main]

sslbridge_fuzz::sslbridge_fuzz_target!(sslbridge_fuzz::targets::server_records);
