//! A sample checkup day for the demo central, the tests and the benchmarks: `N` residents
//! of みどり市 with their register entries and insurer identities, each checked in at the
//! demo venue and taken through every station as the box records it — 身体計測, 血圧 (two
//! readings), 尿, 採血 (with 採血時間), the full questionnaire (22 answers), 診察 (findings,
//! their texts, the doctor's judgement) — and checked out.
//!
//! The events are signed by an enrolled box's key and stored through the real ingest path:
//! [`crate::ingest::check_batch`] (format, payload rules, signatures, venue, limits), then
//! [`EventRow::from_accepted`] and [`Store::ingest`] — exactly what `POST /v1/batches` does
//! with a box's batch. The register goes in through [`Store::upsert_residents`] as the
//! register import does.
//!
//! Everything is deterministic: resident `k` is always the same person (name, birth, sex,
//! insurer), and a day's checkups are the same events for the same `(day, k)` — same ids,
//! same seqs, same signatures (Ed25519 is deterministic). Filling the same day again stores
//! nothing new ([`Filled::new_events`] is 0). Filling the same day with another number of
//! residents is refused ([`SampleError::OtherDayStored`]), since the seqs of that day are
//! already held by other events. Seqs start at [`SEQ_BASE`] plus a stride per day, so they
//! never meet the box's own seqs.
//!
//! Values are plausible and varied: about a sixth of the residents are メタボ (waist, blood
//! pressure and HbA1c all high), others 予備群 or not at all; some came after a meal (採血時間
//! 3 or 4: no 空腹時血糖), some had one blood-pressure reading only (the second left out and
//! listed as missing at the sign-off, as the box records it); every record passes the
//! export's checks.

use std::collections::{BTreeMap, HashMap};

use checkup_protocol::insurer::check_digit;
use checkup_protocol::items::{ItemValueKind, StationKind};
use checkup_protocol::questionnaire::{AnswerSet, QUESTIONS};
use checkup_protocol::{
    Actor, Answered, Channel, Event, EventBody, Hlc, InsurerIdentity, Lang, MeasuredValue,
    MeasurementRecorded, NodeKey, PublicKey, Role, SessionClosed, SessionOpened, StationVisited,
};
use time::Date;
use uuid::Uuid;

use crate::config::Config;
use crate::db::{DbError, EventRow, Resident, Store};
use crate::tokutei::export::Settings;
use crate::tokutei::items::ItemTable;
use crate::tokutei::model::Sender;

/// Most residents of one sample day (the day's events stay within the day's HLC window and
/// its seq stride).
pub const MAX_RESIDENTS: usize = 20_000;
/// The first seq of sample events: far above any seq a box reaches by itself.
pub const SEQ_BASE: u64 = 1_000_000_000_000;
/// Seqs reserved per day.
const SEQ_PER_DAY: u64 = 100_000_000;
/// Events per batch, as a box forwards them.
pub const BATCH: usize = 500;
/// The demo venue (the demo box's).
pub const VENUE: &str = "demo-venue";
/// The demo municipality.
pub const MUNICIPALITY: &str = "demo";
/// The sender written into the archive (健診機関番号, 10 digits) and its name.
pub const SENDER_NUMBER: &str = "1312345678";
/// The sender's name.
pub const SENDER_NAME: &str = "みどり市保健センター";
/// The doctor of the day: staff id (the demo box's) and name.
pub const DOCTOR: (&str, &str) = ("D001", "医師 誠");

/// Why a sample day could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// Too many or too few residents.
    #[error("住民数は1〜{MAX_RESIDENTS}人です / residents must be 1 to {MAX_RESIDENTS} (got {0})")]
    Residents(usize),
    /// A day before 2000 (the seq layout starts there).
    #[error("{0} は2000年以降の日付ではありません / {0} is before 2000")]
    Day(Date),
    /// The signing node is not an enrolled box.
    #[error("{0} は登録された箱ではありません / {0} is not an enrolled box")]
    NotEnrolled(String),
    /// The key does not match the enrolled box's public key.
    #[error(
        "{0} の鍵が登録された公開鍵と合いません / the key of {0} is not its enrolled public key"
    )]
    KeyMismatch(String),
    /// The ingest refused a batch (a bug of the generator: the events are made to pass).
    #[error("取り込みが拒否しました / the ingest refused a batch: {0}")]
    Refused(#[from] checkup_protocol::BatchError),
    /// The day's seqs are held by other events: a sample day of another size (or from
    /// another build) was stored for this day already.
    #[error(
        "{day} のサンプル日はすでに別の内容で保存されています（別の人数など）。別の --sample-date か新しいデータディレクトリを使ってください / \
         a different sample day (another number of residents?) is already stored for {day}: use another date or a fresh data directory"
    )]
    OtherDayStored {
        /// The day.
        day: Date,
    },
    /// The database.
    #[error(transparent)]
    Db(DbError),
}

