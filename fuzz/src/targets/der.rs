//! Just enough DER to write the certificates the `hostname` target needs: a subject made of
//! any attributes in any string type, and subjectAltName extensions holding any bytes. The
//! certificate is never verified, so its signature is a placeholder.

/// A tag-length-value with a definite length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded items.
pub fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

/// A SET of already encoded items.
pub fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}

/// ASN.1 string and other universal tags a name attribute can use.
pub mod tag {
    /// UTF8String.
    pub const UTF8: u8 = 0x0c;
    /// PrintableString.
    pub const PRINTABLE: u8 = 0x13;
    /// T61String (TeletexString), read as Latin-1.
    pub const T61: u8 = 0x14;
    /// IA5String.
    pub const IA5: u8 = 0x16;
    /// UniversalString (UCS-4 big-endian).
    pub const UNIVERSAL: u8 = 0x1c;
    /// BMPString (UCS-2 big-endian).
    pub const BMP: u8 = 0x1e;
    /// OCTET STRING: not a string type a name may use.
    pub const OCTET_STRING: u8 = 0x04;
}

/// commonName (2.5.4.3).
pub const OID_COMMON_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
/// organizationName (2.5.4.10).
pub const OID_ORGANIZATION: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x0a];
/// subjectAltName (2.5.29.17).
pub const OID_SUBJECT_ALT_NAME: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x11];
/// ecdsa-with-SHA256, the (placeholder) signature algorithm.
const ALG_ECDSA_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];
/// An Ed25519 public key: decoding it costs nothing, unlike an EC point's curve check.
const SPKI_ED25519: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 0x19, 0xbf, 0x44, 0x09,
    0x69, 0x84, 0xcd, 0xfe, 0x85, 0x41, 0xba, 0xc1, 0x67, 0xdc, 0x3b, 0x96, 0xc8, 0x50, 0x86, 0xaa,
    0x30, 0xb6, 0xb6, 0xcb, 0x0c, 0x5c, 0x38, 0xad, 0x70, 0x31, 0x66, 0xe1,
];

/// A GeneralName of the subjectAltName extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneralName {
    /// dNSName, an IA5String written as given (any bytes).
    Dns(Vec<u8>),
    /// iPAddress, an OCTET STRING (4 or 16 bytes when well formed).
    Ip(Vec<u8>),
    /// rfc822Name.
    Email(Vec<u8>),
    /// uniformResourceIdentifier.
    Uri(Vec<u8>),
}

impl GeneralName {
    fn encode(&self) -> Vec<u8> {
        // Context-specific, implicit, primitive: [1] rfc822Name, [2] dNSName, [6] URI,
        // [7] iPAddress.
        match self {
            GeneralName::Email(v) => tlv(0x81, v),
            GeneralName::Dns(v) => tlv(0x82, v),
            GeneralName::Uri(v) => tlv(0x86, v),
            GeneralName::Ip(v) => tlv(0x87, v),
        }
    }
}

/// A subjectAltName extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SanExtension {
    /// Well-formed GeneralNames.
    Names(Vec<GeneralName>),
    /// The extension's value as raw bytes (usually undecodable).
    Raw(Vec<u8>),
}

/// What a test certificate holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateSpec {
    /// Subject attributes in order: (attribute OID, universal tag, content bytes).
    pub subject: Vec<(&'static [u8], u8, Vec<u8>)>,
    /// subjectAltName extensions, in order (more than one is invalid: RFC 5280).
    pub sans: Vec<SanExtension>,
    /// Whether the subjectAltName extensions are marked critical.
    pub critical: bool,
}

impl CertificateSpec {
    /// The certificate, DER.
    pub fn to_der(&self) -> Vec<u8> {
        let cn = |text: &[u8]| seq(&[OID_COMMON_NAME.to_vec(), tlv(tag::UTF8, text)]);
        let issuer = seq(&[set(&[cn(b"sslbridge fuzz issuer")])]);
        let subject = seq(&self
            .subject
            .iter()
            .map(|(oid, t, value)| set(&[seq(&[oid.to_vec(), tlv(*t, value)])]))
            .collect::<Vec<_>>());
        let validity = seq(&[tlv(0x17, b"250101000000Z"), tlv(0x18, b"99991231235959Z")]);
        let mut tbs = vec![
            tlv(0xa0, &tlv(0x02, &[2])), // version 3
            tlv(0x02, &[0x01]),          // serial number
            ALG_ECDSA_SHA256.to_vec(),
            issuer,
            validity,
            subject,
            SPKI_ED25519.to_vec(),
        ];
        if !self.sans.is_empty() {
            let extensions: Vec<Vec<u8>> = self
                .sans
                .iter()
                .map(|san| {
                    let value = match san {
                        SanExtension::Names(names) => {
                            seq(&names.iter().map(GeneralName::encode).collect::<Vec<_>>())
                        }
                        SanExtension::Raw(raw) => raw.clone(),
                    };
                    let mut ext = vec![OID_SUBJECT_ALT_NAME.to_vec()];
                    if self.critical {
                        ext.push(tlv(0x01, &[0xff]));
                    }
                    ext.push(tlv(0x04, &value));
                    seq(&ext)
                })
                .collect();
            tbs.push(tlv(0xa3, &seq(&extensions)));
        }
        // A placeholder ECDSA signature: SEQUENCE { INTEGER 1, INTEGER 1 }.
        let signature = tlv(
            0x03,
            &[0x00, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
        );
        seq(&[seq(&tbs), ALG_ECDSA_SHA256.to_vec(), signature])
    }
}

/// `text` in a name attribute of type `t`: UCS-2 or UCS-4 for BMPString and UniversalString
/// (from the UTF-8 text, lossily), the bytes as given for every other type.
pub fn string_content(t: u8, text: &[u8]) -> Vec<u8> {
    let chars = || String::from_utf8_lossy(text).into_owned();
    match t {
        tag::BMP => chars().encode_utf16().flat_map(u16::to_be_bytes).collect(),
        tag::UNIVERSAL => chars()
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect(),
        _ => text.to_vec(),
    }
}
