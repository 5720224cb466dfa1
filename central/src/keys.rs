//! Enrolled node public keys, from a text file of `node-id base64-public-key` lines
//! (`#` starts a comment).

use std::collections::HashMap;

use checkup_protocol::PublicKey;

/// A bad line in a keys file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("keys file line {line}: {reason}")]
pub struct KeysError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parse a keys file.
pub fn parse(text: &str) -> Result<HashMap<String, PublicKey>, KeysError> {
    let mut out = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let err = |reason: String| KeysError {
            line: i + 1,
            reason,
        };
        let mut parts = line.split_whitespace();
        let (Some(node), Some(key), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err("expected `node-id public-key`".into()));
        };
        let key = PublicKey::from_base64(key).map_err(err)?;
        if out.insert(node.to_owned(), key).is_some() {
            return Err(err(format!("node {node} is listed twice")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkup_protocol::NodeKey;

    #[test]
    fn keys_files_parse_and_bad_lines_are_named() {
        let k = NodeKey::generate().verifying_key().to_base64();
        let ok = parse(&format!("# venue A\nedge-01 {k}\n\n")).expect("parses");
        assert!(ok.contains_key("edge-01"));
        assert_eq!(parse("edge-01").map_err(|e| e.line), Err(1));
        assert_eq!(
            parse(&format!("a {k}\nb notbase64")).map_err(|e| e.line),
            Err(2)
        );
        assert_eq!(parse(&format!("a {k}\na {k}")).map_err(|e| e.line), Err(2));
    }
}