/// The box that signs the sample events: an enrolled node and its key.
pub struct Signer {
    /// Node id, as enrolled.
    pub node: String,
    /// Its signing key.
    pub key: NodeKey,
}

/// One resident of the sample: the register entry and who insures them.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleResident {
    /// The register entry (宛名番号, 氏名, カナ, 生年月日, 性別, 住所).
    pub register: Resident,
    /// The insurer identity the box's roster gives at check-in.
    pub insurer: InsurerIdentity,
}

/// An insurer of the sample and how many residents of the day it insures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsurerCount {
    /// 保険者番号.
    pub number: String,
    /// Its name.
    pub name_ja: &'static str,
    /// Residents of the day it insures.
    pub residents: usize,
}

/// What [`fill`] did.
#[derive(Debug, Clone)]
pub struct Filled {
    /// The checkup day.
    pub day: Date,
    /// Residents of the day.
    pub residents: usize,
    /// Events of the day.
    pub events: usize,
    /// Events newly stored (0 when the day was stored already).
    pub new_events: usize,
    /// Register entries written (0 when the register held them already).
    pub register_written: usize,
    /// The insurers, with their residents.
    pub insurers: Vec<InsurerCount>,
}

/// The insurers: 保険者番号 without its check digit, name, share of residents in percent.
const INSURERS: [(&str, &str, u64); 4] = [
    ("13805", "みどり市国民健康保険", 50),
    ("0113001", "全国健康保険協会 東京支部", 25),
    ("0613512", "みどり電機健康保険組合", 15),
    ("3113002", "東京都職員共済組合", 10),
];

