//! The C trampolines OpenSSL calls during a handshake: certificate verification with
//! hostname checking, server-side ALPN selection and SNI, key logging, and the message
//! callback. Each finds the connection's state (or the context's) through a typed ex-data
//! slot, runs the Rust callback inside `catch_unwind`, and parks a panic for the stream.

use crate::error::Error;
use crate::ffi::openssl::c_string;
use crate::stream::connection::connection;
use crate::util::park_panic;
use crate::x509::verify_hostname;
use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys::{SSL, X509_STORE_CTX};
use std::os::raw::{c_int, c_uchar, c_uint, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::verify_code::{APPLICATION_VERIFICATION, HOSTNAME_MISMATCH};

/// The verify callback installed on every stream's `SSL`.
pub(crate) extern "C" fn verify_trampoline(
    preverify_ok: c_int,
    store: *mut X509_STORE_CTX,
) -> c_int {
    // SAFETY: OpenSSL calls this during a handshake of one of our SSLs; the store belongs to
    // that handshake, and its ex_data holds the SSL.
    unsafe {
        let ssl = openssl_sys::X509_STORE_CTX_get_ex_data(
            store,
            openssl_sys::SSL_get_ex_data_X509_STORE_CTX_idx(),
        ) as *mut SSL;
        if ssl.is_null() {
            return preverify_ok;
        }
        let Some(conn) = connection(ssl) else {
            return preverify_ok;
        };
        let depth = openssl_sys::X509_STORE_CTX_get_error_depth(store).max(0) as u32;
        let cert_ptr = openssl_sys::X509_STORE_CTX_get_current_cert(store);
        let mut ok = preverify_ok == 1;

        let ctx = crate::context::ContextRef::from_ptr(openssl_sys::SSL_get_SSL_CTX(ssl));
        if let (Some(callback), false) = (
            ctx.extras().and_then(|e| e.verify_callback.clone()),
            cert_ptr.is_null(),
        ) {
            let code = openssl_sys::X509_STORE_CTX_get_error(store);
            // An owned reference for the callback, so it may keep the certificate.
            openssl_sys::X509_up_ref(cert_ptr);
            let cert = crate::x509::Certificate::from_ptr(cert_ptr);
            match catch_unwind(AssertUnwindSafe(|| callback(ok, code, depth, &cert))) {
                Ok(verdict) => {
                    if !verdict && code == openssl_sys::X509_V_OK {
                        openssl_sys::X509_STORE_CTX_set_error(store, APPLICATION_VERIFICATION);
                    }
                    if verdict && !ok {
                        // The application accepts what OpenSSL rejected.
                        openssl_sys::X509_STORE_CTX_set_error(store, openssl_sys::X509_V_OK);
                    }
                    ok = verdict;
                }
                Err(payload) => {
                    park_panic(&mut conn.bio.panic, payload);
                    openssl_sys::X509_STORE_CTX_set_error(store, APPLICATION_VERIFICATION);
                    return 0;
                }
            }
        }

        if ok && depth == 0 && !cert_ptr.is_null() {
            if let Some(host) = conn.check_hostname.as_deref() {
                let cert = crate::x509::CertificateRef::from_ptr(cert_ptr);
                if let Err(e) = verify_hostname(cert, host) {
                    openssl_sys::X509_STORE_CTX_set_error(store, HOSTNAME_MISMATCH);
                    conn.verify_failure.get_or_insert_with(|| Box::new(e));
                    return 0;
                }
            }
        }

        if !ok && conn.verify_failure.is_none() {
            let code = openssl_sys::X509_STORE_CTX_get_error(store);
            let subject = if cert_ptr.is_null() {
                String::from("(no certificate)")
            } else {
                crate::x509::CertificateRef::from_ptr(cert_ptr).subject_name()
            };
            conn.verify_failure = Some(Box::new(Error::Verify {
                code,
                text: c_string(openssl_sys::X509_verify_cert_error_string(code as _)),
                depth,
                subject,
                verified_by: conn.side,
            }));
        }
        ok as c_int
    }
}

/// Server-side ALPN selection, installed on every context sslbridge builds.
pub(crate) unsafe extern "C" fn alpn_select_trampoline(
    ssl: *mut SSL,
    out: *mut *const c_uchar,
    outlen: *mut c_uchar,
    client: *const c_uchar,
    client_len: c_uint,
    _arg: *mut c_void,
) -> c_int {
    // SAFETY: OpenSSL calls this during a server handshake of `ssl`.
    let Some(conn) = (unsafe { connection(ssl) }) else {
        return openssl_sys::SSL_TLSEXT_ERR_NOACK;
    };
    // SAFETY: OpenSSL passes the client's list, `client_len` bytes, alive for the handshake.
    let offered = unsafe { std::slice::from_raw_parts(client, client_len as usize) };
    let Some(choices) = conn.server_choices.as_deref() else {
        return openssl_sys::SSL_TLSEXT_ERR_NOACK;
    };
    let alpn_required = choices.alpn_required;
    let chosen: Option<Vec<u8>> = if let Some(callback) = choices.alpn_select.clone() {
        let names: Vec<&str> = wire_names(offered)
            .filter_map(|n| std::str::from_utf8(n).ok())
            .collect();
        match catch_unwind(AssertUnwindSafe(|| callback(&names))) {
            Ok(choice) => choice.map(String::into_bytes),
            Err(payload) => {
                park_panic(&mut conn.bio.panic, payload);
                return openssl_sys::SSL_TLSEXT_ERR_ALERT_FATAL;
            }
        }
    } else if let Some(server) = choices.alpn_server.as_deref() {
        // Our preference order wins: the first of ours the client offers.
        wire_names(server)
            .find(|ours| wire_names(offered).any(|theirs| theirs == *ours))
            .map(<[u8]>::to_vec)
    } else {
        // Nothing to choose from: no protocol, which `alpn_required` turns into a failure.
        None
    };
    // Point into the client's list: it outlives this callback, as OpenSSL requires.
    let found = chosen.and_then(|name| {
        let mut i = 0usize;
        wire_names(offered).find_map(|theirs| {
            let at = i;
            i += 1 + theirs.len();
            (theirs == name.as_slice()).then_some((at + 1, theirs.len()))
        })
    });
    match found {
        Some((at, len)) => {
            // SAFETY: `at..at + len` lies inside the client's list; out/outlen are OpenSSL's
            // out-parameters.
            unsafe {
                *out = client.add(at);
                *outlen = len as c_uchar;
            }
            openssl_sys::SSL_TLSEXT_ERR_OK
        }
        None if alpn_required => openssl_sys::SSL_TLSEXT_ERR_ALERT_FATAL,
        None => openssl_sys::SSL_TLSEXT_ERR_NOACK,
    }
}

/// The names in an ALPN wire-format list (stops at a malformed entry).
fn wire_names(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = list;
    std::iter::from_fn(move || {
        let (&len, tail) = rest.split_first()?;
        let len = len as usize;
        if len == 0 || len > tail.len() {
            rest = &[];
            return None;
        }
        let (name, tail) = tail.split_at(len);
        rest = tail;
        Some(name)
    })
}

/// Server-side SNI: lets the stream's callback switch the connection to another context.
pub(crate) unsafe extern "C" fn servername_trampoline(
    ssl: *mut SSL,
    _alert: *mut c_int,
    _arg: *mut c_void,
) -> c_int {
    // SAFETY: OpenSSL calls this during a server handshake of `ssl`.
    let Some(conn) = (unsafe { connection(ssl) }) else {
        return openssl_sys::SSL_TLSEXT_ERR_NOACK;
    };
    // SAFETY: the name, when present, is a NUL-terminated string owned by the SSL.
    let name = unsafe {
        c_string(openssl_sys::SSL_get_servername(
            ssl,
            openssl_sys::TLSEXT_NAMETYPE_host_name,
        ))
    };
    if name.is_empty() {
        return openssl_sys::SSL_TLSEXT_ERR_NOACK;
    }
    // Acknowledging the name makes OpenSSL store it in the session, so server_name() also
    // answers on a resumed TLS 1.2 connection.
    let Some(callback) = conn
        .server_choices
        .as_ref()
        .and_then(|choices| choices.sni_callback.clone())
    else {
        return openssl_sys::SSL_TLSEXT_ERR_OK;
    };
    match catch_unwind(AssertUnwindSafe(|| callback(&name))) {
        Ok(Some(ctx)) => {
            // SSL_set_SSL_CTX switches certificate, key and session id context only; bring
            // the new context's verification settings along, as its docs promise.
            // SAFETY: both are live; SSL_set_SSL_CTX takes its own reference to ctx, and
            // returns null (out of memory) without switching.
            unsafe {
                if openssl_sys::SSL_set_SSL_CTX(ssl, ctx.as_ptr()).is_null() {
                    return openssl_sys::SSL_TLSEXT_ERR_ALERT_FATAL;
                }
                let mode = openssl_sys::SSL_CTX_get_verify_mode(ctx.as_ptr());
                openssl_sys::SSL_set_verify(ssl, mode, Some(verify_trampoline));
                crate::ffi::openssl::SSL_set_verify_depth(
                    ssl,
                    crate::ffi::openssl::SSL_CTX_get_verify_depth(ctx.as_ptr()),
                );
            }
            if let Some(choices) = conn.server_choices.as_deref_mut() {
                choices.sni_context = Some(ctx);
            }
            openssl_sys::SSL_TLSEXT_ERR_OK
        }
        Ok(None) => openssl_sys::SSL_TLSEXT_ERR_OK,
        Err(payload) => {
            park_panic(&mut conn.bio.panic, payload);
            openssl_sys::SSL_TLSEXT_ERR_ALERT_FATAL
        }
    }
}

/// `SSL3_RT_HEADER`: the message callback's content type for a record header.
const RECORD_HEADER: c_int = 256;

/// The message callback, installed for the handshake only: keeps the first record header
/// received, which explains a failure when the peer does not speak TLS (on the fd path it is
/// all sslbridge can see of the peer's bytes).
pub(crate) unsafe extern "C" fn message_trampoline(
    write_p: c_int,
    _version: c_int,
    content_type: c_int,
    buf: *const c_void,
    len: usize,
    ssl: *mut SSL,
    _arg: *mut c_void,
) {
    if write_p != 0 || content_type != RECORD_HEADER || buf.is_null() {
        return;
    }
    // SAFETY: OpenSSL calls this inside an SSL_* call on one of our SSLs.
    let Some(conn) = (unsafe { connection(ssl) }) else {
        return;
    };
    // On the custom BIO the BIO has kept the peer's first bytes already (OpenSSL reads a
    // header before it reports one); on the fd path this header is all there is.
    if conn.bio.first_bytes.is_empty() {
        // SAFETY: OpenSSL passes `len` readable bytes at `buf` for the duration of the call.
        let header = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) };
        conn.bio.first_bytes.keep(header);
    }
}

/// Key log lines go to the context's callback.
pub(crate) unsafe extern "C" fn keylog_trampoline(
    ssl: *const SSL,
    line: *const std::os::raw::c_char,
) {
    // SAFETY: OpenSSL passes a live SSL and a NUL-terminated line.
    unsafe {
        let ctx = crate::context::ContextRef::from_ptr(openssl_sys::SSL_get_SSL_CTX(ssl));
        if let Some(callback) = ctx.extras().and_then(|e| e.keylog.clone()) {
            let line = c_string(line);
            // A panicking logger must not unwind into OpenSSL; the line is dropped.
            let _ = catch_unwind(AssertUnwindSafe(|| callback(&line)));
        }
    }
}

/// Encodes protocol names in ALPN wire format (length-prefixed).
pub(crate) fn alpn_wire(protocols: &[String]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for p in protocols {
        if p.is_empty() || p.len() > 255 {
            return Err(Error::InvalidArgument(format!(
                "ALPN protocol names are 1 to 255 bytes long, {p:?} is not"
            )));
        }
        out.push(p.len() as u8);
        out.extend_from_slice(p.as_bytes());
    }
    Ok(out)
}
