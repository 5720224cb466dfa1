//! Reading scanned pages: PNG, JPEG, TIFF (multi-page) and PDF into greyscale images,
//! decoding only the pages asked for, with every size check done before anything is
//! decoded.
//!
//! A file over [`Limits::max_file_bytes`] is refused unread. The pages' dimensions and
//! sample layout are read from the headers first (for a TIFF, every page's directory; for a
//! PDF, `pdfinfo`), and the file is refused before any pixel is decoded when it has more
//! than [`Limits::max_pages`] pages, when a page to be decoded is over
//! [`Limits::max_pixels`] or its samples over [`Limits::max_page_bytes`], or when the pages
//! to be decoded are together over [`Limits::max_total_pixels`] (a 100 kB PNG can claim
//! 100,000 × 100,000 pixels; a 6 MB TIFF can hold 50 pages of 8900 × 8900). A [`Reader`]
//! decodes only the first pages it is asked for — intake reads one — so the pages after
//! them cost a header read each, never their pixels. Truncated or corrupt files and files
//! that are not images give a typed error naming the file, with a stable
//! [`ScanError::code`].

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, ImageFormat, ImageReader};

/// Bounds on what is decoded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file accepted. Default 64 MiB.
    pub max_file_bytes: u64,
    /// Largest page in pixels. Default 36 million (A4 at 600 dpi is 35 million).
    pub max_pixels: u64,
    /// Largest page's samples as decoded, in bytes (before the page is made grey).
    /// Default 144 MB: four bytes a pixel at [`Limits::max_pixels`].
    pub max_page_bytes: u64,
    /// Most pixels decoded from one file, all pages together. Default 72 million.
    pub max_total_pixels: u64,
    /// Most pages in one file (counted from the headers, whether decoded or not).
    /// Default 50.
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_pixels: 36_000_000,
            max_page_bytes: 144_000_000,
            max_total_pixels: 72_000_000,
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
    /// A page whose samples would take more memory than allowed (checked before decoding).
    #[error("{file}: page {page} needs {bytes} bytes decoded, over the limit of {limit}")]
    PageTooLarge {
        /// The file.
        file: String,
        /// 1-based page.
        page: usize,
        /// Bytes its samples take decoded.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The pages to be decoded are together over the limit (checked before decoding).
    #[error("{file}: pages 1 to {pages} are {pixels} pixels together, over the limit of {limit}")]
    TooManyPixelsInAll {
        /// The file.
        file: String,
        /// Pages counted when the limit was passed.
        pages: usize,
        /// Their pixels.
        pixels: u64,
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
            ScanError::PageTooLarge { .. } => "page_too_large",
            ScanError::TooManyPixelsInAll { .. } => "too_many_pixels_in_all",
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

/// What to read of a file, within which limits, and where a PDF is rendered.
///
/// ```
/// use checkup_drivers::scan::{Limits, Reader};
/// // The first page only; a PDF is rendered under `/srv/box/intake/work`.
/// let reader = Reader::new(Limits::default())
///     .first_pages(1)
///     .work_dir("/srv/box/intake/work");
/// assert_eq!(reader.pages(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Reader {
    limits: Limits,
    pages: usize,
    work_dir: Option<PathBuf>,
}

impl Reader {
    /// Every page (up to the limits); a PDF rendered in a private temporary directory.
    pub fn new(limits: Limits) -> Reader {
        Reader {
            limits,
            pages: usize::MAX,
            work_dir: None,
        }
    }

    /// Decode only the first `n` pages (at least one); the others are counted from their
    /// headers, never decoded.
    pub fn first_pages(mut self, n: usize) -> Reader {
        self.pages = n.max(1);
        self
    }

    /// Render PDFs in a private directory made under `dir` (mode 0700, the PDF copy 0600,
    /// both removed right after rendering) instead of the temporary directory.
    pub fn work_dir(mut self, dir: impl Into<PathBuf>) -> Reader {
        self.work_dir = Some(dir.into());
        self
    }

    /// How many pages are decoded at most.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Read the file at `path`.
    pub fn read_file(&self, path: &Path) -> Result<Vec<Page>, ScanError> {
        let file = path.display().to_string();
        let io = |source| ScanError::Io {
            file: file.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > self.limits.max_file_bytes {
            return Err(ScanError::FileTooLarge {
                file,
                bytes: meta.len(),
                limit: self.limits.max_file_bytes,
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        self.read_bytes(&file, &bytes)
    }

    /// Read a file held in memory; `name` names it in errors.
    pub fn read_bytes(&self, name: &str, bytes: &[u8]) -> Result<Vec<Page>, ScanError> {
        let file = name.to_owned();
        let limits = &self.limits;
        if bytes.len() as u64 > limits.max_file_bytes {
            return Err(ScanError::FileTooLarge {
                file,
                bytes: bytes.len() as u64,
                limit: limits.max_file_bytes,
            });
        }
        if bytes.starts_with(b"%PDF-") {
            return super::pdf::render(&file, bytes, self);
        }
        let format = match image::guess_format(bytes) {
            Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff)) => f,
            _ => return Err(ScanError::NotAnImage { file }),
        };
        if format == ImageFormat::Tiff {
            return read_tiff(&file, bytes, limits, self.pages);
        }
        read_single(&file, bytes, format, limits).map(|p| vec![p])
    }

    pub(crate) fn work(&self) -> Option<&Path> {
        self.work_dir.as_deref()
    }
}

/// Read every page of the file at `path` (see [`Reader`] to read fewer).
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<Page>, ScanError> {
    Reader::new(*limits).read_file(path)
}

/// Read every page of an uploaded file; `name` names it in errors (see [`Reader`] to read
/// fewer).
pub fn read_bytes(name: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<Page>, ScanError> {
    Reader::new(*limits).read_bytes(name, bytes)
}

/// A PNG or JPEG: its one page.
pub(crate) fn read_single(
    file: &str,
    bytes: &[u8],
    format: ImageFormat,
    limits: &Limits,
) -> Result<Page, ScanError> {
    let corrupt = |e: image::ImageError| ScanError::Corrupt {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(corrupt)?;
    let (width, height) = image::ImageDecoder::dimensions(&decoder);
    check_pixels(file, 1, width, height, limits)?;
    let per_pixel = u64::from(image::ImageDecoder::color_type(&decoder).bytes_per_pixel());
    check_page_bytes(file, 1, width, height, per_pixel, limits)?;
    check_total(file, 1, u64::from(width) * u64::from(height), limits)?;
    let mut l = image::Limits::default();
    l.max_alloc = Some(limits.max_page_bytes);
    image::ImageDecoder::set_limits(&mut decoder, l).map_err(corrupt)?;
    let img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    Ok(Page {
        number: 1,
        image: super::clean::grey_without_seals(img),
    })
}

pub(crate) fn check_pixels(
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

fn check_page_bytes(
    file: &str,
    page: usize,
    width: u32,
    height: u32,
    bytes_per_pixel: u64,
    limits: &Limits,
) -> Result<(), ScanError> {
    let bytes = u64::from(width)
        .saturating_mul(u64::from(height))
        .saturating_mul(bytes_per_pixel);
    if bytes > limits.max_page_bytes {
        return Err(ScanError::PageTooLarge {
            file: file.to_owned(),
            page,
            bytes,
            limit: limits.max_page_bytes,
        });
    }
    Ok(())
}

/// `total` pixels over pages 1 to `pages`.
pub(crate) fn check_total(
    file: &str,
    pages: usize,
    total: u64,
    limits: &Limits,
) -> Result<(), ScanError> {
    if total > limits.max_total_pixels {
        return Err(ScanError::TooManyPixelsInAll {
            file: file.to_owned(),
            pages,
            pixels: total,
            limit: limits.max_total_pixels,
        });
    }
    Ok(())
}

/// A TIFF: every page's directory is read and checked first (count, and for the pages to
/// decode their size and sample layout), then only the first `wanted` pages are decoded.
fn read_tiff(
    file: &str,
    bytes: &[u8],
    limits: &Limits,
    wanted: usize,
) -> Result<Vec<Page>, ScanError> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};
    let corrupt = |e: tiff::TiffError| ScanError::Corrupt {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let mut tl = tiff::decoder::Limits::default();
    tl.decoding_buffer_size = usize::try_from(limits.max_page_bytes).unwrap_or(usize::MAX);
    tl.intermediate_buffer_size = tl
        .intermediate_buffer_size
        .min(usize::try_from(limits.max_page_bytes).unwrap_or(usize::MAX));
    let mut dec = Decoder::new(Cursor::new(bytes))
        .map_err(corrupt)?
        .with_limits(tl);
    // Headers only: no pixel is decoded in this loop.
    let mut total = 0u64;
    let mut decode = 0;
    for number in 1.. {
        if number > limits.max_pages {
            return Err(ScanError::TooManyPages {
                file: file.to_owned(),
                limit: limits.max_pages,
            });
        }
        if number <= wanted {
            let (w, h) = dec.dimensions().map_err(corrupt)?;
            check_pixels(file, number, w, h, limits)?;
            let color = dec.colortype().map_err(corrupt)?;
            let bits = u64::from(color.bit_depth()) * u64::from(color.num_samples());
            check_page_bytes(file, number, w, h, bits.div_ceil(8).max(1), limits)?;
            total += u64::from(w) * u64::from(h);
            check_total(file, number, total, limits)?;
            decode = number;
        }
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(corrupt)?;
    }
    dec.seek_to_image(0).map_err(corrupt)?;
    let mut pages = Vec::with_capacity(decode);
    for number in 1..=decode {
        if number > 1 {
            dec.next_image().map_err(corrupt)?;
        }
        let (w, h) = dec.dimensions().map_err(corrupt)?;
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
            image: super::clean::grey_without_seals(img),
        });
    }
    Ok(pages)
}