/// (kanji, kana) family names.
const FAMILY: [(&str, &str); 20] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
];
const MALE: [(&str, &str); 16] = [
    ("太郎", "タロウ"),
    ("一郎", "イチロウ"),
    ("健一", "ケンイチ"),
    ("誠", "マコト"),
    ("浩", "ヒロシ"),
    ("隆", "タカシ"),
    ("勇", "イサム"),
    ("修", "オサム"),
    ("茂", "シゲル"),
    ("進", "ススム"),
    ("明", "アキラ"),
    ("剛", "ツヨシ"),
    ("正雄", "マサオ"),
    ("和夫", "カズオ"),
    ("大輔", "ダイスケ"),
    ("秀樹", "ヒデキ"),
];
const FEMALE: [(&str, &str); 16] = [
    ("花子", "ハナコ"),
    ("恵子", "ケイコ"),
    ("幸子", "サチコ"),
    ("洋子", "ヨウコ"),
    ("京子", "キョウコ"),
    ("久美子", "クミコ"),
    ("直子", "ナオコ"),
    ("由美子", "ユミコ"),
    ("智子", "トモコ"),
    ("裕子", "ユウコ"),
    ("明美", "アケミ"),
    ("真由美", "マユミ"),
    ("和子", "カズコ"),
    ("美穂", "ミホ"),
    ("典子", "ノリコ"),
    ("弘美", "ヒロミ"),
];
const TOWNS: [&str; 6] = ["緑町", "若葉台", "桜ケ丘", "本町", "東原", "川端"];

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn new(parts: &[u64]) -> Rng {
        let mut r = Rng(0x5EED_DA7A_0000_0001);
        for p in parts {
            r.0 ^= p.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            r.next();
        }
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal: mean `m`, spread `s` (sum of three uniforms).
    fn normal(&mut self, m: f64, s: f64) -> f64 {
        let u = self.uniform(-1.0, 1.0) + self.uniform(-1.0, 1.0) + self.uniform(-1.0, 1.0);
        m + s * u
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn with_check_digit(body: &str) -> String {
    format!("{body}{}", check_digit(body).unwrap_or(0))
}

/// Resident `k` (0-based) of the sample, the same on every day: register entry and insurer
/// identity (受診券 for the fiscal year of `day`).
pub fn resident(k: usize, day: Date) -> SampleResident {
    let mut r = Rng::new(&[k as u64, 1]);
    let male = r.percent(48);
    let (fam, fam_kana) = r.pick(&FAMILY);
    let (given, given_kana) = if male { r.pick(&MALE) } else { r.pick(&FEMALE) };
    let share = r.below(100);
    let mut acc = 0;
    let mut which = 0;
    for (i, (_, _, p)) in INSURERS.iter().enumerate() {
        acc += p;
        if share < acc {
            which = i;
            break;
        }
    }
    // 国保: mostly 60–74; employees' insurers: 40–64.
    let age = if which == 0 {
        40 + r.below(35).max(r.below(35))
    } else {
        40 + r.below(25)
    };
    let birth = Date::from_calendar_date(
        2026 - age as i32,
        time::Month::try_from(1 + r.below(12) as u8).unwrap_or(time::Month::January),
        1 + r.below(28) as u8,
    )
    .unwrap_or(Date::MIN);
    let number = with_check_digit(INSURERS[which].0);
    let fiscal_end = if u8::from(day.month()) >= 4 {
        day.year() + 1
    } else {
        day.year()
    };
    let (symbol, card_number, branch) = match which {
        0 => (
            Some("みどり".to_owned()),
            format!("{:06}", 100_000 + k),
            None,
        ),
        1 => (
            Some(format!("{:08}", 2_000_000 + r.below(9_000_000))),
            format!("{}", 1 + r.below(9_999)),
            Some(format!("{:02}", r.below(3))),
        ),
        2 => (
            Some(format!("{}", 10 + r.below(90))),
            format!("{}", 1000 + k),
            Some("00".to_owned()),
        ),
        _ => (
            Some("都職".to_owned()),
            format!("{:07}", 3_000_000 + k),
            Some(format!("{:02}", r.below(2))),
        ),
    };
    SampleResident {
        register: Resident {
            resident_id: format!("{:010}", 80_000_000 + k),
            name: format!("{fam}　{given}"),
            name_kana: format!("{fam_kana}　{given_kana}"),
            birth_date: birth.to_string(),
            sex: if male { "male" } else { "female" }.to_owned(),
            address: format!(
                "みどり市{}{}丁目{}番{}号",
                r.pick(&TOWNS),
                1 + r.below(5),
                1 + r.below(30),
                1 + r.below(20)
            ),
            postal_code: format!("{:03}-{:04}", 100 + k % 900, k % 10_000),
            district: ["中央", "北", "南", "東"][k % 4].to_owned(),
        },
        insurer: InsurerIdentity {
            insurer_number: number,
            symbol,
            number: card_number,
            branch,
            ticket_number: Some(format!(
                "{:02}{}{:08}",
                (fiscal_end - 1) % 100,
                which + 1,
                k + 1
            )),
            ticket_expiry: Some(format!("{fiscal_end}-03-31")),
        },
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn text(s: &str) -> MeasuredValue {
    MeasuredValue::Text(s.to_owned())
}

/// One station's worth: (station, staff id, role, results, missing).
type Visit = (
    StationKind,
    &'static str,
    Role,
    Vec<(&'static str, MeasuredValue)>,
    Vec<&'static str>,
);

/// The stations of resident `k`'s checkup on `day`, as the box records them, and the
/// questionnaire answers (item code, answer code).
fn checkup(k: usize, day: Date, sex_male: bool, age: u32) -> (Vec<Visit>, Vec<(String, String)>) {
    let mut r = Rng::new(&[k as u64, day.to_julian_day() as u64, 2]);
    // One in six メタボ, one in six 予備群-like, the rest as they come.
    let profile = k % 6;
    let bmi = match profile {
        0 => r.uniform(26.5, 31.0),
        3 => r.uniform(24.5, 27.5),
        _ => r.normal(22.3, 2.2).clamp(17.0, 29.0),
    };
    let height = round1(if sex_male {
        r.normal(168.0 - 0.1 * (age as f64 - 40.0), 5.5)
    } else {
        r.normal(155.5 - 0.1 * (age as f64 - 40.0), 5.0)
    });
    let weight = round1(bmi * (height / 100.0).powi(2));
    let waist = round1(if sex_male {
        70.0 + (bmi - 18.0) * 2.4 + r.normal(0.0, 2.0)
    } else {
        67.0 + (bmi - 18.0) * 2.6 + r.normal(0.0, 2.0)
    });
    let sbp = if profile == 0 {
        r.uniform(134.0, 158.0)
    } else {
        (100.0 + 0.6 * (age as f64 - 40.0) + 1.5 * (bmi - 22.0) + r.normal(0.0, 8.0))
            .clamp(92.0, 172.0)
    }
    .round();
    let dbp = (0.58 * sbp + r.normal(0.0, 4.0)).clamp(50.0, 105.0).round();
    let sbp2 = (sbp + r.normal(-2.0, 3.0)).round();
    let dbp2 = (dbp + r.normal(-1.0, 2.0)).round();
    let a1c = round1(if profile == 0 {
        r.uniform(6.0, 6.9)
    } else {
        (5.2 + 0.05 * (bmi - 22.0) + r.normal(0.0, 0.25)).clamp(4.6, 6.4)
    });
    // 採血時間: mostly fasting; some after a meal (then no fasting glucose).
    let draw = match k % 8 {
        2 => "3",
        5 if k % 16 == 5 => "4",
        _ => "2",
    };
    let glucose = (80.0 + (a1c - 5.0) * 28.0 + r.normal(0.0, 5.0))
        .clamp(70.0, 180.0)
        .round();

    let mut visits: Vec<Visit> = Vec::new();
    visits.push((
        StationKind::Measurement,
        "S001",
        Role::Station,
        vec![
            ("9N001000000000001", MeasuredValue::Number(height)),
            ("9N006000000000001", MeasuredValue::Number(weight)),
            ("9N016160100000001", MeasuredValue::Number(waist)),
        ],
        vec![],
    ));
    // One in nine: a single reading (the second left out, listed at the sign-off).
    let mut bp = vec![
        ("9A751000000000001", MeasuredValue::Number(sbp)),
        ("9A761000000000001", MeasuredValue::Number(dbp)),
    ];
    let mut bp_missing = vec![];
    if k % 9 == 4 {
        bp_missing = vec!["9A752000000000001", "9A762000000000001"];
    } else {
        bp.push(("9A752000000000001", MeasuredValue::Number(sbp2)));
        bp.push(("9A762000000000001", MeasuredValue::Number(dbp2)));
    }
    visits.push((
        StationKind::BloodPressure,
        "S002",
        Role::Station,
        bp,
        bp_missing,
    ));
    let sugar = if a1c >= 6.6 {
        "+"
    } else if a1c >= 6.3 && r.percent(50) {
        "±"
    } else {
        "-"
    };
    let protein = if k % 23 == 7 {
        "+"
    } else if k % 11 == 3 {
        "±"
    } else {
        "-"
    };
    visits.push((
        StationKind::Urine,
        "S003",
        Role::Station,
        vec![
            ("1A020000000191111", text(sugar)),
            ("1A010000000191111", text(protein)),
        ],
        vec![],
    ));
    let mut blood = vec![
        ("9N141000000000011", text(draw)),
        ("3D046000001999902", MeasuredValue::Number(a1c)),
    ];
    let mut blood_missing = vec![];
    if draw == "2" {
        blood.push(("3D010000001999901", MeasuredValue::Number(glucose)));
    } else {
        blood_missing.push("3D010000001999901");
    }
    visits.push((
        StationKind::BloodDraw,
        "S003",
        Role::Station,
        blood,
        blood_missing,
    ));

    // The questionnaire: 服薬 follows the measurements, the rest as people are.
    let med_bp = sbp >= 150.0 || (profile == 0 && r.percent(40)) || (age > 65 && r.percent(20));
    let med_glucose = a1c >= 6.5 && r.percent(60);
    let med_lipid = r.percent(if age > 60 { 20 } else { 8 });
    let smoking = match r.below(100) {
        0..=16 => "1",
        17..=31 => "2",
        _ => "3",
    };
    let drinks = r.below(8) + 1;
    let mut answers = Vec::new();
    for q in QUESTIONS {
        let codes = q.answers.codes();
        let yn = |b: bool| if b { "1" } else { "2" };
        let a = match q.code {
            "9N701000000000011" => yn(med_bp).to_owned(),
            "9N706000000000011" => yn(med_glucose).to_owned(),
            "9N711000000000011" => yn(med_lipid).to_owned(),
            "9N736000000000011" => smoking.to_owned(),
            // 20歳からの体重変化: the heavier ones.
            "9N741000000000011" => yn(bmi >= 25.0 || r.percent(15)).to_owned(),
            _ if q.answers == AnswerSet::DrinkingFrequency => drinks.to_string(),
            _ if codes == ["1", "2"] => yn(r.percent(25)).to_owned(),
            _ => codes[r.below(codes.len() as u64) as usize].to_owned(),
        };
        answers.push((q.code.to_owned(), a));
    }

    // 診察.
    let mut doctor = Vec::new();
    if med_bp {
        doctor.push(("9N056000000000011", text("1")));
        doctor.push(("9N056160400000049", text("高血圧症（服薬中）")));
    } else if r.percent(10) {
        doctor.push(("9N056000000000011", text("1")));
        doctor.push((
            "9N056160400000049",
            text(r.pick(&["虫垂炎（手術済み）", "胃潰瘍（治癒）", "骨折（左手首）"])),
        ));
    } else {
        doctor.push(("9N056000000000011", text("2")));
    }
    if r.percent(6) {
        doctor.push(("9N061000000000011", text("1")));
        doctor.push((
            "9N061160800000049",
            text(r.pick(&["肩こり", "時々頭痛あり", "腰痛"])),
        ));
    } else {
        doctor.push(("9N061000000000011", text("2")));
    }
    if r.percent(4) {
        doctor.push(("9N066000000000011", text("1")));
        doctor.push(("9N066160800000049", text("下肢に軽度の浮腫")));
    } else {
        doctor.push(("9N066000000000011", text("2")));
    }
    let metabolic_waist = if sex_male { 85.0 } else { 90.0 };
    let diagnosis = if sbp >= 160.0 {
        "要医療（血圧）"
    } else if waist >= metabolic_waist && (sbp >= 130.0 || a1c >= 6.0) {
        "要指導（内臓脂肪型肥満・生活習慣の改善）"
    } else if sbp >= 140.0 {
        "要経過観察（血圧）"
    } else if a1c >= 6.0 {
        "要経過観察（血糖）"
    } else {
        "異常なし"
    };
    doctor.push(("9N511000000000049", text(diagnosis)));
    visits.push((StationKind::Doctor, DOCTOR.0, Role::Doctor, doctor, vec![]));
    (visits, answers)
}

/// 08:30 in Japan on `day`, in Unix milliseconds.
fn morning_ms(day: Date) -> u64 {
    let days = i64::from(day.to_julian_day()) - 2_440_588;
    (days * 86_400_000 + (8 * 3600 + 30 * 60 - 9 * 3600) * 1000).max(0) as u64
}

fn first_seq(day: Date) -> u64 {
    let since_2000 = (day.to_julian_day() - 2_451_545).max(0) as u64;
    SEQ_BASE + since_2000 * SEQ_PER_DAY
}

/// A deterministic UUIDv7 of an event: its HLC time, the rest from node and seq.
fn event_id(ms: u64, node: &str, seq: u64, salt: u64) -> Uuid {
    let mut r = Rng::new(&[seq, salt, node.len() as u64]);
    for b in node.bytes() {
        r.0 ^= u64::from(b);
        r.next();
    }
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&r.next().to_le_bytes());
    rand[8..].copy_from_slice(&r.next().to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

/// The residents of a day of `n`.
pub fn residents(n: usize, day: Date) -> Vec<SampleResident> {
    (0..n).map(|k| resident(k, day)).collect()
}

fn age_on(birth: &str, day: Date) -> u32 {
    let Ok(b) = Date::parse(
        birth,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) else {
        return 50;
    };
    let mut age = day.year() - b.year();
    if (u8::from(day.month()), day.day()) < (u8::from(b.month()), b.day()) {
        age -= 1;
    }
    u32::try_from(age).unwrap_or(0)
}

/// Every event of the day, signed by `signer` at `venue`: each resident checked in (with
/// the insurer identity), through every station, and checked out.
pub fn events(people: &[SampleResident], day: Date, signer: &Signer, venue: &str) -> Vec<Event> {
    events_from(people, day, signer, venue, first_seq(day))
}

/// [`events`] with the box's seqs following on from `after` (the seq of the box's last
/// event): a box's days one after another, its seqs gap-free, as the prefecture bench
/// loads them.
pub fn events_from(
    people: &[SampleResident],
    day: Date,
    signer: &Signer,
    venue: &str,
    after: u64,
) -> Vec<Event> {
    let stations = vec![
        StationKind::Measurement,
        StationKind::BloodPressure,
        StationKind::Urine,
        StationKind::BloodDraw,
        StationKind::Questionnaire,
        StationKind::Doctor,
    ];
    let start_ms = morning_ms(day);
    let seq0 = after;
    let mut out = Vec::with_capacity(people.len() * 48);
    let push = |out: &mut Vec<Event>, staff: &str, role: Role, body: EventBody| {
        let i = out.len() as u64;
        let seq = seq0 + i + 1;
        // 40 ms apart: monotonic with seq, as a box's clock is; 20,000 residents end by 19:00.
        let ms = start_ms + 40 * i;
        out.push(Event::seal(
            event_id(ms, &signer.node, seq, 3),
            venue,
            &signer.node,
            seq,
            Hlc { ms, c: 0 },
            Actor {
                staff_id: staff.to_owned(),
                role,
            },
            body,
            &signer.key,
        ));
    };
    for (k, p) in people.iter().enumerate() {
        let id = p.register.resident_id.clone();
        let session_id = event_id(
            start_ms + 40 * out.len() as u64,
            &signer.node,
            seq0 + k as u64,
            4,
        );
        push(
            &mut out,
            "R001",
            Role::Reception,
            EventBody::SessionOpened(SessionOpened {
                session_id,
                resident_id: id.clone(),
                stations: stations.clone(),
                card: None,
                insurer: Some(p.insurer.clone()),
            }),
        );
        let male = p.register.sex == "male";
        let (visits, answers) = checkup(k, day, male, age_on(&p.register.birth_date, day));
        let recorded = |station, item: &str, value: MeasuredValue, answered| {
            let confirmed = match checkup_protocol::items::item(item).map(|i| i.kind) {
                Some(ItemValueKind::Numeric {
                    soft_min, soft_max, ..
                }) => match value {
                    MeasuredValue::Number(v) => v < soft_min || v >= soft_max,
                    MeasuredValue::Text(_) => false,
                },
                _ => false,
            };
            EventBody::MeasurementRecorded(MeasurementRecorded {
                session_id,
                resident_id: id.clone(),
                station,
                item_code: item.to_owned(),
                value,
                unit: checkup_protocol::items::item(item)
                    .map(|i| i.unit.to_owned())
                    .unwrap_or_default(),
                confirmed,
                answered,
            })
        };
        let visited = |station, missing: &[&str]| {
            EventBody::StationVisited(StationVisited {
                session_id,
                resident_id: id.clone(),
                station,
                note: None,
                confirmed: !missing.is_empty(),
                missing: missing.iter().map(|m| (*m).to_owned()).collect(),
            })
        };
        let (doctor, before) = visits
            .split_last()
            .map(|(d, b)| (Some(d), b))
            .unwrap_or((None, &[]));
        for (station, staff, role, items, missing) in before {
            for (code, value) in items {
                push(
                    &mut out,
                    staff,
                    *role,
                    recorded(*station, code, value.clone(), None),
                );
            }
            push(&mut out, staff, *role, visited(*station, missing));
        }
        // The questionnaire: on the venue tablet (one in five asked by the nurse).
        let via = if k % 5 == 4 {
            Channel::Interview
        } else {
            Channel::Tablet
        };
        for (code, a) in &answers {
            push(
                &mut out,
                "N001",
                Role::Nurse,
                recorded(
                    StationKind::Questionnaire,
                    code,
                    MeasuredValue::Text(a.clone()),
                    Some(Answered {
                        via,
                        lang: Lang::Ja,
                    }),
                ),
            );
        }
        push(
            &mut out,
            "N001",
            Role::Nurse,
            visited(StationKind::Questionnaire, &[]),
        );
        if let Some((station, staff, role, items, missing)) = doctor {
            for (code, value) in items {
                push(
                    &mut out,
                    staff,
                    *role,
                    recorded(*station, code, value.clone(), None),
                );
            }
            push(&mut out, staff, *role, visited(*station, missing));
        }
        push(
            &mut out,
            "R001",
            Role::Reception,
            EventBody::SessionClosed(SessionClosed {
                session_id,
                reason: None,
            }),
        );
    }
    out
}

/// Enrolled keys by node, the venues of the signer's municipality, the signer's venue.
type Enrolment = (HashMap<String, PublicKey>, Vec<String>, String);

/// The keys of the enrolled boxes and the venues of `node`'s municipality, as central's
/// server derives them from the configuration.
fn enrolment(config: &Config, signer: &Signer) -> Result<Enrolment, SampleError> {
    let own = config
        .boxes
        .iter()
        .find(|b| b.node == signer.node)
        .ok_or_else(|| SampleError::NotEnrolled(signer.node.clone()))?;
    if own.public_key != signer.key.verifying_key().to_base64() {
        return Err(SampleError::KeyMismatch(signer.node.clone()));
    }
    let mut keys = HashMap::new();
    for b in &config.boxes {
        if let Ok(k) = PublicKey::from_base64(&b.public_key) {
            keys.insert(b.node.clone(), k);
        }
    }
    let mut venues: Vec<String> = config
        .boxes
        .iter()
        .filter(|b| b.municipality == own.municipality)
        .map(|b| b.venue.clone())
        .collect();
    venues.sort();
    venues.dedup();
    Ok((keys, venues, own.venue.clone()))
}

/// Store a sample day of `n` residents on `day` in `db`, the events signed by `signer` (an
/// enrolled box of `config`) and received as `POST /v1/batches` receives a box's batches.
/// The register entries are written when the register does not hold them yet.
pub async fn fill(
    db: &dyn Store,
    config: &Config,
    signer: &Signer,
    day: Date,
    n: usize,
) -> Result<Filled, SampleError> {
    if n == 0 || n > MAX_RESIDENTS {
        return Err(SampleError::Residents(n));
    }
    if day.year() < 2000 {
        return Err(SampleError::Day(day));
    }
    let (keys, venues, venue) = enrolment(config, signer)?;
    let people = residents(n, day);
    let evs = events(&people, day, signer, &venue);
    let mut new_events = 0;
    for chunk in evs.chunks(BATCH) {
        let bytes = serde_json::to_vec(chunk)
            .map_err(|e| SampleError::Db(DbError::Task(format!("serialising a batch: {e}"))))?;
        let accepted = crate::ingest::check_batch(
            &bytes,
            &keys,
            &venues,
            config.max_batch_events,
            config.max_batch_bytes,
        )?;
        let rows: Vec<EventRow> = accepted.into_iter().map(EventRow::from_accepted).collect();
        match db.ingest(rows).await {
            Ok(done) => new_events += done.new,
            Err(DbError::Equivocation { .. }) => return Err(SampleError::OtherDayStored { day }),
            Err(e) => return Err(SampleError::Db(e)),
        }
    }
    // The register, in one transaction: written unless it already holds the day's first and
    // last resident exactly.
    let held = |r: &Resident| {
        let r = r.clone();
        async move {
            db.resident(&r.resident_id)
                .await
                .map(|found| found.as_ref() == Some(&r))
        }
    };
    let (first, last) = (&people[0].register, &people[n - 1].register);
    let mut register_written = 0;
    if !(held(first).await.map_err(SampleError::Db)?
        && held(last).await.map_err(SampleError::Db)?)
    {
        let rows: Vec<Resident> = people.iter().map(|p| p.register.clone()).collect();
        register_written = db.upsert_residents(rows).await.map_err(SampleError::Db)?;
        db.audit(
            "sample-day",
            "import_residents",
            &format!("{register_written} rows"),
        )
        .await
        .map_err(SampleError::Db)?;
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in &people {
        *counts.entry(p.insurer.insurer_number.clone()).or_default() += 1;
    }
    let insurers = INSURERS
        .iter()
        .filter_map(|(body, name, _)| {
            let number = with_check_digit(body);
            counts.get(&number).map(|&residents| InsurerCount {
                number,
                name_ja: name,
                residents,
            })
        })
        .collect();
    Ok(Filled {
        day,
        residents: n,
        events: evs.len(),
        new_events,
        register_written,
        insurers,
    })
}

/// The export settings that go with the sample: the sender, the doctor of the day and
/// MHLW's files (`xsd_dir`, and `items-hc24.csv` beside it).
pub fn export_settings(
    xsd_dir: &std::path::Path,
) -> Result<Settings, crate::tokutei::items::ItemTableError> {
    let table = ItemTable::load(&xsd_dir.join("..").join("items-hc24.csv"))?;
    Ok(Settings {
        sender: Sender {
            institution_number: SENDER_NUMBER.to_owned(),
            name: SENDER_NAME.to_owned(),
            telephone: None,
            postal_code: None,
            address: None,
        },
        table,
        xsd_dir: xsd_dir.to_owned(),
        doctors: BTreeMap::from([(DOCTOR.0.to_owned(), DOCTOR.1.to_owned())]),
        claims: None,
    })
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `checkup-central export tokutei` command that writes `insurer`'s archive of the
/// sample day from central's data directory `data_dir`, pasteable into a shell.
pub fn export_command(
    data_dir: &std::path::Path,
    insurer: &str,
    day: Date,
    xsd_dir: &std::path::Path,
    out: &std::path::Path,
) -> String {
    let d = day.to_string();
    [
        "checkup-central".to_owned(),
        "export".into(),
        "tokutei".into(),
        "--data-dir".into(),
        shell_quote(&data_dir.display().to_string()),
        "--insurer".into(),
        shell_quote(insurer),
        "--from".into(),
        d.clone(),
        "--to".into(),
        d,
        "--xsd-dir".into(),
        shell_quote(&xsd_dir.display().to_string()),
        "--out".into(),
        shell_quote(&out.display().to_string()),
        "--sender".into(),
        SENDER_NUMBER.into(),
        "--sender-name".into(),
        shell_quote(SENDER_NAME),
        "--doctor".into(),
        shell_quote(&format!("{}={}", DOCTOR.0, DOCTOR.1)),
    ]
    .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Date {
        Date::from_calendar_date(2026, time::Month::December, 2).expect("date")
    }

    #[test]
    fn residents_are_the_same_people_every_time_with_valid_insurers() {
        for k in 0..200 {
            let a = resident(k, day());
            assert_eq!(a, resident(k, day()));
            a.insurer.validate().expect("a valid insurer identity");
            assert!(
                a.register
                    .name_kana
                    .chars()
                    .all(crate::tokutei::validate::is_zenkaku_kana),
                "{}",
                a.register.name_kana
            );
        }
    }

    #[test]
    fn every_event_passes_the_payload_rules_and_ids_repeat() {
        let signer = Signer {
            node: "edge-01".into(),
            key: NodeKey::from_bytes(&[7; 32]),
        };
        let people = residents(30, day());
        let a = events(&people, day(), &signer, VENUE);
        let b = events(&people, day(), &signer, VENUE);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            x.body.validate().expect("payload rules");
            assert_eq!((x.id, &x.sig), (y.id, &y.sig));
            assert_eq!(crate::db::jst_day(x.hlc.ms), "2026-12-02");
        }
        let ids: std::collections::HashSet<_> = a.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), a.len(), "event ids are unique");
    }

    #[test]
    fn the_command_quotes_what_a_shell_would_split() {
        let c = export_command(
            std::path::Path::new("data/central demo"),
            "138057",
            day(),
            std::path::Path::new("../shared/standards/tokutei-v4/XSD"),
            std::path::Path::new("out"),
        );
        assert!(c.contains("--data-dir 'data/central demo'"), "{c}");
        assert!(c.contains("--doctor 'D001=医師 誠'"), "{c}");
        assert!(c.contains("--from 2026-12-02 --to 2026-12-02"), "{c}");
    }
}
