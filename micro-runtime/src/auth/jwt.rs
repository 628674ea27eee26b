//! The `jwt` engine: signed JSON Web Tokens (RFC 7519, compact JWS) whose algorithm is the
//! configured key's — a token naming another (`none`, `HS256` keyed with the public key) is
//! refused before its signature is looked at. `exp`, `iss` and `aud` are required and checked
//! with a small leeway; access and refresh tokens are told apart by a claim, so one cannot
//! stand for the other.
//!
//! Written over ring (already micro's TLS crypto): the JWT crates' backends are either a
//! second C crypto library (aws-lc-rs) or RustCrypto's `rsa`, which carries an unfixed
//! advisory (RUSTSEC-2023-0071); one pinned algorithm in the compact form is a page of code.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::keys::{Signer, Verifier};
use super::{Account, Auth, ID, Token};
use crate::error::{Error, Result};

/// Tokens longer than this are refused unread.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// How far clocks may disagree: a token is taken this long after `exp`, and this long
/// before `nbf`.
pub const LEEWAY: Duration = Duration::from_secs(10);

/// How long a refresh token lasts unless told otherwise.
pub const REFRESH_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// `aud` as RFC 7519 allows it: one string or several.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: Audience,
    exp: u64,
    iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    /// `access` or `refresh`.
    #[serde(rename = "use")]
    usage: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

/// The `jwt` engine: inspects tokens with a public key and, given the private key, issues
/// them.
#[derive(Debug)]
pub struct Jwt {
    verifier: Verifier,
    signer: Option<Signer>,
    issuer: String,
    audience: String,
}

