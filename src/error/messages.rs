//! The words of the error messages that depend on the details: which side's setting to
//! change after a verification failure, the bytes of a peer that does not speak TLS, and TLS
//! alerts by name.

use super::Side;

pub(super) fn verify_hint(side: Side) -> &'static str {
    match side {
        Side::Client => {
            "trust the issuing CA (ContextBuilder::verify_location or ca_certificates_pem), or \
             connect with Verify::None only if you accept an unauthenticated server"
        }
        Side::Server => {
            "trust the CA that issued the client's certificate (ContextBuilder::verify_location \
             or ca_certificates_pem on the server's context), or stop asking clients for \
             certificates (ServerOptions::verify_mode(VerifyMode::NONE))"
        }
    }
}

/// The peer's bytes as text where they are printable ASCII, escaped elsewhere.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

pub(super) fn not_tls_message(received: &[u8]) -> String {
    format!(
        "the peer does not speak TLS: its first bytes were \"{}\", which cannot start a TLS \
         record; is this a plaintext port, or a protocol that needs a STARTTLS (or CONNECT) \
         command before the TLS handshake?",
        printable(received)
    )
}

/// The name of a TLS alert (RFC 8446 §6 and the TLS 1.2 ones OpenSSL still sends).
pub(crate) fn alert_name(alert: u8) -> &'static str {
    match alert {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown_alert",
    }
}

pub(super) fn alert_message(alert: u8, name: &str) -> String {
    let about_our_certificate = matches!(alert, 42..=46 | 48 | 116);
    if about_our_certificate {
        format!(
            "the peer rejected our certificate, or its absence (fatal TLS alert {name}, {alert}): \
             check that we send a certificate chain (certificate_file / certificate_chain_pem and \
             the matching private key) issued by a CA the peer trusts, complete with its \
             intermediates, valid now and meant for this use"
        )
    } else if alert == 40 {
        format!(
            "the peer aborted the handshake with a fatal {name} alert ({alert}): no parameters in \
             common (protocol versions, cipher suites, groups, signature algorithms), or, in TLS \
             1.2, the peer required a client certificate we did not send"
        )
    } else if alert == 120 {
        format!(
            "the peer found no application protocol (ALPN) in common with ours (fatal TLS alert \
             {name}, {alert}): compare the alpn_protocols of both ends"
        )
    } else {
        format!("the peer aborted the connection with a fatal TLS alert: {name} ({alert})")
    }
}
