//! The issuer's minisign key pair.
//!
//! Key files use minisign's own text formats, so the public key file works
//! as-is with `minisign -V -p issuer.pub` and the secret key file is
//! encrypted the way `minisign -G` encrypts one (scrypt, then XOR, with a
//! BLAKE2b checksum that tells a wrong passphrase from a damaged file).
//! The scrypt cost is minisign's fixed one (about a tenth of a second to a
//! second); the crate offers no cheaper setting, so tests pay it too.
//!
//! Where the passphrase comes from (`TIAKI_ISSUER_PASSPHRASE`, a terminal) is
//! the caller's business: this module never prompts and never reads the
//! environment.

use std::fmt;

use minisign::{ErrorKind, PError, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox};

/// Untrusted comment of the secret key file.
const SECRET_KEY_COMMENT: &str =
    "tiaki issuer secret key (minisign, encrypted with the issuer passphrase)";

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// An empty passphrase would leave the secret key effectively unprotected.
    #[error("the issuer passphrase is empty")]
    EmptyPassphrase,
    /// The passphrase does not decrypt this secret key.
    #[error("wrong passphrase for the issuer secret key (or the key file is damaged)")]
    WrongPassphrase,
    /// The secret key file is not a minisign encrypted secret key.
    #[error("not a minisign encrypted secret key file: {0}")]
    BadSecretKey(String),
    /// The public key text is not a minisign public key.
    #[error("not a minisign public key: {0}")]
    BadPublicKey(String),
    /// The secret key's public half does not match the stored public key.
    #[error("the issuer public key does not belong to the secret key")]
    Mismatch,
    /// Key generation or signing failed inside minisign (random source, KDF).
    #[error("minisign: {0}")]
    Minisign(String),
    /// A signature of a message ([`IssuerPublicKey::verify_message`]) that is
    /// malformed, by another key, or not of this message.
    #[error("the signature does not verify: {0}")]
    BadSignature(String),
}

fn minisign_error(e: &PError) -> KeyError {
    KeyError::Minisign(e.to_string())
}

/// The two key files a new data directory stores.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedKeyFiles {
    /// Content of `issuer.pub`: `untrusted comment: …` line and base64 key.
    pub public_key: String,
    /// Content of `issuer.key`: the passphrase-encrypted secret key.
    pub secret_key: String,
}

impl fmt::Debug for GeneratedKeyFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret file is encrypted, but it still has no business in logs.
        f.debug_struct("GeneratedKeyFiles")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// A minisign public key, the only thing a recipient needs to verify.
#[derive(Clone)]
pub struct IssuerPublicKey {
    pub(crate) key: PublicKey,
}

impl IssuerPublicKey {
    /// Reads the content of a minisign `.pub` file, or the bare base64 line
    /// (`minisign -P` form).
    pub fn from_text(text: &str) -> Result<IssuerPublicKey, KeyError> {
        let text = text.trim_start_matches('\u{feff}');
        let key = if text.trim_start().starts_with("untrusted comment:") {
            PublicKeyBox::from_string(text).and_then(PublicKeyBox::into_public_key)
        } else {
            PublicKey::from_base64(text.trim())
        }
        .map_err(|e| KeyError::BadPublicKey(e.to_string()))?;
        Ok(IssuerPublicKey { key })
    }

    /// The `.pub` file content, as `minisign -G` writes it.
    pub fn to_text(&self) -> Result<String, KeyError> {
        self.key
            .to_box()
            .map(PublicKeyBox::into_string)
            .map_err(|e| minisign_error(&e))
    }

    /// The key id as minisign prints it (16 upper-case hex digits).
    pub fn key_id(&self) -> String {
        key_id(self.key.keynum())
    }

