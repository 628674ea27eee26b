//! Signing keys for tokens: PEM (or base64 of PEM, go-micro's form, or a file path) read into
//! ring's verifiers and signers. The algorithm follows the key, never the token.

use std::path::Path;

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};

use super::ID;
use crate::error::{Error, Result};

/// A token signing algorithm, fixed by the configured key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (go-micro's keys).
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519 (what `micro auth keys` makes).
    EdDsa,
}

impl Algorithm {
    /// The JWT `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Es256 => "ES256",
            Algorithm::EdDsa => "EdDSA",
        }
    }
}

/// A public key: checks signatures.
#[derive(Clone, Debug)]
pub(crate) struct Verifier {
    pub(crate) algorithm: Algorithm,
    /// PKCS#1 `RSAPublicKey`, an uncompressed P-256 point, or 32 Ed25519 bytes.
    key: Vec<u8>,
}

impl Verifier {
    pub(crate) fn same(&self, other: &Verifier) -> bool {
        self.algorithm == other.algorithm && self.key == other.key
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let alg: &dyn signature::VerificationAlgorithm = match self.algorithm {
            Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::EdDsa => &signature::ED25519,
        };
        signature::UnparsedPublicKey::new(alg, &self.key)
            .verify(message, signature)
            .is_ok()
    }
}

/// A private key: signs tokens.
pub(crate) enum Signer {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.algorithm().name())
    }
}

impl Signer {
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Signer::Rsa(_) => Algorithm::Rs256,
            Signer::Ecdsa(_) => Algorithm::Es256,
            Signer::Ed25519(_) => Algorithm::EdDsa,
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = |_| Error::internal(ID, "signing the token failed");
        match self {
            Signer::Rsa(key) => {
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut out,
                )
                .map_err(failed)?;
                Ok(out)
            }
            Signer::Ecdsa(key) => Ok(key
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Signer::Ed25519(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }

    /// The verifier of this key's signatures.
    pub(crate) fn verifier(&self) -> Verifier {
        let (algorithm, key) = match self {
            Signer::Rsa(k) => (Algorithm::Rs256, k.public().as_ref().to_vec()),
            Signer::Ecdsa(k) => (Algorithm::Es256, k.public_key().as_ref().to_vec()),
            Signer::Ed25519(k) => (Algorithm::EdDsa, k.public_key().as_ref().to_vec()),
        };
        Verifier { algorithm, key }
    }
}

/// The PEM text a setting gives: PEM itself, base64 of PEM (go-micro's
/// `MICRO_AUTH_PUBLIC_KEY`), or the path of a PEM file.
fn pem_text(setting: &str, value: &str) -> Result<Vec<u8>> {
    let value = value.trim();
    if value.starts_with("-----BEGIN") {
        return Ok(value.as_bytes().to_vec());
    }
    let path = Path::new(value);
    if path.is_file() {
        return std::fs::read(path).map_err(|e| {
            Error::bad_request(
                ID,
                format!("{setting}: cannot read {}: {e}", path.display()),
            )
        });
    }
    match base64::engine::general_purpose::STANDARD.decode(value) {
        Ok(decoded) if decoded.starts_with(b"-----BEGIN") => Ok(decoded),
        _ => Err(Error::bad_request(
            ID,
            format!(
                "{setting} is neither PEM, base64 of PEM, nor the path of a file that exists \
                 ({} characters; the value is not shown, it may be a secret)",
                value.chars().count()
            ),
        )),
    }
}

/// A public key from a setting: `PUBLIC KEY` (RSA, P-256 or Ed25519) or `RSA PUBLIC KEY`.
pub(crate) fn public_key(setting: &str, value: &str) -> Result<Verifier> {
    let pem = pem_text(setting, value)?;
    let bad = |what: String| Error::bad_request(ID, format!("{setting}: {what}"));
    if let Ok(spki) = SubjectPublicKeyInfoDer::from_pem_slice(&pem) {
        return spki_key(&spki).map_err(bad);
    }
    if let Some(der) = pem_block(&pem, "RSA PUBLIC KEY") {
        check_rsa(&der).map_err(bad)?;
        return Ok(Verifier {
            algorithm: Algorithm::Rs256,
            key: der,
        });
    }
    Err(bad(
        "no PUBLIC KEY or RSA PUBLIC KEY block in it (is it a private key or a certificate?)"
            .into(),
    ))
}

/// A private key from a setting: PKCS#8 (RSA, P-256, Ed25519) or PKCS#1 RSA.
pub(crate) fn private_key(setting: &str, value: &str) -> Result<Signer> {
    let pem = pem_text(setting, value)?;
    let bad = |what: &str| Error::bad_request(ID, format!("{setting}: {what}"));
    let key = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|_| bad("no PRIVATE KEY or RSA PRIVATE KEY block in it"))?;
    match key {
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der())
            .map(Signer::Rsa)
            .map_err(|e| bad(&format!("not a usable RSA key ({e})"))),
        PrivateKeyDer::Pkcs8(der) => {
            let der = der.secret_pkcs8_der();
            if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
                return Ok(Signer::Ed25519(k));
            }
            if let Ok(k) = EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                der,
                &SystemRandom::new(),
            ) {
                return Ok(Signer::Ecdsa(k));
            }
            RsaKeyPair::from_pkcs8(der)
                .map(Signer::Rsa)
                .map_err(|_| bad("not an Ed25519, P-256 or RSA (2048 bits or more) PKCS#8 key"))
        }
        PrivateKeyDer::Sec1(_) => Err(bad(
            "an EC key in SEC1 form: convert it with `openssl pkcs8 -topk8 -nocrypt`",
        )),
        _ => Err(bad("an unknown kind of private key")),
    }
}

