//! What `checkup-edge doctor` and `checkup-central doctor` report, and the checks both make.
//!
//! ```text
//! Check { id, status, ja, en, fix }      one finding: what is wrong (日本語 / English) and
//!                                        the command that fixes it
//! Report { checks }  ─text()→            one line per check, ja then en, fix on the line
//!                    ─json()→            {"status", "exit", "checks": [...]}
//!                    ─exit_code()→       0 all ok (or skipped), 1 warnings only, 2 any error
//! certificates(…)                        a node's certificate and its CA: in date, not
//!                                        expiring soon
//! clock(…), skew(…)                      this machine's clock against another's
//! free_space(…), disk(…)                 free space where the data lives
//! ```
//!
//! The checks themselves live with what they check (`checkup_edge::doctor`,
//! `checkup_central::doctor`); every one reads its inputs from the configuration or the
//! environment the running program would use, so a test injects a fault the same way.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a finding is. Ordered: the worst decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Fine.
    Ok,
    /// Not applicable to this configuration (e.g. card reading off).
    Skipped,
    /// Works today, but needs attention (a certificate expiring soon, a clock a few
    /// seconds off).
    Warning,
    /// Will not work, or risks the data (no store key, unreachable central, a clock a
    /// minute off).
    Error,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Skipped => "SKIP",
            Status::Warning => "WARN",
            Status::Error => "ERROR",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable id (`pcsc`, `clock`, `tls`, …): scripts and tests match on it.
    pub id: &'static str,
    /// How bad.
    pub status: Status,
    /// What was found, in Japanese.
    pub ja: String,
    /// What was found, in English.
    pub en: String,
    /// The command (or step) that fixes it; none when nothing is wrong.
    pub fix: Option<String>,
}

impl Check {
    /// All is well.
    pub fn ok(id: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Ok,
            ja: ja.into(),
            en: en.into(),
            fix: None,
        }
    }

    /// Not applicable here.
    pub fn skipped(id: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Check {
        Check {
            status: Status::Skipped,
            ..Check::ok(id, ja, en)
        }
    }

    /// Needs attention; `fix` says how.
    pub fn warning(
        id: &'static str,
        ja: impl Into<String>,
        en: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Warning,
            fix: Some(fix.into()),
            ..Check::ok(id, ja, en)
        }
    }

    /// Broken; `fix` says how to mend it.
    pub fn error(
        id: &'static str,
        ja: impl Into<String>,
        en: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Error,
            fix: Some(fix.into()),
            ..Check::ok(id, ja, en)
        }
    }
}

/// Every finding of one run, in the order checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The findings.
    pub checks: Vec<Check>,
}

impl Report {
    /// The worst status found (`Ok` for an empty report).
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Ok)
    }

    /// 0: everything ok or skipped; 1: warnings only; 2: at least one error.
    pub fn exit_code(&self) -> u8 {
        match self.worst() {
            Status::Ok | Status::Skipped => 0,
            Status::Warning => 1,
            Status::Error => 2,
        }
    }

    /// The finding with `id`, if checked.
    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// For people: one line per check (status, id, Japanese / English, and the fix), then
    /// a summary line.
    pub fn text(&self) -> String {
        // A message quoting a multi-line error (a TOML parser's) stays on its line.
        let one_line = |s: &str| {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        let mut out = String::new();
        for c in &self.checks {
            out.push_str(&format!(
                "{:<5}  {:<width$}  {} / {}",
                c.status.label(),
                c.id,
                one_line(&c.ja),
                one_line(&c.en)
            ));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("  → 対処 / fix: {}", one_line(fix)));
            }
            out.push('\n');
        }
        let count = |s| self.checks.iter().filter(|c| c.status == s).count();
        let (errors, warnings) = (count(Status::Error), count(Status::Warning));
        out.push_str(&format!(
            "結果: エラー {errors} 件、警告 {warnings} 件 / result: {errors} error(s), {warnings} warning(s) (exit {})\n",
            self.exit_code()
        ));
        out
    }

    /// For machines: `{"status": worst, "exit": code, "checks": [{id, status, ja, en,
    /// fix}, …]}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": self.worst(),
            "exit": self.exit_code(),
            "checks": self.checks,
        })
    }
}

/// A certificate within this many days of its end is a warning (an enrolment lasts a
/// checkup season)…
pub const WARN_CERT_DAYS: i64 = 30;
/// …and one from an enrolment bundle within this many (a bundle is made for one venue
/// day, its certificate valid for 30 days).
pub const WARN_BUNDLE_CERT_DAYS: i64 = 3;

