//! `checkup-edge doctor`: checks the machine and the configuration a box would run with,
//! and says in Japanese and English what is wrong and the command that fixes it. It reads
//! the same configuration as `run` (a file or a bundle) and changes nothing but a probe
//! file it writes and removes in the data directory.
//!
//! | id | checks | finding |
//! |---|---|---|
//! | `pcsc` | `card.mode = "system"`: pcscd answers (on `PCSCLITE_CSOCK_NAME` if set) and lists readers; `"virtual"`: pcscd, the vpcd driver, `ip`, `unshare`, root | no pcscd: error; no reader: warning; `"off"`: skipped |
//! | `ocr` | Tesseract starts with `jpn.traineddata` where the OCR code looks (`TESSDATA_PREFIX`, else Debian's tessdata) | missing: error with `[intake]`, else warning |
//! | `clock` | this machine's clock against central's (`Date` of `GET /healthz`) | above 2 s: warning; above 60 s: error |
//! | `disk` | the data directory against `central.max_disk_mb`; free space | 80 %: warning; 100 % or under 256 MiB free: error |
//! | `tls` | the `[tls]` files (or the bundle's) load and name this box; certificate and CA in date | not enrolled: warning; expired or not yet valid: error; under 30 days (a bundle's: 3): warning |
//! | `broker` | `replication.broker`: TCP, TLS when enrolled, MQTT CONNECT until CONNACK | error |
//! | `central` | `central.url` `GET /healthz`; an empty batch with the forwarding secret | unreachable or refused: error |
//! | `data_key` | the data key is readable, 64 hex digits, and opens `events.sqlite3` and `roster.sqlite3` | missing or wrong: error; none configured: warning |
//! | `data_dir` | the data directory is writable (or can be created) | error |
//!
//! The report and its exit status (0 ok, 1 warnings, 2 errors) are
//! [`checkup_provisioning::doctor`]'s; the checks are here by what they touch:
//! [`machine`] (readers, OCR, disk, data directory), [`keys`] (TLS, data key),
//! [`network`] (central and its clock, the broker).

pub mod keys;
pub mod machine;
pub mod network;

use checkup_provisioning::doctor::{Check, Report};

use crate::config::Config;

/// The box's TLS as the doctor found it.
pub enum TlsState {
    /// Not enrolled (plain HTTP and MQTT, `--insecure-dev`).
    None,
    /// Loaded: what the box's clients use.
    Loaded(crate::tls::EdgeTls),
    /// Configured but unusable (see the `tls` finding).
    Broken,
}

/// Run every check for `config`, in a fixed order.
pub async fn diagnose(config: &Config) -> Report {
    let c = config.clone();
    let local = tokio::task::spawn_blocking(move || {
        let (tls_check, tls) = keys::tls(&c);
        let checks = [
            machine::pcsc(&c),
            machine::ocr(&c),
            machine::disk(&c),
            tls_check,
            keys::data_key(&c),
            machine::data_dir(&c),
        ];
        (checks, tls)
    })
    .await;
    let ([pcsc, ocr, disk, tls_check, data_key, data_dir], tls) = match local {
        Ok(x) => x,
        Err(e) => {
            return Report {
                checks: vec![Check::error(
                    "doctor",
                    format!("診断が途中で失敗しました: {e}"),
                    format!("the checks failed: {e}"),
                    "RUST_BACKTRACE=1 checkup-edge doctor … (and report it)",
                )],
            };
        }
    };
    let ((clock, central), broker) = tokio::join!(
        network::central(config, &tls),
        network::broker(config, &tls)
    );
    Report {
        checks: vec![
            pcsc, ocr, clock, disk, tls_check, broker, central, data_key, data_dir,
        ],
    }
}

/// The report for a configuration that does not load at all.
pub fn unloadable(error: &str) -> Report {
    Report {
        checks: vec![Check::error(
            "config",
            format!("設定を読み込めません: {error}"),
            format!("the configuration does not load: {error}"),
            "fix the file (edge/config.example.toml lists every key), or the bundle's passphrase",
        )],
    }
}
