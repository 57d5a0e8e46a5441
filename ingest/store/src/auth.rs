//! Secrets as the store keeps them: random tokens shown once and kept as SHA-256 hashes, passwords as
//! Argon2id hashes, and a fixed dummy hash so that checking an unknown name costs what checking a
//! known one does.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// How long an API token is valid after it is issued or rotated.
pub const TOKEN_DAYS: i64 = 365;

/// The shortest password accepted.
const MIN_PASSWORD_CHARS: usize = 8;

/// 256 random bits, hex, with a prefix that says what the token is for.
pub fn random_token(prefix: &str) -> Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| Error::Unavailable(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}_{}", hex(&raw)))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Argon2id hash of a password, refusing one that is too short.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Input(format!("mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự")));
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| Error::Unavailable(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&raw).map_err(|e| Error::Unavailable(e.to_string()))?;
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Unavailable(e.to_string()))?
        .to_string())
}

/// Whether `password` matches `hash`; with no hash (unknown user, no password set) a dummy hash is
/// verified instead and the answer is false, so both paths cost one Argon2 verification.
pub(crate) fn verify_password(hash: Option<&str>, password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"pbgdpl-dummy-salt").expect("a fixed 17-byte salt encodes");
        argon2::Argon2::default()
            .hash_password(b"not a password anyone has", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let (candidate, real) = match hash {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let ok = PasswordHash::new(candidate)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_the_dummy_never_matches() {
        let h = hash_password("mật-khẩu-dài").unwrap();
        assert!(verify_password(Some(&h), "mật-khẩu-dài"));
        assert!(!verify_password(Some(&h), "sai"));
        assert!(!verify_password(None, "not a password anyone has"));
        assert!(hash_password("ngắn").is_err());
        assert_ne!(random_token("x").unwrap(), random_token("x").unwrap());
    }
}