    /// Checks `signature` (`.minisig` text made by
    /// [`IssuerKeys::sign_message`], or by `minisign -S` on a file holding
    /// `message`) against `message`, and returns its trusted comment.
    pub fn verify_message(&self, message: &[u8], signature: &str) -> Result<String, KeyError> {
        let sig = minisign::SignatureBox::from_string(signature)
            .map_err(|e| KeyError::BadSignature(e.to_string()))?;
        if sig.keynum() != self.key.keynum() {
            return Err(KeyError::BadSignature(format!(
                "made by key {}, not {}",
                key_id(sig.keynum()),
                self.key_id()
            )));
        }
        minisign::verify(
            &self.key,
            &sig,
            std::io::Cursor::new(message),
            true,
            false,
            false,
        )
        .map_err(|e| KeyError::BadSignature(e.to_string()))?;
        sig.trusted_comment()
            .map_err(|e| KeyError::BadSignature(e.to_string()))
    }
}

impl fmt::Debug for IssuerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerPublicKey({})", self.key_id())
    }
}

/// minisign shows the little-endian 8-byte key number as one hex integer.
pub(crate) fn key_id(keynum: &[u8]) -> String {
    let mut big_endian = keynum.to_vec();
    big_endian.reverse();
    tiaki_types::hex::encode_upper(&big_endian)
}

/// The issuer's decrypted key pair, able to sign packages.
pub struct IssuerKeys {
    pub(crate) public: IssuerPublicKey,
    pub(crate) secret: SecretKey,
}

impl fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // minisign's own Debug for SecretKey prints the key bytes.
        write!(f, "IssuerKeys({})", self.public.key_id())
    }
}

impl IssuerKeys {
    /// Makes a new key pair and returns its two files, the secret one
    /// encrypted with `passphrase`.
    pub fn generate(passphrase: &str) -> Result<GeneratedKeyFiles, KeyError> {
        if passphrase.is_empty() {
            return Err(KeyError::EmptyPassphrase);
        }
        let pair = minisign::KeyPair::generate_encrypted_keypair(Some(passphrase.to_owned()))
            .map_err(|e| minisign_error(&e))?;
        let public_key = pair
            .pk
            .to_box()
            .map(PublicKeyBox::into_string)
            .map_err(|e| minisign_error(&e))?;
        let secret_key = pair
            .sk
            .to_box(Some(SECRET_KEY_COMMENT))
            .map(SecretKeyBox::into_string)
            .map_err(|e| minisign_error(&e))?;
        Ok(GeneratedKeyFiles {
            public_key,
            secret_key,
        })
    }

    /// Decrypts the secret key file content with `passphrase`.
    pub fn load_secret(secret_key_text: &str, passphrase: &str) -> Result<IssuerKeys, KeyError> {
        if passphrase.is_empty() {
            return Err(KeyError::EmptyPassphrase);
        }
        let text = secret_key_text.trim_start_matches('\u{feff}');
        if !text.starts_with("untrusted comment:") || text.lines().count() < 2 {
            return Err(KeyError::BadSecretKey(
                "expected an `untrusted comment:` line followed by the base64 key".into(),
            ));
        }
        let secret = SecretKey::from_box(
            SecretKeyBox::from_string(text).map_err(|e| KeyError::BadSecretKey(e.to_string()))?,
            Some(passphrase.to_owned()),
        )
        .map_err(|e| match e.kind() {
            // minisign reports a checksum mismatch after decryption as Verify;
            // everything else is a malformed or unsupported file.
            ErrorKind::Verify => KeyError::WrongPassphrase,
            ErrorKind::KDF | ErrorKind::RNG => minisign_error(&e),
            _ => KeyError::BadSecretKey(e.to_string()),
        })?;
        let key = PublicKey::from_secret_key(&secret).map_err(|e| minisign_error(&e))?;
        Ok(IssuerKeys {
            public: IssuerPublicKey { key },
            secret,
        })
    }

    /// Like [`IssuerKeys::load_secret`], and checks that the stored public key
    /// file belongs to it (a data directory whose two files got mixed up).
    pub fn load(
        secret_key_text: &str,
        public_key_text: &str,
        passphrase: &str,
    ) -> Result<IssuerKeys, KeyError> {
        let keys = IssuerKeys::load_secret(secret_key_text, passphrase)?;
        let stored = IssuerPublicKey::from_text(public_key_text)?;
        if stored.key.to_bytes() != keys.public.key.to_bytes() {
            return Err(KeyError::Mismatch);
        }
        Ok(keys)
    }

    /// The public half.
    pub fn public_key(&self) -> &IssuerPublicKey {
        &self.public
    }

