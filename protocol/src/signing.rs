//! Node keys, the canonical encoding of an event, and ed25519 signatures over it.
//!
//! The canonical encoding is the envelope without its `sig` field, as JSON with object keys
//! sorted bytewise at every level and no whitespace, prefixed by a domain-separation tag.
//! It does not depend on serde_json's map ordering features, so every build of every
//! component produces the same bytes for the same event.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;

/// Domain-separation prefix of the signed bytes, so a signature over an event can never be
/// replayed as a signature over anything else.
pub const SIGNING_CONTEXT: &[u8] = b"checkup-edge/event\n";

/// A node's private signing key. Its `Debug` never prints the secret.
#[derive(Clone)]
pub struct NodeKey(SigningKey);

/// A node's public key, as enrolled at central and at its peers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub(crate) VerifyingKey);

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeKey(public={})", self.verifying_key().to_base64())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl NodeKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        // The OS random source failing is not recoverable for key generation.
        getrandom::fill(&mut seed).expect("operating system random source unavailable");
        NodeKey(SigningKey::from_bytes(&seed))
    }

    /// Restore a key from its 32 secret bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        NodeKey(SigningKey::from_bytes(bytes))
    }

    /// The 32 secret bytes, for storing in a key file readable only by the service.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        self.0.sign(message)
    }
}

impl PublicKey {
    /// Standard base64 of the 32 key bytes.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.as_bytes())
    }

    /// Parse standard base64 of 32 key bytes.
    pub fn from_base64(s: &str) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| format!("public key is not base64: {e}"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "public key must be 32 bytes".to_string())?;
        VerifyingKey::from_bytes(&arr)
            .map(PublicKey)
            .map_err(|e| format!("not an ed25519 public key: {e}"))
    }

    pub(crate) fn verify(&self, message: &[u8], sig: &Signature) -> bool {
        self.0.verify(message, sig).is_ok()
    }
}

/// Where a verifier finds the public key of a node.
pub trait Keyring {
    /// The enrolled key of `node`, if any.
    fn key_for(&self, node: &str) -> Option<PublicKey>;
}

impl Keyring for HashMap<String, PublicKey> {
    fn key_for(&self, node: &str) -> Option<PublicKey> {
        self.get(node).copied()
    }
}

pub(crate) fn encode_signature(sig: &Signature) -> String {
    base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
}

pub(crate) fn decode_signature(s: &str) -> Option<Signature> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    let arr: [u8; 64] = bytes.try_into().ok()?;
    Some(Signature::from_bytes(&arr))
}

/// Append the canonical JSON of `value` to `out`: keys sorted, no whitespace.
pub(crate) fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    write_canonical_without(value, None, out);
}

/// As [`write_canonical`], leaving out the top-level key `skip` (the signature itself).
pub(crate) fn write_canonical_without(value: &Value, skip: Option<&str>, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map
                .iter()
                .filter(|(k, _)| Some(k.as_str()) != skip)
                .collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Serialising a string into a Vec cannot fail.
                serde_json::to_writer(&mut *out, k).expect("string JSON serialisation");
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serialising a scalar JSON value into a Vec cannot fail.
    serde_json::to_writer(&mut *out, value).expect("scalar JSON serialisation");
}
