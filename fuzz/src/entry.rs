//! The libFuzzer entry points of sslbridge's targets ([`sslbridge_fuzz_target!`]): what
//! libfuzzer-sys's `fuzz_target!` defines, plus libFuzzer flags a target runs with by default.
//!
//! libFuzzer parses its flags from `argv` *after* calling `LLVMFuzzerInitialize`, which its
//! documentation allows to "read and modify argc/argv"; libfuzzer-sys's `fuzz_target!` defines
//! that function itself without giving the init code `argv`, so the targets define both entry
//! points here instead. The defaults go in right after the program's name, so the same flag
//! given on the command line (`cargo fuzz run <target> -- -flag=value`) comes later and wins.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

/// libFuzzer flags every sslbridge target runs with unless the command line sets them.
///
/// `-entropic_feature_frequency_threshold=32` (libFuzzer's default is 255): the entropic
/// power schedule keeps every feature seen in fewer runs than the threshold in a "rare" list
/// and, for each feature of each run, searches that list. A run through the instrumented
/// OpenSSL touches tens of thousands of features, and a target that makes a few dozen runs a
/// second (`transport_chaos`: one or two full handshakes per run) keeps thousands of them
/// under 255 for minutes: that search took 38 % of the fuzzer's time (`perf`, 2026-12-02).
/// `transport_chaos`, 60 s runs from its committed corpus: 53 to 81 executions per CPU second
/// with the default, 75 to 106 (median 84 of eight) with 32. The schedule is
/// the same otherwise: inputs that reach features seen in fewer than 32 runs (and the 100
/// rarest ones, as always) get more of the fuzzer's attention.
pub const LIBFUZZER_DEFAULTS: &[&CStr] = &[c"-entropic_feature_frequency_threshold=32"];

/// Puts `defaults` into libFuzzer's command line, right after the program's name.
///
/// # Safety
///
/// `argc` and `argv` are the pointers libFuzzer passes to `LLVMFuzzerInitialize`: `*argv`
/// holds `*argc` valid C strings. The new array is leaked on purpose: libFuzzer keeps using
/// it for the life of the process.
pub unsafe fn add_default_flags(argc: *mut c_int, argv: *mut *mut *mut c_char, defaults: &[&CStr]) {
    // SAFETY: per this function's contract, `argc` and `argv` point to libFuzzer's
    // variables and `*argv` holds `*argc` pointers (checked to be at least one).
    let old = unsafe {
        if argc.is_null() || argv.is_null() || (*argv).is_null() || *argc < 1 {
            return;
        }
        std::slice::from_raw_parts(*argv, *argc as usize)
    };
    let mut new: Vec<*mut c_char> = Vec::with_capacity(old.len() + defaults.len() + 1);
    new.push(old[0]);
    // libFuzzer never writes through argv's strings; the defaults are static.
    new.extend(defaults.iter().map(|flag| flag.as_ptr().cast_mut()));
    new.extend_from_slice(&old[1..]);
    let count = c_int::try_from(new.len()).expect("a command line of fewer than 2^31 arguments");
    // argv[argc] is NULL, as in `main`'s.
    new.push(std::ptr::null_mut());
    // SAFETY: as above, both pointers are libFuzzer's and writable; the leaked array lives
    // as long as the process.
    unsafe {
        *argv = Box::leak(new.into_boxed_slice()).as_mut_ptr();
        *argc = count;
    }
}

/// What `cargo fuzz fmt` asks of a target: with `RUST_LIBFUZZER_DEBUG_PATH` set (libfuzzer-sys
/// reads it), write the input's `Debug` form there instead of running it, as libfuzzer-sys's
/// `fuzz_target!` does. Returns whether it did.
pub fn wrote_debug_form(data: &[u8]) -> bool {
    let Some(path) = libfuzzer_sys::rust_libfuzzer_debug_path() else {
        return false;
    };
    std::fs::write(path, format!("{data:?}\n")).expect("write RUST_LIBFUZZER_DEBUG_PATH");
    true
}

