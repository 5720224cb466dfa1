//! The demo venue behind `checkup-edge demo`: a municipal checkup day with stations, staff
//! on duty (PINs printed at start) and a roster of 200 generated residents.
//!
//! Names, addresses and dates are generated from small fixed lists, so every demo box shows
//! the same venue. The name list deliberately includes 旧字体 variants (髙橋, 齋藤, 渡邊,
//! 山﨑, 濱田) that reception's matching must handle.

use std::net::SocketAddr;
use std::path::Path;

use checkup_protocol::{Role, StationKind};

use crate::auth::hash_pin;
use crate::config::{Config, StaffConfig, StationConfig};
use crate::roster::{Resident, Roster};

/// The demo municipality's CA and this box's enrolment in `<data_dir>/pki`, made on first
/// start: the certificate names `localhost`, 127.0.0.1 and the listen address (delete the
/// folder to issue them again, e.g. for another listen address), and the box's data key
/// (`pki/edge-01/data.key`: kept beside the data for the demo only — a real box gets it
/// from its enrolment bundle). Returns the TLS files and the data key file.
pub fn enrolment(
    data_dir: &Path,
    listen: SocketAddr,
) -> anyhow::Result<(checkup_provisioning::tls::TlsFiles, std::path::PathBuf)> {
    enrolment_for(data_dir, listen, VENUE_ID)
}

/// As [`enrolment`], for the venue `venue` (the training box's own).
pub fn enrolment_for(
    data_dir: &Path,
    listen: SocketAddr,
    venue: &str,
) -> anyhow::Result<(checkup_provisioning::tls::TlsFiles, std::path::PathBuf)> {
    use checkup_provisioning::ca;
    let pki = data_dir.join("pki");
    let node = "edge-01";
    if !pki.join(ca::CA_CERT).exists() {
        std::fs::create_dir_all(&pki)?;
        ca::create_ca(&pki, "みどり市（デモ）", 1830)?;
    }
    let tls = checkup_provisioning::demo::local_enrolment(&pki, node, venue, listen)?;
    let data_key = data_key_in(&pki.join(node))?;
    Ok((tls, data_key))
}

/// The data key file `dir/data.key` (0600), made with a new key if missing.
pub fn data_key_in(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let data_key = dir.join("data.key");
    if !data_key.exists() {
        std::fs::create_dir_all(dir)?;
        checkup_provisioning::keys::write_new(
            &data_key,
            crate::at_rest::DataKey::generate().to_hex().as_bytes(),
            0o600,
        )?;
    }
    Ok(data_key)
}

/// Venue id of the demo.
pub const VENUE_ID: &str = "demo-venue";

/// A demo staff member with their PIN in clear (demo only).
#[derive(Debug, Clone)]
pub struct DemoStaff {
    /// Staff id.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// Role.
    pub role: Role,
    /// Stations (role station).
    pub stations: &'static [StationKind],
    /// PIN (demo only; real boxes get hashes from provisioning).
    pub pin: &'static str,
}

/// Staff on duty at the demo venue.
pub const STAFF: &[DemoStaff] = &[
    DemoStaff {
        id: "R001",
        name: "受付 花子",
        role: Role::Reception,
        stations: &[],
        pin: "1111",
    },
    DemoStaff {
        id: "R002",
        name: "受付 次郎",
        role: Role::Reception,
        stations: &[],
        pin: "1112",
    },
    DemoStaff {
        id: "S001",
        name: "計測 太郎",
        role: Role::Station,
        stations: &[StationKind::Measurement],
        pin: "2221",
    },
    DemoStaff {
        id: "S002",
        name: "血圧 和子",
        role: Role::Station,
        stations: &[StationKind::BloodPressure],
        pin: "2222",
    },
    DemoStaff {
        id: "S003",
        name: "検査 健一",
        role: Role::Station,
        stations: &[
            StationKind::Urine,
            StationKind::BloodDraw,
            StationKind::Ecg,
            StationKind::Fundus,
        ],
        pin: "2223",
    },
    DemoStaff {
        id: "N001",
        name: "保健 典子",
        role: Role::Nurse,
        stations: &[],
        pin: "3331",
    },
    DemoStaff {
        id: "D001",
        name: "医師 誠",
        role: Role::Doctor,
        stations: &[],
        pin: "4441",
    },
    DemoStaff {
        id: "A001",
        name: "会場 管理",
        role: Role::VenueAdmin,
        stations: &[],
        pin: "9991",
    },
    DemoStaff {
        id: "C001",
        name: "児童 福祉",
        role: Role::ChildWelfareClerk,
        stations: &[],
        pin: "5551",
    },
    DemoStaff {
        id: "K001",
        name: "相談 花子",
        role: Role::Caseworker,
        stations: &[],
        pin: "2468",
    },
    DemoStaff {
        id: "U001",
        name: "監査 担当",
        role: Role::Auditor,
        stations: &[],
        pin: "8881",
    },
];

