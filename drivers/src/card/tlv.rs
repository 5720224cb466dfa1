//! BER-TLV as the My Number card uses it: one- or two-byte tags, lengths in the short form
//! or the `81`/`82` long forms. Anything else — indefinite or over-long lengths, values that
//! run past the data — is an error, never a panic or an out-of-bounds read.

use thiserror::Error;

/// A parsed tag-length-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag, with its bytes big-endian in a `u32` (e.g. `0xFF20`, `0xDF22`).
    pub tag: u32,
    /// The value bytes.
    pub value: &'a [u8],
    /// Bytes of tag and length before the value.
    pub header_len: usize,
}

/// Why TLV data did not parse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TlvError {
    /// The data ended inside a tag, a length or a value.
    #[error("TLV truncated: need {needed} bytes, have {have}")]
    Truncated {
        /// Bytes needed from the start of the element.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// A length form this card never uses (indefinite `80`, or `83` and longer).
    #[error("unsupported TLV length byte {0:#04x}")]
    BadLength(u8),
    /// A tag longer than three bytes.
    #[error("TLV tag too long")]
    TagTooLong,
}

/// Parse the tag and length at the start of `data`: `(tag, header_len, value_len)`.
pub fn header(data: &[u8]) -> Result<(u32, usize, usize), TlvError> {
    let truncated = |needed| TlvError::Truncated {
        needed,
        have: data.len(),
    };
    let first = *data.first().ok_or(truncated(1))?;
    let mut tag = u32::from(first);
    let mut i = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *data.get(i).ok_or(truncated(i + 1))?;
            tag = (tag << 8) | u32::from(b);
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
            if i >= 3 {
                return Err(TlvError::TagTooLong);
            }
        }
    }
    let l = *data.get(i).ok_or(truncated(i + 1))?;
    i += 1;
    let len = match l {
        0x00..=0x7F => usize::from(l),
        0x81 => {
            let b = *data.get(i).ok_or(truncated(i + 1))?;
            i += 1;
            usize::from(b)
        }
        0x82 => {
            let hi = *data.get(i).ok_or(truncated(i + 2))?;
            let lo = *data.get(i + 1).ok_or(truncated(i + 2))?;
            i += 2;
            usize::from(hi) << 8 | usize::from(lo)
        }
        other => return Err(TlvError::BadLength(other)),
    };
    Ok((tag, i, len))
}

/// Parse one element at the start of `data`; return it and the bytes after it.
pub fn parse_one(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    let (tag, header_len, len) = header(data)?;
    let end = header_len
        .checked_add(len)
        .ok_or(TlvError::BadLength(0xFF))?;
    if data.len() < end {
        return Err(TlvError::Truncated {
            needed: end,
            have: data.len(),
        });
    }
    Ok((
        Tlv {
            tag,
            value: &data[header_len..end],
            header_len,
        },
        &data[end..],
    ))
}

/// Parse a sequence of elements filling `data` exactly.
pub fn parse_all(mut data: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (tlv, rest) = parse_one(data)?;
        out.push(tlv);
        data = rest;
    }
    Ok(out)
}

/// Encode a tag and value (the emulator and tests use this).
pub fn encode(tag: u32, value: &[u8], long_form: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take_while(|b| **b == 0).count().min(3);
    out.extend_from_slice(&tag_bytes[skip..]);
    let n = value.len();
    if long_form || n > 0xFF {
        out.push(0x82);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n > 0x7F {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.push(n as u8);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_and_long_forms_parse() {
        let short = [0xDF, 0x22, 0x02, b'a', b'b'];
        let (t, rest) = parse_one(&short).expect("short");
        assert_eq!(
            (t.tag, t.value, t.header_len, rest.len()),
            (0xDF22, &b"ab"[..], 3, 0)
        );
        let mut long = vec![0xFF, 0x20, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(7u8, 256));
        let (t, _) = parse_one(&long).expect("82 form");
        assert_eq!((t.tag, t.value.len(), t.header_len), (0xFF20, 256, 5));
        let one = [0xDF, 0x23, 0x81, 0x01, 0x41];
        assert_eq!(parse_one(&one).map(|(t, _)| t.value), Ok(&b"A"[..]));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(parse_one(&[]), Err(TlvError::Truncated { .. })));
        assert!(matches!(
            parse_one(&[0xDF]),
            Err(TlvError::Truncated { .. })
        ));
        assert!(matches!(
            parse_one(&[0xDF, 0x22, 0x05, 1]),
            Err(TlvError::Truncated { needed: 8, have: 4 })
        ));
        assert_eq!(
            parse_one(&[0x04, 0x80]).map(|_| ()),
            Err(TlvError::BadLength(0x80))
        );
        assert_eq!(
            parse_one(&[0x04, 0x84, 0, 0, 0, 1]).map(|_| ()),
            Err(TlvError::BadLength(0x84))
        );
        assert_eq!(
            parse_one(&[0x1F, 0x81, 0x81, 0x01, 0x00]).map(|_| ()),
            Err(TlvError::TagTooLong)
        );
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(
            tag in prop::sample::select(vec![0x04u32, 0xDF21, 0xDF22, 0xFF20, 0x5F1F]),
            value in prop::collection::vec(any::<u8>(), 0..600),
            long in any::<bool>(),
        ) {
            let bytes = encode(tag, &value, long);
            let (t, rest) = parse_one(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(t.tag, tag);
            prop_assert_eq!(t.value, &value[..]);
            prop_assert!(rest.is_empty());
        }

        #[test]
        fn arbitrary_bytes_never_panic_or_overrun(data in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(items) = parse_all(&data) {
                let total: usize = items.iter().map(|t| t.header_len + t.value.len()).sum();
                prop_assert_eq!(total, data.len());
            }
        }
    }
}
