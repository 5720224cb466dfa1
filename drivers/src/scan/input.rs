//! Reading scanned pages: PNG, JPEG and TIFF (every page of a multi-page TIFF) into greyscale
//! images, with the size checks done before anything is decoded.
//!
//! A file over [`Limits::max_file_bytes`] is refused unread; each page's dimensions are read
//! from its header and a page over [`Limits::max_pixels`] is refused before its pixels are
//! decoded (a 100 kB PNG can claim 100,000 × 100,000 pixels); truncated or corrupt files and
//! files that are not images give a typed error naming the file.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, GrayImage, ImageFormat, ImageReader};

/// Bounds on what is decoded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file accepted. Default 64 MiB.
    pub max_file_bytes: u64,
    /// Largest page in pixels. Default 80 million (A3 at 600 dpi is 70 million).
    pub max_pixels: u64,
    /// Most pages in one file. Default 50.
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_pixels: 80_000_000,
            max_pages: 50,
        }
    }
}

/// Why a file could not be read as pages.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// I/O.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// Over the file size limit.
    #[error("{file}: {bytes} bytes is over the limit of {limit}")]
    FileTooLarge {
        /// The file.
        file: String,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A page over the pixel limit (checked before decoding).
    #[error("{file}: page {page} is {width}×{height} pixels, over the limit of {limit}")]
    TooManyPixels {
        /// The file.
        file: String,
        /// 1-based page.
        page: usize,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// More pages than allowed.
    #[error("{file}: more than {limit} pages")]
    TooManyPages {
        /// The file.
        file: String,
        /// The limit.
        limit: usize,
    },
    /// Not PNG, JPEG, TIFF or PDF.
    #[error("{file}: not a PNG, JPEG, TIFF or PDF file")]
    NotAnImage {
        /// The file.
        file: String,
    },
    /// Truncated or corrupt.
    #[error("{file}: damaged image: {message}")]
    Corrupt {
        /// The file.
        file: String,
        /// What the decoder said.
        message: String,
    },
    /// A PDF that `pdftoppm` (poppler-utils) could not render.
    #[error("{file}: cannot render the PDF: {message}")]
    Pdf {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
}

impl ScanError {
    /// A stable code for the error (the CLI's JSON and the UI use it).
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::Io { .. } => "io",
            ScanError::FileTooLarge { .. } => "file_too_large",
            ScanError::TooManyPixels { .. } => "too_many_pixels",
            ScanError::TooManyPages { .. } => "too_many_pages",
            ScanError::NotAnImage { .. } => "not_an_image",
            ScanError::Corrupt { .. } => "corrupt_image",
            ScanError::Pdf { .. } => "pdf_unreadable",
        }
    }
}

/// One scanned page, greyscale.
#[derive(Debug, Clone)]
pub struct Page {
    /// 1-based page number within its file.
    pub number: usize,
    /// The pixels.
    pub image: GrayImage,
}

/// Read every page of the file at `path`.
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<Page>, ScanError> {
    let file = path.display().to_string();
    let io = |source| ScanError::Io {
        file: file.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > limits.max_file_bytes {
        return Err(ScanError::FileTooLarge {
            file,
            bytes: meta.len(),
            limit: limits.max_file_bytes,
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    read_bytes(&file, &bytes, limits)
}

/// Read every page of an uploaded file; `name` names it in errors.
pub fn read_bytes(name: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, ScanError> {
    let file = name.to_owned();
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ScanError::FileTooLarge {
            file,
            bytes: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    if bytes.starts_with(b"%PDF-") {
        return super::pdf::render(&file, bytes, limits);
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff)) => f,
        _ => return Err(ScanError::NotAnImage { file }),
    };
    if format == ImageFormat::Tiff {
        return read_tiff(&file, bytes, limits);
    }
    let corrupt = |e: image::ImageError| ScanError::Corrupt {
        file: file.clone(),
        message: e.to_string(),
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(corrupt)?;
    check_pixels(&file, 1, width, height, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = image::Limits::default();
    l.max_alloc = Some(limits.max_pixels.saturating_mul(4));
    reader.limits(l);
    let img = reader.decode().map_err(corrupt)?;
    Ok(vec![Page {
        number: 1,
        image: img.to_luma8(),
    }])
}

fn check_pixels(
    file: &str,
    page: usize,
    width: u32,
    height: u32,
    limits: &Limits,
) -> Result<(), ScanError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels || width == 0 || height == 0 {
        return Err(ScanError::TooManyPixels {
            file: file.to_owned(),
            page,
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

fn read_tiff(file: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, ScanError> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};
    let corrupt = |e: tiff::TiffError| ScanError::Corrupt {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let mut tl = tiff::decoder::Limits::default();
    tl.decoding_buffer_size =
        usize::try_from(limits.max_pixels.saturating_mul(4)).unwrap_or(usize::MAX);
    let mut dec = Decoder::new(Cursor::new(bytes))
        .map_err(corrupt)?
        .with_limits(tl);
    let mut pages = Vec::new();
    loop {
        let number = pages.len() + 1;
        if number > limits.max_pages {
            return Err(ScanError::TooManyPages {
                file: file.to_owned(),
                limit: limits.max_pages,
            });
        }
        let (w, h) = dec.dimensions().map_err(corrupt)?;
        check_pixels(file, number, w, h, limits)?;
        let color = dec.colortype().map_err(corrupt)?;
        let data = dec.read_image().map_err(corrupt)?;
        let img = match (color, data) {
            (ColorType::Gray(8), DecodingResult::U8(v)) => {
                image::GrayImage::from_raw(w, h, v).map(DynamicImage::ImageLuma8)
            }
            (ColorType::Gray(16), DecodingResult::U16(v)) => {
                image::ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLuma16)
            }
            (ColorType::RGB(8), DecodingResult::U8(v)) => {
                image::RgbImage::from_raw(w, h, v).map(DynamicImage::ImageRgb8)
            }
            (ColorType::RGBA(8), DecodingResult::U8(v)) => {
                image::RgbaImage::from_raw(w, h, v).map(DynamicImage::ImageRgba8)
            }
            (ColorType::GrayA(8), DecodingResult::U8(v)) => {
                image::GrayAlphaImage::from_raw(w, h, v).map(DynamicImage::ImageLumaA8)
            }
            (other, _) => {
                return Err(ScanError::Corrupt {
                    file: file.to_owned(),
                    message: format!("page {number}: unsupported TIFF colour type {other:?}"),
                });
            }
        };
        let img = img.ok_or_else(|| ScanError::Corrupt {
            file: file.to_owned(),
            message: format!("page {number}: pixel data does not match its size"),
        })?;
        pages.push(Page {
            number,
            image: img.to_luma8(),
        });
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(corrupt)?;
    }
    Ok(pages)
}