    /// The `.pub` file content (what `tiaki keys issuer` prints).
    pub fn public_key_text(&self) -> Result<String, KeyError> {
        self.public.to_text()
    }

    /// Signs a short message (not a file: an audit checkpoint, say) the way
    /// `minisign -S` signs a file holding it, with these comments, and
    /// returns the `.minisig` text. [`IssuerPublicKey::verify_message`]
    /// checks it.
    pub fn sign_message(
        &self,
        message: &[u8],
        untrusted_comment: &str,
        trusted_comment: &str,
    ) -> Result<String, KeyError> {
        let sig = minisign::sign(
            Some(&self.public.key),
            &self.secret,
            message,
            Some(trusted_comment),
            Some(untrusted_comment),
        )
        .map_err(|e| minisign_error(&e))?;
        Ok(sig.into_string())
    }

    /// Signs `data` the way `minisign -S` does (prehashed, BLAKE2b-512), and
    /// returns the `.minisig` file content.
    pub(crate) fn sign(
        &self,
        data: impl std::io::Read,
        trusted_comment: &str,
    ) -> Result<String, KeyError> {
        let sig = minisign::sign(
            Some(&self.public.key),
            &self.secret,
            data,
            Some(trusted_comment),
            Some(crate::verify::UNTRUSTED_COMMENT),
        )
        .map_err(|e| minisign_error(&e))?;
        Ok(sig.into_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_load_and_wrong_passphrase() {
        let files = IssuerKeys::generate("correct horse").unwrap();
        assert!(
            files
                .public_key
                .starts_with("untrusted comment: minisign public key")
        );
        let keys = IssuerKeys::load(&files.secret_key, &files.public_key, "correct horse").unwrap();
        assert_eq!(keys.public_key_text().unwrap(), files.public_key);
        let from_text = IssuerPublicKey::from_text(&files.public_key).unwrap();
        assert_eq!(from_text.key_id(), keys.public_key().key_id());
        // The bare base64 line works too.
        let line = files.public_key.lines().nth(1).unwrap();
        assert_eq!(
            IssuerPublicKey::from_text(line).unwrap().key_id(),
            from_text.key_id()
        );

        assert!(matches!(
            IssuerKeys::load_secret(&files.secret_key, "wrong"),
            Err(KeyError::WrongPassphrase)
        ));
        assert!(matches!(
            IssuerKeys::load_secret(&files.secret_key, ""),
            Err(KeyError::EmptyPassphrase)
        ));
        assert!(matches!(
            IssuerKeys::load_secret("garbage", "x"),
            Err(KeyError::BadSecretKey(_))
        ));
        assert!(matches!(
            IssuerKeys::load_secret("untrusted comment: x\nnot base64!!\n", "x"),
            Err(KeyError::BadSecretKey(_))
        ));
        assert!(matches!(
            IssuerPublicKey::from_text("untrusted comment: x\nAAAA\n"),
            Err(KeyError::BadPublicKey(_))
        ));
        let other = IssuerKeys::generate("p").unwrap();
        assert!(matches!(
            IssuerKeys::load(&files.secret_key, &other.public_key, "correct horse"),
            Err(KeyError::Mismatch)
        ));
        assert!(!format!("{keys:?}").contains(&files.secret_key));

        // Messages: signed, verified, and refused when changed or by another key.
        let sig = keys.sign_message(b"seq=3", "u", "t seq=3").unwrap();
        assert_eq!(from_text.verify_message(b"seq=3", &sig).unwrap(), "t seq=3");
        assert!(matches!(
            from_text.verify_message(b"seq=4", &sig),
            Err(KeyError::BadSignature(_))
        ));
        let other_keys = IssuerKeys::load_secret(&other.secret_key, "p").unwrap();
        let forged = other_keys.sign_message(b"seq=3", "u", "t seq=3").unwrap();
        assert!(matches!(
            from_text.verify_message(b"seq=3", &forged),
            Err(KeyError::BadSignature(_))
        ));
        assert!(matches!(
            from_text.verify_message(b"seq=3", "garbage"),
            Err(KeyError::BadSignature(_))
        ));
    }
}
