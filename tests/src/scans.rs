//! Scanned files made for tests: a TIFF of many large pages that compresses to almost
//! nothing (what a decompression bomb looks like to intake).

use std::io::Cursor;

use anyhow::Context;
use tiff::encoder::compression::DeflateLevel;
use tiff::encoder::{Compression, TiffEncoder, colortype::Gray8};

/// A TIFF of `pages` white `width`×`height` greyscale pages, Deflate-compressed: 50 pages of
/// 8900 × 8900 (4 GB of pixels) take a few hundred kilobytes. One page is compressed and
/// every page's directory points at that one strip (made in about a second, where
/// compressing fifty would take a minute); a decoder still inflates each page in full.
pub fn tiff_bomb(pages: usize, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    // The compressed strip, from a one-page TIFF made by the encoder.
    let one = {
        let page = vec![255u8; width as usize * height as usize];
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out)?
                .with_compression(Compression::Deflate(DeflateLevel::Best));
            let mut img = enc.new_image::<Gray8>(width, height)?;
            img.rows_per_strip(height)?;
            img.write_data(&page)?;
        }
        out.into_inner()
    };
    let mut dec = tiff::decoder::Decoder::new(Cursor::new(&one))?;
    let offset = dec.get_tag_u32(tiff::tags::Tag::StripOffsets)? as usize;
    let len = dec.get_tag_u32(tiff::tags::Tag::StripByteCounts)? as usize;
    let strip = one.get(offset..offset + len).context("strip")?;

    // Little-endian header, the strip at 8, then the directories one after the other.
    let mut out = Vec::new();
    out.extend_from_slice(b"II*\0");
    let first_ifd = 8 + strip.len() + strip.len() % 2;
    out.extend_from_slice(&(first_ifd as u32).to_le_bytes());
    out.extend_from_slice(strip);
    out.resize(first_ifd, 0);
    // (tag, type: 3 SHORT / 4 LONG, value)
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, width),
        (257, 4, height),
        (258, 3, 8),
        (259, 3, 8), // Deflate
        (262, 3, 1), // black is zero
        (273, 4, 8),
        (277, 3, 1),
        (278, 4, height),
        (279, 4, strip.len() as u32),
    ];
    let ifd_len = 2 + entries.len() * 12 + 4;
    for i in 0..pages {
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, ty, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            if ty == 3 {
                out.extend_from_slice(&(value as u16).to_le_bytes());
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        let next = if i + 1 < pages {
            first_ifd + (i + 1) * ifd_len
        } else {
            0
        };
        out.extend_from_slice(&(next as u32).to_le_bytes());
    }
    Ok(out)
}