impl Jwt {
    /// An engine that inspects tokens signed by `public_key` (PEM, base64 of PEM, or a
    /// file), issued by `issuer` for `audience`.
    pub fn verifying(public_key: &str, issuer: &str, audience: &str) -> Result<Jwt> {
        Ok(Jwt {
            verifier: super::keys::public_key("MICRO_AUTH_PUBLIC_KEY", public_key)?,
            signer: None,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// An engine that also issues tokens with `private_key`. Its public key is derived from
    /// it.
    pub fn signing(private_key: &str, issuer: &str, audience: &str) -> Result<Jwt> {
        let signer = super::keys::private_key("MICRO_AUTH_PRIVATE_KEY", private_key)?;
        Ok(Jwt {
            verifier: signer.verifier(),
            signer: Some(signer),
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// Whether `other` checks tokens with the same key.
    pub fn same_key(&self, other: &Jwt) -> bool {
        self.verifier.same(&other.verifier)
    }

    /// The algorithm tokens must name.
    pub fn algorithm(&self) -> super::Algorithm {
        self.verifier.algorithm
    }

    fn encode(&self, account: &Account, usage: &str, ttl: Duration) -> Result<(String, u64)> {
        let Some(signer) = &self.signer else {
            return Err(Error::internal(
                ID,
                "this process cannot issue tokens: it has no MICRO_AUTH_PRIVATE_KEY",
            ));
        };
        let now = now();
        let exp = now.saturating_add(ttl.as_secs().max(1));
        let header = Header {
            alg: signer.algorithm().name().into(),
            typ: Some("JWT".into()),
            kid: None,
        };
        let claims = Claims {
            sub: account.id.clone(),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp,
            iat: now,
            nbf: None,
            usage: usage.into(),
            kind: account.kind.clone(),
            scopes: account.scopes.clone(),
            metadata: account.metadata.clone(),
        };
        let mut token = URL_SAFE_NO_PAD.encode(to_json(&header)?);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(to_json(&claims)?));
        let signature = signer.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok((token, exp))
    }

    /// The claims of a token whose signature, algorithm, issuer, audience and times are
    /// good, and whose use is `usage`.
    fn decode(&self, token: &str, usage: &str) -> Result<Claims> {
        let refuse = |why: &str| Error::unauthorized(ID, format!("invalid token: {why}"));
        if token.len() > MAX_TOKEN_LEN {
            return Err(refuse("longer than 8 KiB"));
        }
        let mut parts = token.split('.');
        let (Some(head), Some(body), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refuse("not three dot-separated parts"));
        };
        let b64 = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| refuse("bad base64"))
        };
        let header: Header =
            serde_json::from_slice(&b64(head)?).map_err(|_| refuse("malformed header"))?;
        let alg = self.verifier.algorithm.name();
        if header.alg != alg {
            return Err(refuse(&format!(
                "signed with {:?}, and only {alg} is accepted",
                header.alg
            )));
        }
        let signed = &token[..head.len() + 1 + body.len()];
        if !self.verifier.verify(signed.as_bytes(), &b64(sig)?) {
            return Err(refuse("bad signature"));
        }
        let claims: Claims = serde_json::from_slice(&b64(body)?)
            .map_err(|e| refuse(&format!("bad claims ({e})")))?;
        let now = now();
        let leeway = LEEWAY.as_secs();
        if claims.exp.saturating_add(leeway) < now {
            return Err(refuse("expired"));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(refuse("not valid yet"));
        }
        if claims.iss != self.issuer {
            return Err(refuse(&format!(
                "issued by {:?}, not {:?}",
                claims.iss, self.issuer
            )));
        }
        let audience_ok = match &claims.aud {
            Audience::One(a) => *a == self.audience,
            Audience::Many(all) => all.contains(&self.audience),
        };
        if !audience_ok {
            return Err(refuse(&format!("not meant for {:?}", self.audience)));
        }
        if claims.usage != usage {
            return Err(refuse(&format!(
                "a {} token where a {usage} token is needed",
                claims.usage
            )));
        }
        Ok(claims)
    }

    /// The account a refresh token was issued to.
    pub fn inspect_refresh(&self, token: &str) -> Result<Account> {
        self.decode(token, REFRESH).map(account)
    }
}

fn account(c: Claims) -> Account {
    Account {
        id: c.sub,
        kind: c.kind,
        issuer: c.iss,
        scopes: c.scopes,
        metadata: c.metadata,
    }
}

impl Auth for Jwt {
    fn name(&self) -> &'static str {
        "jwt"
    }

    fn inspect(&self, token: &str) -> Result<Account> {
        self.decode(token, ACCESS).map(account)
    }

    fn inspect_until(&self, token: &str) -> Result<(Account, Option<u64>)> {
        let claims = self.decode(token, ACCESS)?;
        let until = claims.exp.saturating_add(LEEWAY.as_secs());
        Ok((account(claims), Some(until)))
    }

    fn issue(&self, account: &Account, ttl: Duration) -> Result<Token> {
        let (access_token, expiry) = self.encode(account, ACCESS, ttl)?;
        let (refresh_token, _) = self.encode(account, REFRESH, REFRESH_TTL.max(ttl))?;
        Ok(Token {
            access_token,
            refresh_token,
            created: now(),
            expiry,
        })
    }
}

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::internal(ID, format!("token JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::generate_ed25519;

    /// A test-only RSA key pair (go-micro's kind: PKCS#1 private, SPKI public).
    const RSA_PRIVATE: &str = include_str!("testdata/rsa.pem");
    const RSA_PUBLIC: &str = include_str!("testdata/rsa.pub");

    fn ed25519() -> (Jwt, String) {
        let (private, public) = generate_ed25519().unwrap();
        (Jwt::signing(&private, "micro", "micro").unwrap(), public)
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    /// A token with any header and claims, signed by `jwt`'s key.
    fn forge(jwt: &Jwt, header: serde_json::Value, claims: serde_json::Value) -> String {
        let signed = format!("{}.{}", b64(&header), b64(&claims));
        let sig = jwt
            .signer
            .as_ref()
            .unwrap()
            .sign(signed.as_bytes())
            .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn claims(exp: u64) -> serde_json::Value {
        serde_json::json!({
            "sub": "ada", "iss": "micro", "aud": "micro", "exp": exp, "iat": now(),
            "use": "access", "type": "user", "scopes": ["admin"],
        })
    }

    fn refused(jwt: &Jwt, token: &str, why: &str) {
        let err = jwt.inspect(token).expect_err("the token must be refused");
        assert_eq!(err.code(), 401, "{err}");
        assert!(err.detail().contains(why), "{why:?} not in {err}");
    }

    #[test]
    fn every_key_kind_issues_and_checks() {
        let p256 = rcgen::KeyPair::generate().unwrap();
        let engines = [
            Jwt::signing(RSA_PRIVATE, "micro", "micro").unwrap(),
            Jwt::signing(&p256.serialize_pem(), "micro", "micro").unwrap(),
            ed25519().0,
        ];
        let algs: Vec<_> = engines.iter().map(|j| j.algorithm().name()).collect();
        assert_eq!(algs, ["RS256", "ES256", "EdDSA"]);
        for jwt in engines {
            let token = jwt
                .issue(&Account::new("ada", ["admin"]), Duration::from_secs(60))
                .unwrap();
            let account = jwt.inspect(&token.access_token).unwrap();
            assert_eq!(
                (account.id.as_str(), account.scopes.as_slice()),
                ("ada", &["admin".to_string()][..])
            );
            assert_eq!(jwt.inspect_refresh(&token.refresh_token).unwrap().id, "ada");
        }
    }

    #[test]
    fn a_public_key_checks_what_its_private_key_issued() {
        let issuer = Jwt::signing(RSA_PRIVATE, "micro", "micro").unwrap();
        let checker = Jwt::verifying(RSA_PUBLIC, "micro", "micro").unwrap();
        let token = issuer
            .issue(&Account::new("ada", ["x"]), Duration::from_secs(60))
            .unwrap();
        assert_eq!(checker.inspect(&token.access_token).unwrap().id, "ada");
        // base64 of PEM, as go-micro's MICRO_AUTH_PUBLIC_KEY carries it.
        let b64 = base64::engine::general_purpose::STANDARD.encode(RSA_PUBLIC);
        let checker = Jwt::verifying(&b64, "micro", "micro").unwrap();
        assert!(checker.inspect(&token.access_token).is_ok());
        // Only the private key issues.
        let err = checker
            .issue(&Account::new("ada", ["x"]), Duration::from_secs(60))
            .unwrap_err();
        assert!(err.detail().contains("MICRO_AUTH_PRIVATE_KEY"), "{err}");
    }

    #[test]
    fn alg_none_is_refused() {
        let (jwt, _) = ed25519();
        let token = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none"})),
            b64(&claims(now() + 60))
        );
        refused(&jwt, &token, "\"none\"");
        let token = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "EdDSA"})),
            b64(&claims(now() + 60))
        );
        refused(&jwt, &token, "bad signature");
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_refused() {
        let jwt = Jwt::verifying(RSA_PUBLIC, "micro", "micro").unwrap();
        let signed = format!(
            "{}.{}",
            b64(&serde_json::json!({"alg": "HS256", "typ": "JWT"})),
            b64(&claims(now() + 60))
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, RSA_PUBLIC.as_bytes());
        let tag = ring::hmac::sign(&key, signed.as_bytes());
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        refused(&jwt, &token, "only RS256 is accepted");
    }

