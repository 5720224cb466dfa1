//! Checks of the machine the box runs on: card readers (`pcsc`), the Tesseract Japanese
//! model (`ocr`), disk space (`disk`) and the data directory (`data_dir`). Blocking.

use std::path::{Path, PathBuf};

use checkup_drivers::card;
use checkup_provisioning::doctor::{self, Check, mib};

use crate::config::{CardMode, Config};

/// pcscd's socket when `PCSCLITE_CSOCK_NAME` does not name another.
const PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
/// Where Debian's Tesseract 5 keeps its models when `TESSDATA_PREFIX` is not set.
const DEBIAN_TESSDATA: &str = "/usr/share/tesseract-ocr/5/tessdata";

/// Whether `name` is an executable file on `PATH`.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

/// Card readers as `card.mode` wants them.
pub fn pcsc(c: &Config) -> Check {
    const ID: &str = "pcsc";
    match c.card.mode {
        CardMode::Off => Check::skipped(
            ID,
            "カード読み取りは無効です (card.mode = \"off\")",
            "card reading is off (card.mode = \"off\")",
        ),
        CardMode::Virtual => {
            let missing: Vec<&str> = ["pcscd", "ip", "unshare"]
                .into_iter()
                .filter(|b| !on_path(b))
                .collect();
            if !missing.is_empty() {
                return Check::error(
                    ID,
                    format!(
                        "仮想カードリーダーに必要なコマンドがありません: {}",
                        missing.join(", ")
                    ),
                    format!(
                        "the virtual card reader needs {}, not found on PATH",
                        missing.join(", ")
                    ),
                    "sudo apt-get install pcscd iproute2 util-linux",
                );
            }
            if let Err(e) = checkup_drivers::virtual_reader::vpcd_driver() {
                return Check::error(
                    ID,
                    format!("vpcd ドライバーがありません: {e}"),
                    format!("no vpcd driver: {e}"),
                    "sudo apt-get install vsmartcard-vpcd",
                );
            }
            // The virtual reader makes a network and a mount namespace: root only. The
            // owner of /proc/self is the process's effective user.
            use std::os::unix::fs::MetadataExt;
            if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() != 0) {
                return Check::error(
                    ID,
                    "仮想カードリーダーには root 権限が必要です",
                    "the virtual card reader needs root (network and mount namespaces)",
                    "sudo checkup-edge run … (or card.mode = \"system\" with a real reader)",
                );
            }
            Check::ok(
                ID,
                "仮想カードリーダーの部品 (pcscd, vpcd) が揃っています",
                "the virtual card reader's parts (pcscd, vpcd) are installed",
            )
        }
        CardMode::System => system_readers(),
    }
}

