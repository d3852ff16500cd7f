//! OpenSSL asks for a PEM pass phrase through its UI layer, which by default prompts on the
//! process's terminal (`/dev/tty`) and waits for an answer. A fuzzer, or `cargo test` replaying
//! its inputs, started from a terminal would then hang on an input that makes some decoder ask.
//! [`refuse_password_prompts`] installs a UI method that answers every prompt with a refusal
//! and counts the prompts, so a target can tell that one happened.

use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

// libcrypto's UI functions (not in openssl-sys). UI_METHOD, UI and UI_STRING are opaque.
extern "C" {
    fn UI_create_method(name: *const c_char) -> *mut c_void;
    fn UI_method_set_reader(
        method: *mut c_void,
        reader: Option<unsafe extern "C" fn(ui: *mut c_void, uis: *mut c_void) -> c_int>,
    ) -> c_int;
    fn UI_set_default_method(method: *const c_void);
}

static PROMPTS: AtomicUsize = AtomicUsize::new(0);

/// The UI method's reader: counts the prompt and fails it (0: an error, so the pass-phrase
/// callback returns -1 and the decoder gives up).
unsafe extern "C" fn refuse(_ui: *mut c_void, _uis: *mut c_void) -> c_int {
    PROMPTS.fetch_add(1, Ordering::Relaxed);
    0
}

/// Makes every OpenSSL prompt in this process fail at once instead of reading the terminal
/// (once per process; the method lives as long as the process).
pub fn refuse_password_prompts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        sslbridge::ensure_initialized();
        // SAFETY: UI_create_method copies the name and returns a new method (or null); the
        // reader has the signature OpenSSL calls; the method is never freed, so the default
        // OpenSSL keeps a pointer to stays valid.
        unsafe {
            let method = UI_create_method(c"sslbridge-fuzz: refuse prompts".as_ptr());
            assert!(!method.is_null(), "UI_create_method failed");
            assert_eq!(UI_method_set_reader(method, Some(refuse)), 0);
            UI_set_default_method(method);
        }
    });
}

/// How many prompts OpenSSL made in this process since [`refuse_password_prompts`].
pub fn password_prompts() -> usize {
    PROMPTS.load(Ordering::Relaxed)
}