    #[test]
    fn expiry_is_checked_with_a_small_leeway() {
        let (jwt, _) = ed25519();
        let header = serde_json::json!({"alg": "EdDSA"});
        refused(
            &jwt,
            &forge(&jwt, header.clone(), claims(now() - 3600)),
            "expired",
        );
        refused(
            &jwt,
            &forge(&jwt, header.clone(), claims(now() - LEEWAY.as_secs() - 5)),
            "expired",
        );
        assert!(
            jwt.inspect(&forge(&jwt, header.clone(), claims(now() - 2)))
                .is_ok()
        );
        let mut future = claims(now() + 60);
        future["nbf"] = (now() + 3600).into();
        refused(&jwt, &forge(&jwt, header, future), "not valid yet");
    }

    #[test]
    fn issuer_audience_and_use_must_match() {
        let (jwt, _) = ed25519();
        let header = serde_json::json!({"alg": "EdDSA"});
        let mut c = claims(now() + 60);
        c["aud"] = "billing".into();
        refused(&jwt, &forge(&jwt, header.clone(), c), "not meant for");
        let mut c = claims(now() + 60);
        c["aud"] = serde_json::json!(["billing", "micro"]);
        assert!(jwt.inspect(&forge(&jwt, header.clone(), c)).is_ok());
        let mut c = claims(now() + 60);
        c["iss"] = "evil".into();
        refused(&jwt, &forge(&jwt, header.clone(), c), "issued by");
        let token = jwt
            .issue(&Account::new("ada", ["x"]), Duration::from_secs(60))
            .unwrap();
        refused(
            &jwt,
            &token.refresh_token,
            "a refresh token where a access token",
        );
        assert!(jwt.inspect_refresh(&token.access_token).is_err());
    }

