#![no_main]

sslbridge_fuzz::sslbridge_fuzz_target!(sslbridge_fuzz::targets::transport_chaos);