fn system_readers() -> Check {
    const ID: &str = "pcsc";
    let socket = std::env::var_os("PCSCLITE_CSOCK_NAME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(PCSCD_SOCKET));
    let start = if on_path("pcscd") {
        "sudo systemctl start pcscd"
    } else {
        "sudo apt-get install pcscd libccid && sudo systemctl start pcscd"
    };
    let ctx = match card::pcsc::context() {
        Ok(ctx) => ctx,
        Err(e) => {
            return Check::error(
                ID,
                format!("pcscd が応答しません ({}): {e}", socket.display()),
                format!("pcscd does not answer on {}: {e}", socket.display()),
                start,
            );
        }
    };
    match card::pcsc::list_readers(&ctx) {
        Err(e) => Check::error(
            ID,
            format!("カードリーダーの一覧を取得できません: {e}"),
            format!("pcscd does not list its readers: {e}"),
            "sudo systemctl restart pcscd",
        ),
        Ok(r) if r.is_empty() => Check::warning(
            ID,
            "pcscd は動いていますが、カードリーダーが接続されていません",
            "pcscd runs but no card reader is connected",
            "connect the USB card reader, then check with: checkup-edge card list",
        ),
        Ok(r) => {
            let names: Vec<String> = r.into_iter().map(|r| r.name).collect();
            Check::ok(
                ID,
                format!("カードリーダー {} 台: {}", names.len(), names.join(", ")),
                format!("{} card reader(s): {}", names.len(), names.join(", ")),
            )
        }
    }
}

/// Tesseract with the Japanese model, started the way the OCR code starts it.
pub fn ocr(c: &Config) -> Check {
    const ID: &str = "ocr";
    let (dir, from_env) = match std::env::var_os("TESSDATA_PREFIX") {
        Some(d) => (PathBuf::from(d), true),
        None => (PathBuf::from(DEBIAN_TESSDATA), false),
    };
    let model = dir.join("jpn.traineddata");
    match checkup_drivers::scan::ocr::Engine::new() {
        Ok(_) => Check::ok(
            ID,
            format!(
                "Tesseract の日本語モデルを読み込めます ({})",
                model.display()
            ),
            format!(
                "Tesseract starts with the Japanese model ({})",
                model.display()
            ),
        ),
        Err(e) => {
            let fix = if from_env {
                format!(
                    "sudo apt-get install tesseract-ocr-jpn, and unset TESSDATA_PREFIX (or copy jpn.traineddata into {})",
                    dir.display()
                )
            } else {
                "sudo apt-get install tesseract-ocr-jpn".to_owned()
            };
            let ja = format!(
                "Tesseract の日本語モデル {} を読み込めません (児童通告書の読み取りができません): {e}",
                model.display()
            );
            let en = format!(
                "Tesseract cannot load the Japanese model {} (police notices cannot be read): {e}",
                model.display()
            );
            if c.intake.hot_folder.is_some() {
                Check::error(ID, ja, en, fix)
            } else {
                Check::warning(ID, ja, en, fix)
            }
        }
    }
}

/// The data directory against its bound (`central.max_disk_mb`) and the file system's
/// free space.
pub fn disk(c: &Config) -> Check {
    const ID: &str = "disk";
    let free_fix = format!(
        "free space on the disk holding {} (sudo du -xsh /var/* | sort -h), or use a larger disk",
        c.data_dir.display()
    );
    let base = doctor::disk(&c.data_dir, &free_fix);
    if base.status == doctor::Status::Error {
        return base;
    }
    let used = crate::forward::dir_size(&c.data_dir);
    let bound = c.central.max_disk_mb.saturating_mul(1024 * 1024);
    let wipe = "once central holds every event (see the board): checkup-edge wipe --config FILE; or raise central.max_disk_mb";
    if bound > 0 && used >= bound {
        return Check::error(
            ID,
            format!(
                "データディレクトリが上限を超えています: {} / {} (central.max_disk_mb)",
                mib(used),
                mib(bound)
            ),
            format!(
                "the data directory is over its bound: {} of {} (central.max_disk_mb)",
                mib(used),
                mib(bound)
            ),
            wipe,
        );
    }
    if bound > 0 && used.saturating_mul(5) >= bound.saturating_mul(4) {
        return Check::warning(
            ID,
            format!(
                "データディレクトリが上限の 80% を超えています: {} / {}",
                mib(used),
                mib(bound)
            ),
            format!(
                "the data directory is above 80 % of its bound: {} of {}",
                mib(used),
                mib(bound)
            ),
            wipe,
        );
    }
    let at = doctor::existing_ancestor(&c.data_dir);
    let free = doctor::free_space(&at).unwrap_or(u64::MAX);
    if bound > 0 && free < bound - used {
        return Check::warning(
            ID,
            format!(
                "空き容量 {} は、データディレクトリの上限までの残り {} より少なく、上限より先にディスクが一杯になります",
                mib(free),
                mib(bound - used)
            ),
            format!(
                "{} free is less than the {} left to the data directory's bound: the disk fills first",
                mib(free),
                mib(bound - used)
            ),
            format!("{free_fix}; or lower central.max_disk_mb"),
        );
    }
    Check::ok(
        ID,
        format!(
            "データ {} / 上限 {}、空き {}",
            mib(used),
            mib(bound),
            mib(free)
        ),
        format!(
            "data {} of its {} bound, {} free",
            mib(used),
            mib(bound),
            mib(free)
        ),
    )
}

/// Write, sync and remove a probe file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let p = dir.join(format!(".checkup-doctor-probe-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)
        .and_then(|mut f| {
            f.write_all(b"probe")?;
            f.sync_all()
        });
    let removed = std::fs::remove_file(&p);
    written?;
    removed
}

/// The data directory can be written (or created).
pub fn data_dir(c: &Config) -> Check {
    const ID: &str = "data_dir";
    let d = &c.data_dir;
    let fix = format!(
        "sudo mkdir -p {0} && sudo chown \"$(id -un)\" {0} && sudo chmod 700 {0}",
        d.display()
    );
    if d.exists() && !d.is_dir() {
        return Check::error(
            ID,
            format!(
                "データディレクトリ {} はディレクトリではありません",
                d.display()
            ),
            format!("the data directory {} is not a directory", d.display()),
            format!("data_dir (or --data-dir) must name a directory: {fix}"),
        );
    }
    let (at, exists) = if d.is_dir() {
        (d.clone(), true)
    } else {
        (doctor::existing_ancestor(d), false)
    };
    match probe(&at) {
        Err(e) => Check::error(
            ID,
            format!("{} に書き込めません: {e}", at.display()),
            format!("cannot write in {}: {e}", at.display()),
            fix,
        ),
        Ok(()) if exists => Check::ok(
            ID,
            format!("データディレクトリ {} に書き込めます", d.display()),
            format!("the data directory {} is writable", d.display()),
        ),
        Ok(()) => Check::ok(
            ID,
            format!(
                "データディレクトリ {} はまだありません (初回起動時に作られます)",
                d.display()
            ),
            format!(
                "the data directory {} does not exist yet (made at first start)",
                d.display()
            ),
        ),
    }
}
