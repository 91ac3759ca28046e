//! The server's secret key: it seals channel credentials at rest (AES-256-GCM) and derives the
//! server's other keys (the media links' signing key). Configured, or made once in the data
//! directory, readable by its owner only.

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    hmac,
};
use seam_core::{Error, Result, ports::Vault};

/// Seals with AES-256-GCM: `v1.` + base64(nonce ‖ ciphertext ‖ tag), a fresh random nonce
/// each time. The server's other keys are derived from the same secret, never equal to it.
pub struct SealedBox {
    key: LessSafeKey,
    derivation: hmac::Key,
}

/// The label of the key that signs media links (`/media/{id}`).
pub const MEDIA_KEY_LABEL: &str = "seam media urls v1";

impl SealedBox {
    pub fn new(key: &[u8; 32]) -> anyhow::Result<SealedBox> {
        let sealing = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| anyhow::anyhow!("the credentials key is not a valid AES-256 key"))?;
        Ok(SealedBox {
            key: LessSafeKey::new(sealing),
            derivation: hmac::Key::new(hmac::HMAC_SHA256, key),
        })
    }

    /// A key for another purpose, named by `label`: HMAC-SHA256(secret key, label). Knowing it
    /// reveals neither the secret key nor the keys of other labels.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let mut derived = [0u8; 32];
        derived.copy_from_slice(hmac::sign(&self.derivation, label.as_bytes()).as_ref());
        derived
    }
}

const SEALED_PREFIX: &str = "v1.";

impl Vault for SealedBox {
    fn seal(&self, plain: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed,
            )
            .map_err(|_| Error::internal("sealing credentials failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    fn open(&self, sealed: &str) -> Result<Vec<u8>> {
        let unreadable = || {
            Error::internal(
                "channel credentials cannot be opened with this server's key (was the secret \
                 key changed?)",
            )
        };
        let bytes = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|text| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(text)
                    .ok()
            })
            .ok_or_else(unreadable)?;
        if bytes.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
        let mut buffer = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut buffer)
            .map_err(|_| unreadable())?;
        Ok(plain.to_vec())
    }
}

/// The credentials key: the configured one (32 bytes as 64 hex digits or base64), else the
/// key file in the data directory, made on first start and readable by its owner only.
pub fn load_key(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<SealedBox> {
    if let Some(text) = configured {
        return SealedBox::new(
            &parse_key(text.trim())
                .context("the secret key must be 32 bytes written as 64 hex digits or in base64")?,
        );
    }
    let path = data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => SealedBox::new(
            &parse_key(text.trim())
                .with_context(|| format!("{} does not hold a 32-byte key", path.display()))?,
        ),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
            write_private(&path, &hex::encode(key))
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "made a new key for channel credentials");
            SealedBox::new(&key)
        }
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(text)?
    } else {
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
        ];
        let trimmed = text.trim_end_matches('=');
        engines
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .or_else(|| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(trimmed)
                    .ok()
            })
            .or_else(|| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(trimmed)
                    .ok()
            })
            .unwrap_or_default()
    };
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(key) => Ok(key),
        Err(_) => bail!("not 32 bytes"),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_credentials_open_with_the_same_key_only() {
        let sealed_box = SealedBox::new(&[7u8; 32]).unwrap();
        let sealed = sealed_box.seal(br#"{"access_token":"EAAB"}"#).unwrap();
        assert!(!sealed.contains("EAAB"));
        assert_eq!(
            sealed_box.open(&sealed).unwrap(),
            br#"{"access_token":"EAAB"}"#
        );
        assert_ne!(
            sealed,
            sealed_box.seal(br#"{"access_token":"EAAB"}"#).unwrap()
        );
        let other = SealedBox::new(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed).is_err());
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealed_box.open(&altered).is_err());
    }

    #[test]
    fn derived_keys_differ_by_label_and_from_the_secret_key() {
        let secret = [7u8; 32];
        let sealed_box = SealedBox::new(&secret).unwrap();
        let media = sealed_box.derive(MEDIA_KEY_LABEL);
        assert_eq!(
            media,
            SealedBox::new(&secret).unwrap().derive(MEDIA_KEY_LABEL)
        );
        assert_ne!(media, secret);
        assert_ne!(media, sealed_box.derive("another purpose"));
        assert_ne!(
            media,
            SealedBox::new(&[8u8; 32]).unwrap().derive(MEDIA_KEY_LABEL)
        );
    }

    #[test]
    fn the_key_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("seam-key-{}", uuid::Uuid::now_v7()));
        let first = load_key(None, &dir).unwrap();
        let sealed = first.seal(b"token").unwrap();
        let again = load_key(None, &dir).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), b"token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o077,
                0,
                "the key file is readable by its owner only"
            );
        }
        let hex_key = "11".repeat(32);
        assert!(load_key(Some(&hex_key), &dir).is_ok());
        assert!(load_key(Some("too-short"), &dir).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
