//! DKIM signing keys: RSA (PKCS#1 or PKCS#8 PEM) or Ed25519 (PKCS#8 PEM, or the raw seed in
//! base64), turned into lettre's signer. The key is checked when loaded, so a bad key is a clear
//! error and never a panic while signing.

use base64::{Engine, engine::general_purpose::STANDARD};
use lettre::message::{
    dkim::{
        DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
        DkimSigningKey,
    },
    header::HeaderName,
};

use super::RenderError;

/// A channel's DKIM key. The private key is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKey {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`): the key is published at `<selector>._domainkey.<domain>`.
    pub selector: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKey")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// Headers covered by the signature, when present.
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Auto-Submitted",
];

/// RSA keys shorter than this are refused (RFC 8301).
const MIN_RSA_BITS: usize = 1024;

const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const ED25519_OID: &[u8] = &[0x2b, 0x65, 0x70];

pub(super) struct Signer {
    domain: String,
    selector: String,
    key: LoadedKey,
}

enum LoadedKey {
    /// PKCS#1 PEM, as lettre reads it.
    Rsa(String),
    /// The 32-byte seed in base64, as lettre reads it.
    Ed25519(String),
}

impl Signer {
    pub(super) fn load(key: &DkimKey) -> Result<Self, RenderError> {
        let domain = key.domain.trim().to_ascii_lowercase();
        let selector = key.selector.trim().to_ascii_lowercase();
        let label_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        };
        if !label_ok(&domain) || !label_ok(&selector) {
            return Err(RenderError::DkimKey(
                "the domain and selector must be DNS names".to_owned(),
            ));
        }
        let key = load_key(&key.private_key_pem)?;
        // Build lettre's key once here, so signing later cannot fail.
        lettre_key(&key)?;
        Ok(Self {
            domain,
            selector,
            key,
        })
    }

    pub(super) fn sign(&self, message: &mut lettre::Message) {
        let Ok(private_key) = lettre_key(&self.key) else {
            return;
        };
        let headers: Vec<HeaderName> = SIGNED_HEADERS
            .iter()
            .filter(|name| message.headers().get_raw(name).is_some())
            .map(|name| HeaderName::new_from_ascii_str(name))
            .collect();
        let config = DkimConfig::new(
            self.selector.clone(),
            self.domain.clone(),
            private_key,
            headers,
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        );
        message.sign(&config);
    }
}

fn lettre_key(key: &LoadedKey) -> Result<DkimSigningKey, RenderError> {
    let (text, algorithm) = match key {
        LoadedKey::Rsa(pem) => (pem.as_str(), DkimSigningAlgorithm::Rsa),
        LoadedKey::Ed25519(seed) => (seed.as_str(), DkimSigningAlgorithm::Ed25519),
    };
    DkimSigningKey::new(text, algorithm)
        .map_err(|error| RenderError::DkimKey(format!("the private key is invalid ({error})")))
}

fn load_key(text: &str) -> Result<LoadedKey, RenderError> {
    let text = text.trim();
    if !text.contains("-----BEGIN") {
        // lettre's own Ed25519 form: the seed in base64.
        let seed = STANDARD
            .decode(text.split_whitespace().collect::<String>())
            .map_err(|_| invalid("not a PEM private key"))?;
        if seed.len() != 32 {
            return Err(invalid("not a PEM private key"));
        }
        return Ok(LoadedKey::Ed25519(STANDARD.encode(seed)));
    }
    let (label, der) = pem_decode(text)?;
    match label.as_str() {
        "RSA PRIVATE KEY" => {
            check_rsa_size(&der)?;
            Ok(LoadedKey::Rsa(pem_encode("RSA PRIVATE KEY", &der)))
        }
        "PRIVATE KEY" => pkcs8(&der),
        "ENCRYPTED PRIVATE KEY" => Err(invalid(
            "the key is encrypted; give it without a passphrase",
        )),
        other => Err(invalid(&format!("unsupported PEM type \"{other}\""))),
    }
}

fn invalid(reason: &str) -> RenderError {
    RenderError::DkimKey(reason.to_owned())
}

/// PKCS#8 `PrivateKeyInfo`: version, algorithm identifier, the key in an OCTET STRING.
fn pkcs8(der: &[u8]) -> Result<LoadedKey, RenderError> {
    let malformed = || invalid("malformed PKCS#8 key");
    let (info, _) = der_read(der, 0x30).ok_or_else(malformed)?;
    let (_version, rest) = der_read(info, 0x02).ok_or_else(malformed)?;
    let (algorithm, rest) = der_read(rest, 0x30).ok_or_else(malformed)?;
    let (oid, _) = der_read(algorithm, 0x06).ok_or_else(malformed)?;
    let (private_key, _) = der_read(rest, 0x04).ok_or_else(malformed)?;
    if oid == RSA_ENCRYPTION_OID {
        check_rsa_size(private_key)?;
        Ok(LoadedKey::Rsa(pem_encode("RSA PRIVATE KEY", private_key)))
    } else if oid == ED25519_OID {
        let (seed, _) = der_read(private_key, 0x04).ok_or_else(malformed)?;
        if seed.len() != 32 {
            return Err(malformed());
        }
        Ok(LoadedKey::Ed25519(STANDARD.encode(seed)))
    } else {
        Err(invalid("only RSA and Ed25519 keys can sign DKIM"))
    }
}

/// PKCS#1 `RSAPrivateKey` starts with the version and the modulus.
fn check_rsa_size(der: &[u8]) -> Result<(), RenderError> {
    let malformed = || invalid("malformed RSA key");
    let (key, _) = der_read(der, 0x30).ok_or_else(malformed)?;
    let (_version, rest) = der_read(key, 0x02).ok_or_else(malformed)?;
    let (modulus, _) = der_read(rest, 0x02).ok_or_else(malformed)?;
    let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
    if significant * 8 < MIN_RSA_BITS {
        return Err(invalid(&format!(
            "RSA keys need at least {MIN_RSA_BITS} bits"
        )));
    }
    Ok(())
}

/// One DER element of the expected tag: its contents and what follows it.
fn der_read(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, byte| (length << 8) | *byte as usize);
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

fn pem_decode(text: &str) -> Result<(String, Vec<u8>), RenderError> {
    let malformed = || invalid("malformed PEM");
    let begin = text.find("-----BEGIN ").ok_or_else(malformed)?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----").ok_or_else(malformed)?;
    let label = after_begin[..label_end].trim().to_owned();
    let body_start = &after_begin[label_end + 5..];
    let end = body_start
        .find(&format!("-----END {label}-----"))
        .ok_or_else(malformed)?;
    let body: String = body_start[..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body).map_err(|_| malformed())?;
    Ok((label, der))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}