/// Defines a target's libFuzzer entry points from its body (a `fn(&[u8])` of
/// [`crate::targets`]): `LLVMFuzzerInitialize` (libfuzzer-sys's own initialisation, which
/// makes a panic abort, then [`crate::targets::init`] and the [`LIBFUZZER_DEFAULTS`]) and the
/// function libfuzzer-sys's `LLVMFuzzerTestOneInput` calls with each input (which runs it
/// through [`crate::targets::run`]).
///
/// ```ignore
/// #![no_main]
/// sslbridge_fuzz::sslbridge_fuzz_target!(sslbridge_fuzz::targets::client_records);
/// ```
#[macro_export]
macro_rules! sslbridge_fuzz_target {
    ($body:path) => {
        /// Called once by libFuzzer before it reads its flags.
        ///
        /// # Safety
        ///
        /// libFuzzer passes its own `argc` and `argv`.
        #[no_mangle]
        pub unsafe extern "C" fn LLVMFuzzerInitialize(
            argc: *mut ::std::os::raw::c_int,
            argv: *mut *mut *mut ::std::os::raw::c_char,
        ) -> ::std::os::raw::c_int {
            // libfuzzer-sys's set-up, as its `fuzz_target!` runs it (it reads neither pointer).
            $crate::libfuzzer_sys::initialize(argc.cast_const().cast(), argv.cast_const().cast());
            $crate::targets::init();
            // SAFETY: libFuzzer's own argc and argv, as the function's contract says.
            unsafe {
                $crate::entry::add_default_flags(argc, argv, $crate::entry::LIBFUZZER_DEFAULTS)
            };
            0
        }

        /// Called by libfuzzer-sys's `LLVMFuzzerTestOneInput` with each input (Rust to
        /// Rust: the slice never crosses into C).
        #[no_mangle]
        #[allow(improper_ctypes_definitions)]
        pub extern "C" fn rust_fuzzer_test_input(data: &[u8]) -> i32 {
            if !$crate::entry::wrote_debug_form(data) {
                run_input(data);
            }
            $crate::libfuzzer_sys::Corpus::Keep.to_libfuzzer_code()
        }

        /// Not inlined, so a crash's stack names the target.
        #[inline(never)]
        fn run_input(data: &[u8]) {
            $crate::targets::run($body, data)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// The arguments `argv` holds, as strings.
    fn strings(argc: c_int, argv: *mut *mut c_char) -> Vec<String> {
        (0..argc as usize)
            // SAFETY: `argv` holds `argc` valid C strings (the test built them).
            .map(|i| {
                unsafe { CStr::from_ptr(*argv.add(i)) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn defaults_go_after_the_program_name_so_the_command_line_wins() {
        let owned: Vec<CString> = ["prog", "-runs=3", "corpus"]
            .iter()
            .map(|s| CString::new(*s).unwrap())
            .collect();
        let mut ptrs: Vec<*mut c_char> = owned.iter().map(|s| s.as_ptr().cast_mut()).collect();
        ptrs.push(std::ptr::null_mut());
        let mut argc: c_int = 3;
        let mut argv = ptrs.as_mut_ptr();
        // SAFETY: argc and argv describe `ptrs`, which outlives the call.
        unsafe { add_default_flags(&mut argc, &mut argv, &[c"-a=1", c"-b=2"]) };
        assert_eq!(
            strings(argc, argv),
            ["prog", "-a=1", "-b=2", "-runs=3", "corpus"]
        );
        // SAFETY: the new array holds argc + 1 entries.
        assert!(
            unsafe { *argv.add(argc as usize) }.is_null(),
            "argv[argc] is NULL"
        );
        // The leaked array is freed here, so Miri's leak check stays quiet.
        // SAFETY: made by `Box::leak` of a boxed slice of argc + 1 pointers.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(argv, argc as usize + 1)) });
    }

    #[test]
    fn an_empty_command_line_is_left_alone() {
        let mut argc: c_int = 0;
        let mut null = std::ptr::null_mut();
        let mut argv: *mut *mut c_char = &mut null;
        let before = argv;
        // SAFETY: argc is 0, so nothing behind argv is read.
        unsafe { add_default_flags(&mut argc, &mut argv, LIBFUZZER_DEFAULTS) };
        assert_eq!((argc, argv), (0, before));
    }
}
