//! Checks of the box's key material: its TLS enrolment (`tls`) and its data key
//! (`data_key`). Blocking.

use checkup_provisioning::doctor::{self, Check};

use super::TlsState;
use crate::at_rest::{AtRestError, open_sqlite};
use crate::config::Config;

/// The enrolment loads, names this box, and its certificate and CA are in date; with the
/// TLS configurations the network checks use.
pub fn tls(c: &Config) -> (Check, TlsState) {
    const ID: &str = "tls";
    let renew = format!(
        "checkup-provision enrol --ca <CA dir> --node {} --venue {} --host <box address> --out <new dir>, then point [tls] at it (or a new bundle: checkup-provision bundle)",
        c.node_id, c.venue_id
    );
    let (cert, ca) = if let Some(pem) = &c.secrets.tls {
        (pem.cert.clone().into_bytes(), pem.ca.clone().into_bytes())
    } else if let Some(files) = &c.tls {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| {
                Check::error(
                    ID,
                    format!("{} を読めません: {e}", p.display()),
                    format!("cannot read {}: {e}", p.display()),
                    renew.clone(),
                )
            })
        };
        match (read(&files.cert), read(&files.ca)) {
            (Ok(cert), Ok(ca)) => (cert, ca),
            (Err(e), _) | (_, Err(e)) => return (e, TlsState::Broken),
        }
    } else {
        return (
            Check::warning(
                ID,
                "TLS の登録がありません: `run` は --insecure-dev なしでは起動しません (平文の HTTP と MQTT)",
                "not enrolled (no [tls]): `run` refuses to start without --insecure-dev (plain HTTP and MQTT)",
                renew,
            ),
            TlsState::None,
        );
    };
    let loaded = match crate::tls::EdgeTls::of(c) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return (
                Check::error(ID, "TLS がありません", "no TLS", renew),
                TlsState::Broken,
            );
        }
        Err(e) => {
            return (
                Check::error(
                    ID,
                    format!("TLS の登録を使えません: {e:#}"),
                    format!("the TLS enrolment does not load: {e:#}"),
                    renew,
                ),
                TlsState::Broken,
            );
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let warn_days = if c.secrets.tls.is_some() {
        doctor::WARN_BUNDLE_CERT_DAYS
    } else {
        doctor::WARN_CERT_DAYS
    };
    let check = doctor::certificates(&cert, &ca, now, warn_days, &renew);
    (check, TlsState::Loaded(loaded))
}

/// The data key is there, well formed and private, and opens the box's databases.
pub fn data_key(c: &Config) -> Check {
    const ID: &str = "data_key";
    let key = match c.data_key() {
        Ok(k) => k,
        Err(e) => {
            return Check::error(
                ID,
                format!("データ鍵を読めません: {e}"),
                format!("the data key cannot be read: {e}"),
                "insert the USB key (or restore the file) that store.key_file names; only for a new, empty box: checkup-provision data-key --out FILE",
            );
        }
    };
    for name in ["events.sqlite3", "roster.sqlite3"] {
        let path = c.data_dir.join(name);
        if !path.is_file() {
            continue;
        }
        match open_sqlite(
            &path,
            key.as_ref(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) {
            Ok(_) => {}
            Err(AtRestError::WrongKey { .. }) if key.is_some() => {
                return Check::error(
                    ID,
                    format!(
                        "{} がこのデータ鍵で開けません (別の鍵か、暗号化されていないファイル)",
                        path.display()
                    ),
                    format!(
                        "{} does not open with this data key (another key, or an unencrypted file)",
                        path.display()
                    ),
                    "start the box with its own data key (the store.key_file or bundle it was started with); a store opens with its own key only",
                );
            }
            Err(AtRestError::WrongKey { .. }) => {
                return Check::error(
                    ID,
                    format!(
                        "{} は暗号化されていますが、データ鍵が設定されていません",
                        path.display()
                    ),
                    format!(
                        "{} is encrypted but no data key is configured",
                        path.display()
                    ),
                    "set store.key_file to the box's data key (or start from its bundle)",
                );
            }
            Err(e) => {
                return Check::error(
                    ID,
                    format!("{} を開けません: {e}", path.display()),
                    format!("cannot open {}: {e}", path.display()),
                    format!(
                        "check {} (checkup-edge audit verify --config FILE)",
                        path.display()
                    ),
                );
            }
        }
    }
    if key.is_none() {
        return Check::warning(
            ID,
            "データ鍵がありません: 記録と名簿は暗号化されずにディスクに置かれます",
            "no data key: the event store and roster are written in the clear",
            "checkup-provision data-key --out /run/checkup-edge/data.key, then store.key_file = \"/run/checkup-edge/data.key\" (a new box only)",
        );
    }
    if c.secrets.data_key.is_none()
        && let Some(file) = &c.store.key_file
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
            return Check::warning(
                ID,
                format!("データ鍵 {} を他のユーザーも読めます", file.display()),
                format!("the data key {} is readable by other users", file.display()),
                format!("chmod 600 {}", file.display()),
            );
        }
    }
    let opened = if c.store_path().is_file() {
        "、events.sqlite3 を開けます"
    } else {
        ""
    };
    let opened_en = if c.store_path().is_file() {
        ", opens events.sqlite3"
    } else {
        ""
    };
    Check::ok(
        ID,
        format!("データ鍵があります{opened}"),
        format!("data key present{opened_en}"),
    )
}