/// The validity window of every certificate in a PEM text: (subject, not before, not
/// after) in Unix seconds.
fn validities(pem: &[u8]) -> Result<Vec<(String, i64, i64)>, String> {
    let mut out = Vec::new();
    for p in x509_parser::pem::Pem::iter_from_buffer(pem) {
        let p = p.map_err(|e| format!("PEM: {e}"))?;
        if p.label != "CERTIFICATE" {
            continue;
        }
        let c = p.parse_x509().map_err(|e| format!("X.509: {e}"))?;
        let v = c.validity();
        out.push((
            c.subject().to_string(),
            v.not_before.timestamp(),
            v.not_after.timestamp(),
        ));
    }
    if out.is_empty() {
        return Err("no certificate".into());
    }
    Ok(out)
}

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| unix.to_string())
}

/// Check the validity windows of a node's certificate (`cert_pem`) and of its CA
/// (`ca_pem`) at `now` (Unix seconds): an error when one has expired or is not valid yet,
/// a warning within `warn_days` of its end ([`WARN_CERT_DAYS`],
/// [`WARN_BUNDLE_CERT_DAYS`]). `renew` is the command that issues a new certificate.
pub fn certificates(
    cert_pem: &[u8],
    ca_pem: &[u8],
    now: i64,
    warn_days: i64,
    renew: &str,
) -> Check {
    const ID: &str = "tls";
    let mut all = Vec::new();
    for (pem, what_ja, what_en) in [
        (cert_pem, "証明書", "certificate"),
        (ca_pem, "CA 証明書", "CA certificate"),
    ] {
        match validities(pem) {
            Ok(v) => all.extend(v.into_iter().map(|x| (what_ja, what_en, x))),
            Err(e) => {
                return Check::error(
                    ID,
                    format!("{what_ja}を読めません: {e}"),
                    format!("the {what_en} does not parse: {e}"),
                    renew,
                );
            }
        }
    }
    let mut soonest: Option<(&str, &str, String, i64)> = None;
    for (ja, en, (subject, not_before, not_after)) in all {
        if now < not_before {
            return Check::error(
                ID,
                format!(
                    "{ja} ({subject}) はまだ有効ではありません ({} から有効)。時計を確認してください",
                    date(not_before)
                ),
                format!(
                    "the {en} ({subject}) is not valid yet (from {}): check the clock",
                    date(not_before)
                ),
                format!("sudo chronyc makestep; if the clock is right: {renew}"),
            );
        }
        if now >= not_after {
            return Check::error(
                ID,
                format!("{ja} ({subject}) は {} に期限切れです", date(not_after)),
                format!("the {en} ({subject}) expired on {}", date(not_after)),
                renew,
            );
        }
        if soonest.as_ref().is_none_or(|s| not_after < s.3) {
            soonest = Some((ja, en, subject, not_after));
        }
    }
    match soonest {
        Some((ja, en, subject, end)) if end - now < warn_days * 86_400 => Check::warning(
            ID,
            format!(
                "{ja} ({subject}) は {} 日後 ({}) に期限切れになります",
                (end - now) / 86_400,
                date(end)
            ),
            format!(
                "the {en} ({subject}) expires in {} days ({})",
                (end - now) / 86_400,
                date(end)
            ),
            renew,
        ),
        Some((_, _, _, end)) => Check::ok(
            ID,
            format!("証明書と CA は有効です ({} まで)", date(end)),
            format!("certificate and CA valid (until {})", date(end)),
        ),
        None => Check::error(ID, "証明書がありません", "no certificate", renew.to_owned()),
    }
}

/// A clock this many seconds off is a warning…
pub const WARN_SKEW_SECS: f64 = 2.0;
/// …and this many an error: events are ordered by hybrid logical clocks, and certificates
/// are checked against the clock.
pub const ERROR_SKEW_SECS: f64 = 60.0;

/// The smallest offset (seconds; positive when this machine is ahead) consistent with
/// asking between `local_before` and `local_after` and hearing a time in
/// `[remote_lo, remote_hi]` (an HTTP `Date` header is whole seconds: `hi = lo + 1`). Zero
/// when the intervals overlap: nothing then shows a skew.
pub fn skew(local_before: f64, local_after: f64, remote_lo: f64, remote_hi: f64) -> f64 {
    if local_before > remote_hi {
        local_before - remote_hi
    } else if local_after < remote_lo {
        local_after - remote_lo
    } else {
        0.0
    }
}