/// The DER of the first PEM block labelled `label`.
fn pem_block(pem: &[u8], label: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// The algorithm and key bytes of a `SubjectPublicKeyInfo`.
fn spki_key(spki: &[u8]) -> std::result::Result<Verifier, String> {
    let malformed = || "a malformed public key".to_string();
    let (outer, _) = der(spki, 0x30).ok_or_else(malformed)?;
    let (algorithm, rest) = der(outer, 0x30).ok_or_else(malformed)?;
    let (bits, _) = der(rest, 0x03).ok_or_else(malformed)?;
    let key = match bits.split_first() {
        Some((0, key)) => key.to_vec(),
        _ => return Err(malformed()),
    };
    let (oid, params) = der(algorithm, 0x06).ok_or_else(malformed)?;
    let algorithm = match oid {
        OID_RSA => {
            check_rsa(&key)?;
            Algorithm::Rs256
        }
        OID_ED25519 => Algorithm::EdDsa,
        OID_EC if der(params, 0x06).is_some_and(|(curve, _)| curve == OID_P256) => Algorithm::Es256,
        OID_EC => return Err("an EC key on a curve other than P-256".into()),
        _ => return Err("a public key of an unsupported kind (use RSA, P-256 or Ed25519)".into()),
    };
    Ok(Verifier { algorithm, key })
}

/// A PKCS#1 `RSAPublicKey` whose modulus has 2048 bits or more (what ring verifies; a
/// shorter one would load and then refuse every token).
fn check_rsa(key: &[u8]) -> std::result::Result<(), String> {
    let malformed = || "a malformed RSA public key".to_string();
    let (fields, _) = der(key, 0x30).ok_or_else(malformed)?;
    let (modulus, rest) = der(fields, 0x02).ok_or_else(malformed)?;
    der(rest, 0x02).ok_or_else(malformed)?;
    let significant = modulus.iter().skip_while(|b| **b == 0).count();
    if significant * 8 < 2048 {
        return Err(format!(
            "an RSA key of about {} bits: RS256 needs 2048 bits or more",
            significant * 8
        ));
    }
    Ok(())
}

/// One DER element of tag `tag` at the start of `input`: its content and what follows.
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A new Ed25519 key pair as PEM: (private PKCS#8, public SPKI).
pub fn generate_ed25519() -> Result<(String, String)> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| Error::internal(ID, "generating a key failed"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| Error::internal(ID, "generating a key failed"))?;
    // SubjectPublicKeyInfo for Ed25519: a fixed 12-byte prefix, then the 32 key bytes.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(pair.public_key().as_ref());
    Ok((pem("PRIVATE KEY", pkcs8.as_ref()), pem("PUBLIC KEY", &spki)))
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
