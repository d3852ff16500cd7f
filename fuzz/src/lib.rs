//! sslbridge's fuzz targets. The bodies live in [`targets`], plain files that the corpus
//! replay test (`tests/fuzz_corpus.rs`) and the seed generator
//! (`tools/src/bin/make-fuzz-corpus.rs`) include too, so all three run the same code.

pub mod entry;
pub mod targets;

/// Re-exported for [`sslbridge_fuzz_target!`], which the target files call.
pub use libfuzzer_sys;

/// AddressSanitizer's defaults for every target (the `ASAN_OPTIONS` variable still overrides
/// them): allocation and free stacks of 8 frames instead of 30. Recording a deep stack on
/// each of the thousands of allocations OpenSSL makes per handshake took a tenth of the
/// fuzzers' time; rerun a crash with `ASAN_OPTIONS=malloc_context_size=30` for full stacks.
#[no_mangle]
pub extern "C" fn __asan_default_options() -> *const std::os::raw::c_char {
    c"malloc_context_size=8".as_ptr()
}
