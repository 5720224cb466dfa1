//! Minimal PDF files for tests: each page one JPEG (DCTDecode) filling a page of the size
//! the image has at a given resolution — what a network scanner's "scan to PDF" produces.

/// A PDF of `pages`, each `(jpeg bytes, width px, height px)`, at `dpi`.
pub fn from_jpegs(pages: &[(Vec<u8>, u32, u32)], dpi: f64) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let n = pages.len();
    // Objects: 1 catalog, 2 pages, then per page: page, image, contents.
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + i * 3)).collect();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(
        &mut out,
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).as_bytes(),
    );
    for (i, (jpeg, w, h)) in pages.iter().enumerate() {
        let (pw, ph) = (*w as f64 * 72.0 / dpi, *h as f64 * 72.0 / dpi);
        let (page, image, contents) = (3 + i * 3, 4 + i * 3, 5 + i * 3);
        obj(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2} {ph:.2}] \
                 /Resources << /XObject << /Im{page} {image} 0 R >> >> /Contents {contents} 0 R >>"
            )
            .as_bytes(),
        );
        let mut img = format!(
            "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray \
             /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
            jpeg.len()
        )
        .into_bytes();
        img.extend_from_slice(jpeg);
        img.extend_from_slice(b"\nendstream");
        obj(&mut out, &img);
        let draw = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im{page} Do Q");
        obj(
            &mut out,
            format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).as_bytes(),
        );
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A one-page PDF of a greyscale page scanned at `dpi` (the page as a JPEG).
pub fn from_page(page: &image::GrayImage, dpi: f64) -> anyhow::Result<Vec<u8>> {
    let mut jpeg = std::io::Cursor::new(Vec::new());
    page.write_to(&mut jpeg, image::ImageFormat::Jpeg)?;
    let (w, h) = page.dimensions();
    Ok(from_jpegs(&[(jpeg.into_inner(), w, h)], dpi))
}