/// Judge a measured `skew` (see [`skew`]) against `other_ja` / `other_en` (whose clock).
pub fn clock(skew: f64, other_ja: &str, other_en: &str) -> Check {
    const ID: &str = "clock";
    const FIX: &str = "sudo chronyc makestep (or: sudo timedatectl set-ntp true)";
    let (dir_ja, dir_en) = if skew >= 0.0 {
        ("進んで", "ahead of")
    } else {
        ("遅れて", "behind")
    };
    let off = skew.abs();
    let ja = format!("時計が{other_ja}より {off:.0} 秒{dir_ja}います");
    let en = format!("the clock is {off:.0} s {dir_en} {other_en}");
    if off > ERROR_SKEW_SECS {
        Check::error(ID, ja, en, FIX)
    } else if off > WARN_SKEW_SECS {
        Check::warning(ID, ja, en, FIX)
    } else {
        Check::ok(
            ID,
            format!("時計は{other_ja}と合っています (差 {WARN_SKEW_SECS:.0} 秒以内)"),
            format!("the clock agrees with {other_en} (within {WARN_SKEW_SECS:.0} s)"),
        )
    }
}

/// Less free space than this where the data lives is an error.
pub const MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;

/// The directory itself if it exists, else its nearest existing ancestor (where it
/// would be created).
pub fn existing_ancestor(dir: &Path) -> PathBuf {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut p = abs.as_path();
    loop {
        if p.exists() {
            return p.to_path_buf();
        }
        match p.parent() {
            Some(parent) => p = parent,
            None => return abs,
        }
    }
}

/// Bytes free to an unprivileged writer on the file system holding `path`.
pub fn free_space(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `s` points to writable memory of the
    // right size; statvfs writes it fully on success, which is the only case read.
    let rc = unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let s = unsafe { s.assume_init() };
    // The fields' widths differ between platforms (u32 on some 32-bit ones).
    #[allow(clippy::unnecessary_cast)]
    Ok((s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

/// Human-sized MiB.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Free space for `dir` (or where it will be created): an error below [`MIN_FREE_BYTES`].
/// `fix` is what frees space on this kind of machine.
pub fn disk(dir: &Path, fix: &str) -> Check {
    const ID: &str = "disk";
    let at = existing_ancestor(dir);
    match free_space(&at) {
        Err(e) => Check::error(
            ID,
            format!("{} の空き容量を調べられません: {e}", at.display()),
            format!("cannot read the free space of {}: {e}", at.display()),
            fix,
        ),
        Ok(free) if free < MIN_FREE_BYTES => Check::error(
            ID,
            format!(
                "{} の空きが {} しかありません (最低 {})",
                at.display(),
                mib(free),
                mib(MIN_FREE_BYTES)
            ),
            format!(
                "only {} free on {} (at least {} needed)",
                mib(free),
                at.display(),
                mib(MIN_FREE_BYTES)
            ),
            fix,
        ),
        Ok(free) => Check::ok(
            ID,
            format!("{} の空き {}", at.display(), mib(free)),
            format!("{} free on {}", mib(free), at.display()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_finding_decides_the_exit_status() {
        let mut r = Report::default();
        assert_eq!(r.exit_code(), 0);
        r.checks.push(Check::ok("a", "良", "fine"));
        r.checks.push(Check::skipped("b", "対象外", "not here"));
        assert_eq!(r.exit_code(), 0);
        r.checks
            .push(Check::warning("c", "注意", "careful", "do x"));
        assert_eq!(r.exit_code(), 1);
        r.checks.push(Check::error("d", "故障", "broken", "do y"));
        assert_eq!(r.exit_code(), 2);
        let text = r.text();
        assert!(
            text.contains("ERROR  d  故障 / broken  → 対処 / fix: do y"),
            "{text}"
        );
        assert_eq!(r.json()["exit"], 2);
        assert_eq!(r.json()["checks"][2]["status"], "warning");
    }

    #[test]
    fn skew_is_the_least_offset_the_answers_allow() {
        // Asked between 100.2 and 100.4, heard "100" (100..101): no skew visible.
        assert_eq!(skew(100.2, 100.4, 100.0, 101.0), 0.0);
        // Heard 5 minutes earlier: this machine is at least 298.2 s ahead.
        assert!((skew(400.2, 400.4, 100.0, 101.0) - 299.2).abs() < 1e-9);
        assert!(skew(100.2, 100.4, 400.0, 401.0) < -299.0);
        assert_eq!(clock(0.0, "x", "x").status, Status::Ok);
        assert_eq!(clock(10.0, "x", "x").status, Status::Warning);
        assert_eq!(clock(-300.0, "x", "x").status, Status::Error);
    }
}
