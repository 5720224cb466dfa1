//! Police-notice intake on a real box (`checkup-edge run`) under hostile and large input:
//!
//! - a TIFF decompression bomb (50 pages of 8900 × 8900, a few hundred kilobytes) uploaded
//!   over HTTP is refused from its headers with a coded error, the file kept, and the box's
//!   peak memory (`VmHWM` in `/proc/<pid>/status`) stays under 500 MB; so does the largest
//!   page the box accepts (a colour A4 scan at 600 dpi);
//! - a PDF is rendered from a private copy under the data directory (0700 / 0600, every
//!   path handed to poppler absolute), never under `$TMPDIR`, and the copy is gone after;
//!   a copy a crash left there is shredded when the box starts, and by `wipe`.
//!
//! Poppler's tools are reached through wrappers on `PATH` that record their arguments and
//! the modes of the files they are given, then run the real tool.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checkup_tests::notice_corpus::{Layout, example, render_example};
use checkup_tests::venue::Staff;
use checkup_tests::{Process, binary, hash_pin};
use image::ImageEncoder;
use serde_json::Value;
use uuid::Uuid;

const CLERK: (&str, &str) = ("C1", "5551");
const LIMIT_KB: u64 = 500 * 1024;

struct Box_ {
    dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

fn write_box() -> Box_ {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("edge-01");
    std::fs::create_dir_all(&data).expect("data dir");
    let venue = format!("intake-box-{}", Uuid::now_v7().simple());
    let toml = format!(
        "venue_id = \"{venue}\"\nnode_id = \"edge-01\"\nlisten = \"127.0.0.1:0\"\n\
         data_dir = \"{}\"\n\n[card]\nmode = \"off\"\n\n[replication]\n\
         broker = \"127.0.0.1:1883\"\ndiscovery = false\n\n\
         [[staff]]\nid = \"{}\"\nname = \"C1\"\nrole = \"child_welfare_clerk\"\npin_hash = \"{}\"\n",
        data.display(),
        CLERK.0,
        hash_pin(CLERK.1)
    );
    let config = data.join("edge.toml");
    std::fs::write(&config, toml).expect("config");
    Box_ { dir, data, config }
}

fn start(b: &Box_, env: &[(&str, &std::ffi::OsStr)]) -> Process {
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    Process::start_with_env(
        &bin,
        &[
            "run",
            "--config",
            &b.config.to_string_lossy(),
            "--insecure-dev",
        ],
        env,
        Duration::from_secs(60),
    )
    .expect("box")
}

async fn clerk(p: &Process) -> Staff {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    Staff::login_pin(http, &p.url, CLERK.0, CLERK.1)
        .await
        .expect("clerk signs in")
}

/// Upload `bytes` as `name`; wait until the OCR worker is done with it (at most three
/// minutes); the scan.
async fn upload_and_wait(clerk: &Staff, name: &str, bytes: Vec<u8>) -> Value {
    let (st, scan) = clerk
        .post_bytes(&format!("/api/intake/scans?name={name}"), bytes)
        .await
        .expect("upload");
    assert_eq!(st, 202, "{scan}");
    let id = scan["id"].as_str().expect("scan id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let list = clerk.get("/api/intake/scans").await.expect("inbox");
        let s = list["scans"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["id"] == id.as_str()).cloned())
            .expect("the scan is in the inbox");
        if s["status"] != "reading" || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// (VmRSS, VmHWM) of `pid`, kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .expect("memory field")
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bomb_tiff_upload_is_refused_and_the_box_stays_under_500_mb() {
    let b = write_box();
    let mut p = start(&b, &[]);
    let clerk = clerk(&p).await;
    let (_, hwm_start) = memory_kb(p.pid());

    let bomb = checkup_tests::scans::tiff_bomb(50, 8900, 8900).expect("bomb");
    let scan = upload_and_wait(&clerk, "bomb.tif", bomb.clone()).await;
    let (rss_bomb, hwm_bomb) = memory_kb(p.pid());
    eprintln!(
        "bomb ({} bytes): VmHWM {hwm_start} kB at start, {hwm_bomb} kB after (VmRSS {rss_bomb} kB)",
        bomb.len()
    );
    assert!(hwm_bomb < LIMIT_KB, "peak {hwm_bomb} kB over {LIMIT_KB} kB");
    assert_eq!(scan["status"], "failed", "{scan}");
    assert_eq!(scan["error"]["code"], "too_many_pixels", "{scan}");
    // Refused, not lost: the file is kept as received.
    let id = scan["id"].as_str().expect("id");
    let kept = std::fs::read(b.data.join("intake").join(id).join("original")).expect("kept");
    assert_eq!(kept, bomb);

    // The largest page the box takes: a colour A4 notice scanned at 600 dpi (34.8 million
    // pixels, 139 MB of RGBA samples decoded) is read, and the peak stays under the limit.
    let t = example("notice-0001.png");
    let page = render_example(&t, Layout::Table, false)
        .expect("render")
        .to_rgba8();
    let big = image::imageops::resize(&page, 4961, 7016, image::imageops::FilterType::Triangle);
    drop(page);
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Sub,
    )
    .write_image(
        big.as_raw(),
        big.width(),
        big.height(),
        image::ExtendedColorType::Rgba8,
    )
    .expect("png");
    drop(big);
    let scan = upload_and_wait(&clerk, "notice-600dpi.png", png).await;
    let (rss_big, hwm_big) = memory_kb(p.pid());
    eprintln!("600 dpi colour A4: VmHWM {hwm_big} kB (VmRSS {rss_big} kB)");
    assert!(hwm_big < LIMIT_KB, "peak {hwm_big} kB over {LIMIT_KB} kB");
    assert_eq!(scan["status"], "ready", "{scan}");
    let id = scan["id"].as_str().expect("id");
    let scan = clerk
        .get(&format!("/api/intake/scans/{id}"))
        .await
        .expect("the scan");
    assert_eq!(
        scan["result"]["fields"]["child_name"]["value"],
        t.child_name.as_str(),
        "a 600 dpi page is read as well as a 300 dpi one"
    );
    let status = p.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");
    drop(b.dir);
}

/// Wrappers for `pdfinfo` and `pdftoppm` in a directory of their own: each appends to `log`
/// its arguments (one line: `ARGS …`) and, for every argument that names an existing
/// file, `FILE <mode> <dir mode> <path>`, then runs the real tool.
fn poppler_wrappers(dir: &Path, log: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for tool in ["pdfinfo", "pdftoppm"] {
        let real = which(tool);
        let script = format!(
            "#!/bin/sh\n\
             echo \"ARGS $*\" >> '{log}'\n\
             for a in \"$@\"; do\n\
               if [ -f \"$a\" ]; then\n\
                 echo \"FILE $(stat -c %a \"$a\") $(stat -c %a \"$(dirname \"$a\")\") $a\" >> '{log}'\n\
               fi\n\
             done\n\
             exec '{real}' \"$@\"\n",
            log = log.display(),
            real = real.display()
        );
        let path = bin.join(tool);
        std::fs::write(&path, script).expect("wrapper");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    bin
}

fn which(tool: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{tool} (poppler-utils) not installed"))
}

/// Every file below `dir`, recursively.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_below(&p));
        }
        out.push(p);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_notices_are_rendered_in_the_data_dir_never_in_the_temporary_directory() {
    let b = write_box();
    let tmp = b.dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let log = b.dir.path().join("poppler.log");
    let wrappers = poppler_wrappers(b.dir.path(), &log);
    let path = std::env::join_paths(std::iter::once(wrappers).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut p = start(
        &b,
        &[("TMPDIR", tmp.as_os_str()), ("PATH", path.as_os_str())],
    );
    let clerk = clerk(&p).await;

    let t = example("notice-0001.png");
    let page = render_example(&t, Layout::Colon, false)
        .expect("render")
        .to_luma8();
    let pdf = checkup_tests::pdf::from_page(&page, 300.0).expect("pdf");
    let scan = upload_and_wait(&clerk, "notice.pdf", pdf).await;
    assert_eq!(scan["status"], "ready", "{scan}");

    let log = std::fs::read_to_string(&log).expect("the box ran poppler through the wrappers");
    eprintln!("{log}");
    // Every path handed to the tools is absolute; the PDF is a 0600 file in a 0700
    // directory under the data directory's intake work area.
    let work = b.data.join("intake/work");
    let files: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("FILE "))
        .collect();
    assert!(!files.is_empty(), "the tools were given the PDF as a file");
    for f in &files {
        let mut parts = f.splitn(3, ' ');
        let (mode, dir_mode, path) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            Path::new(parts.next().unwrap_or_default()),
        );
        assert!(path.is_absolute(), "{f}");
        assert!(
            path.starts_with(&work),
            "{f} is not under {}",
            work.display()
        );
        assert_eq!((mode, dir_mode), ("600", "700"), "{f}");
    }
    for args in log.lines().filter_map(|l| l.strip_prefix("ARGS ")) {
        for a in args.split(' ').filter(|a| a.contains('/')) {
            assert!(Path::new(a).is_absolute(), "relative path {a} in {args}");
        }
    }
    // Nothing under $TMPDIR; the private copy gone once rendered.
    assert_eq!(
        files_below(&tmp),
        Vec::<PathBuf>::new(),
        "files under $TMPDIR"
    );
    assert_eq!(
        files_below(&work),
        Vec::<PathBuf>::new(),
        "left in the work area"
    );
    let work_mode = std::fs::metadata(&work)
        .expect("work dir")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(work_mode, 0o700);
    let status = p.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_copy_left_by_a_crash_is_shredded_at_start_and_by_wipe() {
    let b = write_box();
    let leftover = |name: &str| {
        let d = b.data.join("intake/work").join(name);
        std::fs::create_dir_all(&d).expect("leftover dir");
        let f = d.join("in.pdf");
        std::fs::write(&f, "%PDF-1.4 児童 山田花子").expect("leftover");
        f
    };
    let first = leftover("render-crashed");
    let mut p = start(&b, &[]);
    let _ = clerk(&p).await;
    assert!(!first.exists(), "{} survived the start", first.display());
    assert!(!first.parent().expect("dir").exists());
    let status = p.terminate().expect("terminate");
    assert!(status.success(), "box exit: {status}");

    // A copy there when the box is wiped goes with the rest of the data directory.
    let second = leftover("render-again");
    let bin = binary("checkup-edge", "checkup-edge").expect("binary");
    let out = std::process::Command::new(bin)
        .args(["wipe", "--config"])
        .arg(&b.config)
        .output()
        .expect("wipe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!second.exists(), "{} survived the wipe", second.display());
}
