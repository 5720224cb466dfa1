//! A whole demo municipality in one command (`checkup-provision demo-municipality`): its CA,
//! a venue day with stations, staff and a small roster, one encrypted bundle per box, and
//! central enrolled with its configuration — everything a test or a demonstration needs to
//! run central and the boxes with TLS everywhere.
//!
//! ```text
//! <out>/ca/                    the CA (ca.crt, ca.key, crl.pem, issued.tsv)
//! <out>/day.toml, roster.csv   the venue day
//! <out>/bundles/edge-NN.bundle one per box (passphrase: <out>/passphrase)
//! <out>/central/               central's certificate and key; central.toml next to it
//! ```
//!
//! Demo PINs are printed (and only hashes are stored); never use this for real data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::bundle::{self, BundleError, DayBox, VenueDay};
use crate::{ca, pin};

/// Demo staff: id, name, role, station kinds, PIN.
pub const STAFF: &[(&str, &str, &str, &[&str], &str)] = &[
    ("R001", "受付 花子", "reception", &[], "1111"),
    ("S001", "計測 太郎", "station", &["measurement"], "2221"),
    ("S002", "血圧 和子", "station", &["blood_pressure"], "2222"),
    ("N001", "保健 典子", "nurse", &[], "3331"),
    ("D001", "医師 一郎", "doctor", &[], "4441"),
    ("A001", "会場 管理", "venue_admin", &[], "9991"),
];

/// The demo roster (reservation system CSV).
pub const ROSTER: &str = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at
0000000101,髙橋　節子,タカハシ　セツコ,1952-03-14,female,みどり市中央1丁目2番3号,特定健診,09:00
0000000102,齋藤　一郎,サイトウ　イチロウ,1958-11-02,male,みどり市緑町4番5号,特定健診,09:10
0000000103,渡邊　美和,ワタナベ　ミワ,1961-07-21,female,みどり市本町2丁目8番1号,後期高齢者健診,09:20
";

/// The enrolment of `node` (of `venue`) in `<pki>/<node>/`, issued on first use by the CA in
/// `pki` for `localhost`, 127.0.0.1 and `listen`'s address (the demo box and the demo
/// central, which share the demo box's CA). Delete `<pki>/<node>/` to issue it again, e.g.
/// for another listen address.
pub fn local_enrolment(
    pki: &Path,
    node: &str,
    venue: &str,
    listen: SocketAddr,
) -> Result<crate::tls::TlsFiles, ca::CaError> {
    let dir = pki.join(node);
    let cert = dir.join(format!("{node}.crt"));
    if !cert.exists() {
        let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        if !listen.ip().is_unspecified() && !listen.ip().is_loopback() {
            hosts.push(listen.ip().to_string());
        }
        ca::enrol_box(pki, node, venue, &hosts, &dir, 365)?;
    }
    Ok(crate::tls::TlsFiles {
        cert,
        key: dir.join(format!("{node}.key")),
        ca: pki.join(ca::CA_CERT),
        crl: Some(pki.join(ca::CA_CRL)),
    })
}

/// What was made.
#[derive(Debug)]
pub struct Demo {
    /// The CA directory.
    pub ca: PathBuf,
    /// The bundles.
    pub bundles: Vec<PathBuf>,
    /// The file holding the bundles' passphrase.
    pub passphrase: PathBuf,
    /// Central's configuration.
    pub central_config: PathBuf,
}

/// Make a demo municipality with `boxes` boxes in `out` (created; must not hold one
/// already). Central listens on `central`; boxes on `box_listen`; the hub's broker on
/// `broker_port` (the box's default when `None`, a free port when 0).
pub fn make(
    out: &Path,
    boxes: usize,
    central: SocketAddr,
    box_listen: &str,
    broker_port: Option<u16>,
) -> Result<Demo, BundleError> {
    if boxes == 0 || boxes > 99 {
        return Err(BundleError::Day("give 1 to 99 boxes".into()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BundleError::Io { path, source }
    };
    let ca_dir = out.join("ca");
    std::fs::create_dir_all(&ca_dir).map_err(io(&ca_dir))?;
    ca::create_ca(&ca_dir, "みどり市（デモ）", 365)?;
    let roster = out.join("roster.csv");
    std::fs::write(&roster, ROSTER).map_err(io(&roster))?;
    let staff = STAFF
        .iter()
        .map(|(id, name, role, stations, p)| {
            let mut t = toml::Table::new();
            t.insert("id".into(), (*id).into());
            t.insert("name".into(), (*name).into());
            t.insert("role".into(), (*role).into());
            t.insert(
                "stations".into(),
                toml::Value::Array(stations.iter().map(|s| (*s).into()).collect()),
            );
            t.insert(
                "pin_hash".into(),
                pin::hash(p)
                    .map_err(|e| BundleError::Day(e.to_string()))?
                    .into(),
            );
            Ok(toml::Value::Table(t))
        })
        .collect::<Result<Vec<_>, BundleError>>()?;
    let day = VenueDay {
        venue_id: "midori-demo".into(),
        venue_name: "みどり市 保健センター 集団健診（デモ）".into(),
        municipality: "midori".into(),
        listen: box_listen.into(),
        central_url: Some(format!("https://{central}")),
        days: 30,
        roster: Some(roster),
        stations: Vec::new(),
        staff,
        boxes: (1..=boxes)
            .map(|i| DayBox {
                node: format!("edge-{i:02}"),
                hosts: vec!["localhost".into(), "127.0.0.1".into()],
                hub: i == 1,
                broker_port: if i == 1 { broker_port } else { None },
            })
            .collect(),
    };
    let day_file = out.join("day.toml");
    std::fs::write(
        &day_file,
        toml::to_string(&day).map_err(|e| BundleError::Day(e.to_string()))?,
    )
    .map_err(io(&day_file))?;
    let passphrase_text = {
        let mut b = [0u8; 12];
        getrandom::fill(&mut b).map_err(|e| BundleError::Day(e.to_string()))?;
        format!("demo-{}", hex::encode(b))
    };
    let passphrase = out.join("passphrase");
    crate::keys::write_new(
        &passphrase,
        format!("{passphrase_text}\n").as_bytes(),
        0o600,
    )
    .map_err(|e| BundleError::Day(e.to_string()))?;
    let made = bundle::make(&ca_dir, &day, &out.join("bundles"), &passphrase_text)?;

    let central_dir = out.join("central");
    let central_enrolment = ca::enrol_box(
        &ca_dir,
        "central",
        "municipal",
        &["localhost".into(), central.ip().to_string()],
        &central_dir,
        365,
    )?;
    let boxes_toml =
        std::fs::read_to_string(&made.central_boxes).map_err(io(&made.central_boxes))?;
    let central_config = central_dir.join("central.toml");
    let admin_hash = pin::hash("1234").map_err(|e| BundleError::Day(e.to_string()))?;
    std::fs::write(
        &central_config,
        format!(
            "listen = \"{central}\"\ndata_dir = \"{}\"\n{boxes_toml}\n\
             [[staff]]\nid = \"C001\"\nname = \"保健 太郎\"\nrole = \"central_admin\"\npin_hash = \"{admin_hash}\"\n\n\
             [tls]\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\ncrl = \"{}\"\n",
            central_dir.join("data").display(),
            central_enrolment.cert.display(),
            central_enrolment.key.display(),
            ca_dir.join(ca::CA_CERT).display(),
            ca_dir.join(ca::CA_CRL).display(),
        ),
    )
    .map_err(io(&central_config))?;
    Ok(Demo {
        ca: ca_dir,
        bundles: made.bundles,
        passphrase,
        central_config,
    })
}
