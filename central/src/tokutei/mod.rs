//! MHLW's 特定健診・特定保健指導の電子的な標準様式 (第4期, FY2024–) and its rules.
//!
//! - [`items`]: the item table (`items-hc24.csv`), loaded from a configured path.
//! - [`model`]: the writer's input and the reader's output, independent of the database.
//! - [`hierarchy`]: 階層化 (メタボ判定 and 保健指導レベル) from a checkup's values.
//! - [`cda`]: one examinee's hc08 `ClinicalDocument`.
//! - [`export`]: central's records of an insurer's checkups gathered, checked and written.
//! - [`claims`]: what the municipality bills the insurer (cc08 claims, the su08 summary).
//! - [`archive`]: the submission zip (`ix08_V08.xml`, `DATA/`, `CLAIMS/`, `su08_V08.xml`,
//!   `XSD/`), all or nothing.
//! - [`validate`]: business rules and XSD validation (libxml2), failures in Japanese.
//! - [`parse`]: documents and archives read back (round trip, import).
//! - [`transfer`]: a resident's record exported and imported between municipalities.

pub mod archive;
pub mod cda;
pub mod claims;
pub mod export;
pub mod hierarchy;
pub mod items;
pub mod model;
pub mod parse;
pub mod transfer;
pub mod validate;
