//! Hardware at the venue and the office: IC-card readers over PC/SC (My Number card
//! card-face application, contactless venue cards) and document scanners for OCR intake.
//!
//! # Layout
//!
//! Nothing yet: the card reader (`card/`) and scanner (`scan/`) modules arrive with their
//! issues, each behind a typed API the edge box consumes, tested against the real PC/SC
//! stack (pcscd + vpcd with our card emulator) and real Tesseract.
