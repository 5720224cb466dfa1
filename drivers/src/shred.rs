//! Overwriting a file with zeros before it is removed, so its blocks no longer hold what it
//! held (a police notice, an event store): used for the PDF working copies of the scanner
//! path and by the box's wipe.

use std::io::Write;
use std::path::Path;

/// Overwrite the whole of `path` with zeros and flush it to disk. Returns its length.
pub fn zero_fill(path: &Path) -> std::io::Result<u64> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    let len = f.metadata()?.len();
    let zeros = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()?;
    Ok(len)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_is_zero_afterwards() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("notice.pdf");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 + 1).collect();
        std::fs::write(&p, &data).expect("write");
        assert_eq!(super::zero_fill(&p).expect("fill"), data.len() as u64);
        let after = std::fs::read(&p).expect("read");
        assert_eq!(after.len(), data.len());
        assert!(after.iter().all(|b| *b == 0));
    }
}