/// The demo configuration for a data directory and listen address.
pub fn config(data_dir: &Path, listen: SocketAddr) -> Result<Config, String> {
    let staff = STAFF
        .iter()
        .map(|s| {
            Ok(StaffConfig {
                id: s.id.into(),
                name: s.name.into(),
                role: s.role,
                stations: s.stations.to_vec(),
                rank: Default::default(),
                pin_hash: hash_pin(s.pin)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let st = |id: &str, kind, label: &str| StationConfig {
        id: id.into(),
        kind,
        label: label.into(),
    };
    Ok(Config {
        venue_id: VENUE_ID.into(),
        venue_name: "みどり市 保健センター 集団健診（デモ）".into(),
        node_id: "edge-01".into(),
        listen,
        data_dir: data_dir.to_path_buf(),
        stations: vec![
            st("questionnaire", StationKind::Questionnaire, "問診"),
            st("measurement", StationKind::Measurement, "身体計測"),
            st("bp-1", StationKind::BloodPressure, "血圧 1"),
            st("bp-2", StationKind::BloodPressure, "血圧 2"),
            st("urine", StationKind::Urine, "尿検査"),
            st("blood-draw", StationKind::BloodDraw, "採血"),
            st("ecg", StationKind::Ecg, "心電図"),
            st("fundus", StationKind::Fundus, "眼底"),
            st("doctor", StationKind::Doctor, "診察"),
        ],
        staff,
        // The demo box is its venue's hub: one box works alone, a second one joins it.
        replication: crate::config::ReplicationConfig {
            hub: true,
            ..Default::default()
        },
        // Files dropped here (a network scanner's "scan to folder") reach the clerk's inbox.
        intake: crate::config::IntakeConfig {
            hot_folder: Some(data_dir.join("scanner")),
            register: None,
            keep_photo_location: false,
        },
        ..Config::default()
    })
}

const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("髙橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡邊", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山﨑", "ヤマザキ"),
    ("齋藤", "サイトウ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
    ("濱田", "ハマダ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("石川", "イシカワ"),
];
const GIVEN_M: &[(&str, &str)] = &[
    ("清", "キヨシ"),
    ("茂", "シゲル"),
    ("博", "ヒロシ"),
    ("隆", "タカシ"),
    ("誠", "マコト"),
    ("健一", "ケンイチ"),
    ("正雄", "マサオ"),
    ("和夫", "カズオ"),
    ("浩二", "コウジ"),
    ("修", "オサム"),
];
const GIVEN_F: &[(&str, &str)] = &[
    ("幸子", "サチコ"),
    ("節子", "セツコ"),
    ("和子", "カズコ"),
    ("洋子", "ヨウコ"),
    ("恵子", "ケイコ"),
    ("京子", "キョウコ"),
    ("久美子", "クミコ"),
    ("裕子", "ユウコ"),
    ("美智子", "ミチコ"),
    ("順子", "ジュンコ"),
];
const TOWNS: &[&str] = &["中央", "緑町", "桜台", "大字本郷", "東原", "西山"];

/// The 200 booked residents of the demo day.
pub fn roster() -> Vec<Resident> {
    (0..200usize)
        .map(|i| {
            let female = i % 2 == 1;
            let (fam, fam_k) = FAMILY[(i * 7) % FAMILY.len()];
            let (given, given_k) = if female {
                GIVEN_F[(i / 2 + i / 25) % GIVEN_F.len()]
            } else {
                GIVEN_M[(i / 2 + i / 25) % GIVEN_M.len()]
            };
            let year = 1946 + (i * 13) % 40;
            let month = 1 + (i * 5) % 12;
            let day = 1 + (i * 11) % 28;
            let town = TOWNS[i % TOWNS.len()];
            let chome = 1 + i % 4;
            let ban = 1 + (i * 3) % 20;
            let go = 1 + (i * 7) % 15;
            let course = if year <= 1951 {
                "後期高齢者健診"
            } else {
                "特定健診"
            };
            let minutes = 9 * 60 + (i % 36) * 5;
            Resident {
                resident_id: format!("{:010}", 1_000_100 + i * 37),
                name: format!("{fam}　{given}"),
                name_kana: format!("{fam_k}　{given_k}"),
                birth_date: format!("{year:04}-{month:02}-{day:02}"),
                sex: if female { "female" } else { "male" }.into(),
                address: format!("みどり市{town}{chome}丁目{ban}番{go}号"),
                course: course.into(),
                booked_at: format!("{:02}:{:02}", minutes / 60, minutes % 60),
                insurer: None,
            }
        })
        .collect()
}

/// Load the demo roster into the data directory (idempotent).
pub fn load_roster(
    data_dir: &Path,
    key: Option<&crate::at_rest::DataKey>,
) -> anyhow::Result<usize> {
    std::fs::create_dir_all(data_dir)?;
    let roster = Roster::open(&data_dir.join("roster.sqlite3"), key)?;
    Ok(roster.upsert(&self::roster())?)
}

/// The demo PIN of a resident's My Number card: the last four digits of the resident number.
pub fn demo_pin(resident_id: &str) -> String {
    let digits: String = resident_id.chars().filter(char::is_ascii_digit).collect();
    format!("{:0>4}", &digits[digits.len().saturating_sub(4)..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_roster_has_two_hundred_distinct_residents() {
        let r = roster();
        assert_eq!(r.len(), 200);
        let ids: std::collections::HashSet<_> = r.iter().map(|x| &x.resident_id).collect();
        assert_eq!(ids.len(), 200);
        assert!(r.iter().any(|x| x.name.starts_with("髙橋")));
    }
}