    #[test]
    fn a_tampered_payload_or_another_key_is_refused() {
        let (jwt, _) = ed25519();
        let token = jwt
            .issue(&Account::new("ada", ["reader"]), Duration::from_secs(60))
            .unwrap()
            .access_token;
        let parts: Vec<&str> = token.split('.').collect();
        let mut body: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        body["scopes"] = serde_json::json!(["admin"]);
        let tampered = format!("{}.{}.{}", parts[0], b64(&body), parts[2]);
        refused(&jwt, &tampered, "bad signature");
        let (other, _) = ed25519();
        refused(&other, &token, "bad signature");
    }

    #[test]
    fn claims_of_the_wrong_type_or_missing_are_refused() {
        let (jwt, _) = ed25519();
        let header = serde_json::json!({"alg": "EdDSA"});
        let mut c = claims(0);
        c["exp"] = "never".into();
        refused(&jwt, &forge(&jwt, header.clone(), c), "bad claims");
        let mut c = claims(now() + 60);
        c.as_object_mut().unwrap().remove("exp");
        refused(&jwt, &forge(&jwt, header.clone(), c), "bad claims");
        let crit = serde_json::json!({"alg": "EdDSA", "crit": ["exp"]});
        refused(
            &jwt,
            &forge(&jwt, crit, claims(now() + 60)),
            "malformed header",
        );
    }

    #[test]
    fn garbage_is_refused_without_a_panic() {
        let (jwt, _) = ed25519();
        for token in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "e30.e30.",
            &"a".repeat(MAX_TOKEN_LEN + 1),
            "ÿ.ÿ.ÿ",
        ] {
            assert_eq!(jwt.inspect(token).unwrap_err().code(), 401, "{token:?}");
        }
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        let err = Jwt::verifying("not a key", "micro", "micro").unwrap_err();
        assert!(
            err.detail()
                .contains("MICRO_AUTH_PUBLIC_KEY is neither PEM"),
            "{err}"
        );
        let err = Jwt::verifying(RSA_PRIVATE, "micro", "micro").unwrap_err();
        assert!(err.detail().contains("is it a private key"), "{err}");
        let err = Jwt::signing(RSA_PUBLIC, "micro", "micro").unwrap_err();
        assert!(err.detail().contains("no PRIVATE KEY"), "{err}");
        // A short RSA key is refused when it loads, not by every token later.
        let short = "-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCzILPJoNufoREVZnaq/g9kJnz5\nhKm8Sj2qgIYHBBPVviPWPD/YW5M3xzaN/8tn24ckBa/DzRAjdiPsj0n3nJLhuKjj\nW1nE2aw89xrjm+pZdWih0NejfSSrWfVusyPjE7Cl/aYRSG9yH5hC2YmP93o9xng1\nCxCoa9KSJIImQ7V//wIDAQAB\n-----END PUBLIC KEY-----";
        let err = Jwt::verifying(short, "micro", "micro").unwrap_err();
        assert!(err.detail().contains("2048 bits"), "{err}");
    }
}
