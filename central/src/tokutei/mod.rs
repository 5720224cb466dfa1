//! MHLW's 特定健診・特定保健指導 (第4期, FY2024–): the standard's rules central applies to a checkup's values.

pub mod hierarchy;
