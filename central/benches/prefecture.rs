//! A prefecture on one PostgreSQL central (issue 21): 30 municipalities (real JIS codes of
//! 北海道's cities), each with two venues (a box each) and a register of 10,000 residents,
//! checkup days loaded in date order through the real ingest path — events signed by the
//! box's key ([`sample_day::events_from`]: every station, the questionnaire, the doctor),
//! received by [`checkup_central::ingest::check_batch`] (format, signatures, venue) in
//! batches of 1,000 and stored by `Store::ingest` of the box's municipality's view (its
//! database role, under row-level security, as central stores a box's batch) — in steps to
//! 1/10, 3/10 and all of
//! `PREFECTURE_EVENTS` (default 10,000,000). At each step it prints:
//!
//! - the ingest rate of the step (events over the time spent in `Store::ingest`; and over
//!   the step's wall time, signing and verifying included: one thread makes the batches
//!   while the store takes the previous ones);
//! - raw `COPY` of the same number of rows of the same shape (the events table of
//!   migration 1: `(node, seq)` key, unique id, jsonb body), text format, into a plain
//!   table that grows with the steps as `events` does, in the same run; and the ratio;
//! - a resident's record: p50/p99 of the two queries the record page makes
//!   (`Store::results_of`, `Store::resident`) over 1,000 random residents who had a
//!   checkup;
//! - a municipality's year export: `Store::results_between` for fiscal year 2024
//!   (April–March) in that municipality's view — the export route's read, row-level
//!   security keeping it to the municipality;
//! - `pg_database_size`, partitions, rows in DEFAULT (0 expected).
//!
//! Checkup days: each municipality holds 11 days a fiscal year (June to March), both
//! venues examining 100 residents a day, so a fiscal year of the prefecture is ~66,000
//! checkups, ~3 million events; the register is written first.
//!
//! `PREFECTURE_EVENTS=300000 cargo bench -p checkup-central --bench prefecture` for a quick
//! run. PostgreSQL: 127.0.0.1:5432, a database created here and dropped at the end
//! (`PREFECTURE_KEEP=1` keeps it and prints its name).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use checkup_central::config::{BoxConfig, Config, secret_digest};
use checkup_central::db::partitions;
use checkup_central::db::{EventRow, Resident, current_results};
use checkup_central::sample_day::{self, SampleResident, Signer};
use checkup_protocol::{NodeKey, PublicKey};

use futures_util::SinkExt;
use time::{Date, Month};

/// 30 cities of 北海道: 団体コード without the check digit, and the name.
const CITIES: [(&str, &str); 30] = [
    ("01100", "札幌市"),
    ("01202", "函館市"),
    ("01203", "小樽市"),
    ("01204", "旭川市"),
    ("01205", "室蘭市"),
    ("01206", "釧路市"),
    ("01207", "帯広市"),
    ("01208", "北見市"),
    ("01209", "夕張市"),
    ("01210", "岩見沢市"),
    ("01211", "網走市"),
    ("01212", "留萌市"),
    ("01213", "苫小牧市"),
    ("01214", "稚内市"),
    ("01215", "美唄市"),
    ("01216", "芦別市"),
    ("01217", "江別市"),
    ("01218", "赤平市"),
    ("01219", "紋別市"),
    ("01220", "士別市"),
    ("01221", "名寄市"),
    ("01222", "三笠市"),
    ("01223", "根室市"),
    ("01224", "千歳市"),
    ("01225", "滝川市"),
    ("01226", "砂川市"),
    ("01227", "歌志内市"),
    ("01228", "深川市"),
    ("01229", "富良野市"),
    ("01230", "登別市"),
];
const REGISTER: usize = 10_000;
const VENUES: usize = 2;
const PER_VENUE_DAY: usize = 100;
const DAYS_PER_YEAR: i64 = 11;
const BATCH: usize = 1_000;
const RECORD_SAMPLES: usize = 1_000;
/// Distinct rows the raw COPY repeats (with fresh keys) to reach a step's count.
const RESERVOIR: usize = 100_000;
const FIRST_FY: i32 = 2024;

/// The 6-digit 全国地方公共団体コード: the 5 digits and their check digit.
fn jis(code5: &str) -> String {
    let sum: u32 = code5
        .bytes()
        .zip([6, 5, 4, 3, 2])
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = (11 - sum % 11) % 10;
    format!("{code5}{check}")
}

struct Municipality {
    code: String,
    name: &'static str,
    signers: Vec<Signer>,
    venues: Vec<String>,
}

/// One venue's checkup day: municipality, venue, date, attendees (register indexes).
struct VenueDay {
    m: usize,
    v: usize,
    date: Date,
    first: usize,
}

/// Every venue-day of fiscal year `fy`, by date.
fn year_plan(fy: i32) -> Vec<VenueDay> {
    let june = Date::from_calendar_date(fy, Month::June, 1).expect("date");
    let mut out = Vec::new();
    for m in 0..CITIES.len() {
        for d in 0..DAYS_PER_YEAR {
            // No two municipalities examine on the same date with the same seqs: the
            // sample's event ids derive from (time, node, seq), and nodes of equal length
            // can mix alike.
            let date = june + time::Duration::days(d * 27 + m as i64);
            for v in 0..VENUES {
                // Each year's attendees: a window of the register moving 1,500 a year, so
                // regulars come back.
                let first = ((fy - FIRST_FY) as usize * 1_500
                    + (d as usize * VENUES + v) * PER_VENUE_DAY)
                    % REGISTER;
                out.push(VenueDay { m, v, date, first });
            }
        }
    }
    out.sort_by_key(|d| (d.date, d.m, d.v));
    out
}

fn resident_id(m: &Municipality, k: usize) -> String {
    format!("{}{k:04}", m.code)
}

fn person(m: &Municipality, k: usize, day: Date) -> SampleResident {
    let mut p = sample_day::resident(k, day);
    p.register.resident_id = resident_id(m, k);
    p.register.address = p.register.address.replacen("みどり市", m.name, 1);
    p
}

/// Make every batch, in date order, until `total` events: signed, serialised, received by
/// the real batch check. Runs on a thread of its own.
fn generate(
    munis: &[Municipality],
    keys: &HashMap<String, PublicKey>,
    total: usize,
    tx: tokio::sync::mpsc::Sender<Vec<EventRow>>,
) {
    let mut seqs: HashMap<String, u64> = HashMap::new();
    let mut made = 0usize;
    for fy in FIRST_FY.. {
        for vd in year_plan(fy) {
            let m = &munis[vd.m];
            let signer = &m.signers[vd.v];
            let people: Vec<SampleResident> = (0..PER_VENUE_DAY)
                .map(|i| person(m, (vd.first + i) % REGISTER, vd.date))
                .collect();
            let after = seqs.entry(signer.node.clone()).or_insert(0);
            let mut events =
                sample_day::events_from(&people, vd.date, signer, &m.venues[vd.v], *after);
            events.truncate(total - made);
            *after += events.len() as u64;
            for chunk in events.chunks(BATCH) {
                let bytes = serde_json::to_vec(chunk).expect("json");
                let accepted = checkup_central::ingest::check_batch(
                    &bytes,
                    keys,
                    &m.venues,
                    BATCH,
                    16 * 1024 * 1024,
                )
                .expect("the batch check accepts the sample");
                let rows = accepted.into_iter().map(EventRow::from_accepted).collect();
                if tx.blocking_send(rows).is_err() {
                    return;
                }
            }
            made += events.len();
            if made >= total {
                return;
            }
        }
    }
}

/// A field of PostgreSQL's text COPY format.
fn copy_field(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// `n` rows into `raw_events` by text COPY, made from the reservoir with fresh keys
/// (`from` counts the rows copied before, so keys never repeat).
async fn raw_copy(
    c: &tokio_postgres::Client,
    reservoir: &[EventRow],
    from: usize,
    n: usize,
) -> Duration {
    let t = Instant::now();
    let sink = c
        .copy_in(
            "COPY raw_events (node, seq, id, venue, kind, resident, hlc_ms, hlc_c, body)
             FROM STDIN",
        )
        .await
        .expect("copy");
    futures_util::pin_mut!(sink);
    let mut buf = String::with_capacity(4 << 20);
    for g in from..from + n {
        let r = &reservoir[g % reservoir.len()];
        let rep = g / reservoir.len();
        copy_field(&mut buf, &r.node);
        buf.push_str(&format!("~{rep}\t{}\t", r.seq));
        copy_field(&mut buf, &r.id);
        buf.push_str(&format!("~{rep}\t"));
        copy_field(&mut buf, &r.venue);
        buf.push('\t');
        copy_field(&mut buf, &r.kind);
        buf.push('\t');
        match &r.resident {
            Some(x) => copy_field(&mut buf, x),
            None => buf.push_str("\\N"),
        }
        buf.push_str(&format!("\t{}\t{}\t", r.hlc_ms, r.hlc_c));
        copy_field(&mut buf, &r.json);
        buf.push('\n');
        if buf.len() >= 4 << 20 {
            let chunk = bytes::Bytes::from(std::mem::take(&mut buf));
            sink.send(chunk).await.expect("copy data");
            buf.reserve(4 << 20);
        }
    }
    if !buf.is_empty() {
        sink.send(bytes::Bytes::from(buf)).await.expect("copy data");
    }
    sink.finish().await.expect("copy finish");
    t.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One step's figures.
struct Step {
    events: u64,
    results: i64,
    ingest_rate: f64,
    wall_rate: f64,
    copy_rate: f64,
    record_p50: Duration,
    record_p99: Duration,
    record_rows: f64,
    export: Duration,
    export_rows: usize,
    db_bytes: i64,
    partitions: usize,
    default_rows: u64,
}

fn main() {
    let total: usize = std::env::var("PREFECTURE_EVENTS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let steps = [total / 10, total * 3 / 10, total];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let temp = rt
        .block_on(checkup_tests::pg::TempDatabase::create(
            "checkup_prefecture",
        ))
        .expect("PostgreSQL at 127.0.0.1:5432");
    let url = temp.url();

    let munis: Vec<Municipality> = CITIES
        .iter()
        .map(|(code5, name)| {
            let code = jis(code5);
            Municipality {
                signers: (0..VENUES)
                    .map(|v| Signer {
                        node: format!("box-{code}-{v}"),
                        key: NodeKey::generate(),
                    })
                    .collect(),
                venues: (0..VENUES).map(|v| format!("venue-{code}-{v}")).collect(),
                code,
                name,
            }
        })
        .collect();
    let dir = tempfile::tempdir().expect("dir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database: url.clone(),
        max_batch_events: BATCH,
        boxes: munis
            .iter()
            .flat_map(|m| {
                m.signers.iter().zip(&m.venues).map(|(s, venue)| BoxConfig {
                    node: s.node.clone(),
                    venue: venue.clone(),
                    municipality: m.code.clone(),
                    public_key: s.key.verifying_key().to_base64(),
                    secret_sha256: secret_digest("bench"),
                })
            })
            .collect(),
        ..Config::default()
    };
    let keys: HashMap<String, PublicKey> = munis
        .iter()
        .flat_map(|m| {
            m.signers
                .iter()
                .map(|s| (s.node.clone(), s.key.verifying_key()))
        })
        .collect();
    let db = rt
        .block_on(checkup_central::db::open(&config))
        .expect("open");
    // Each municipality's view, as its staff and boxes use the store: every query runs as
    // its database role under row-level security (the real path, with its cost).
    let codes: Vec<String> = munis.iter().map(|m| m.code.clone()).collect();
    rt.block_on(db.prepare_municipalities(&codes, None))
        .expect("municipality roles");
    let scoped: HashMap<String, std::sync::Arc<dyn checkup_central::db::Store>> = codes
        .iter()
        .map(|c| (c.clone(), db.scoped(c).expect("scoped")))
        .collect();
    let view = |code: &str| {
        scoped
            .get(code)
            .expect("a municipality of the bench")
            .clone()
    };
    let (admin, conn) = rt
        .block_on(tokio_postgres::connect(&url, tokio_postgres::NoTls))
        .expect("connect");
    rt.spawn(conn);
    rt.block_on(admin.batch_execute(
        "CREATE TABLE raw_events (
            node TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL UNIQUE, venue TEXT NOT NULL,
            kind TEXT NOT NULL, resident TEXT, hlc_ms BIGINT NOT NULL, hlc_c INTEGER NOT NULL,
            body JSONB NOT NULL, received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (node, seq))",
    ))
    .expect("raw table");

    // The register: 30 × 10,000 residents.
    let t = Instant::now();
    let day = Date::from_calendar_date(FIRST_FY, Month::June, 1).expect("date");
    for m in &munis {
        let rows: Vec<Resident> = (0..REGISTER).map(|k| person(m, k, day).register).collect();
        rt.block_on(view(&m.code).upsert_residents(rows))
            .expect("register");
    }
    eprintln!(
        "register: {} residents in {:.1} s",
        munis.len() * REGISTER,
        t.elapsed().as_secs_f64()
    );

    // The generator runs ahead by a few batches.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<EventRow>>(4);
    let munis = std::sync::Arc::new(munis);
    let gen_munis = munis.clone();
    let generator = std::thread::Builder::new()
        .name("prefecture-generator".into())
        .spawn(move || generate(&gen_munis, &keys, total, tx))
        .expect("thread");

    let fy_venues: Vec<String> = munis[0].venues.clone();
    let mut attended: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut reservoir: Vec<EventRow> = Vec::with_capacity(RESERVOIR);
    let mut loaded = 0usize;
    let mut copied = 0usize;
    let mut out: Vec<Step> = Vec::new();
    let mut rng = checkup_tests::Rng::new(21);
    for &target in &steps {
        let step_start = Instant::now();
        let mut in_ingest = Duration::ZERO;
        let before = loaded;
        while loaded < target {
            let Some(rows) = rt.block_on(rx.recv()) else {
                panic!("the generator stopped at {loaded} events");
            };
            for r in &rows {
                if let checkup_central::db::Derived::Session { resident_id, .. } = &r.derived
                    && seen.insert(resident_id.clone())
                {
                    attended.push(resident_id.clone());
                }
            }
            if reservoir.len() < RESERVOIR {
                let room = RESERVOIR - reservoir.len();
                reservoir.extend(rows.iter().take(room).cloned());
            }
            let n = rows.len();
            let t = Instant::now();
            // A box's batch is of its own municipality (venue `venue-{code}-{v}`).
            let mut by_municipality: HashMap<String, Vec<EventRow>> = HashMap::new();
            for r in rows {
                let code = r.venue.split('-').nth(1).unwrap_or_default().to_owned();
                by_municipality.entry(code).or_default().push(r);
            }
            let mut new = 0;
            for (code, rows) in by_municipality {
                new += rt.block_on(view(&code).ingest(rows)).expect("ingest").new;
            }
            in_ingest += t.elapsed();
            assert_eq!(new, n, "every event new");
            loaded += n;
            if loaded % 500_000 < n {
                eprintln!(
                    "  {loaded} events, {:.0} events/s in ingest this step",
                    (loaded - before) as f64 / in_ingest.as_secs_f64()
                );
            }
        }
        let wall = step_start.elapsed();
        let step_events = loaded - before;
        eprintln!("step {target}: loaded; raw COPY of {step_events} rows …");

        let copy = rt.block_on(raw_copy(&admin, &reservoir, copied, step_events));
        copied += step_events;

        // A resident's record, as the record page reads it.
        let mut times = Vec::with_capacity(RECORD_SAMPLES);
        let mut rows_read = 0usize;
        for _ in 0..RECORD_SAMPLES {
            let who = &attended[rng.below(attended.len() as u64) as usize];
            let t = Instant::now();
            let own = view(&who[..6]);
            let results = rt.block_on(own.results_of(who)).expect("results");
            let entry = rt.block_on(own.resident(who)).expect("resident");
            times.push(t.elapsed());
            assert!(entry.is_some(), "{who} is in the register");
            rows_read += results.len();
        }
        times.sort();

        // A municipality's year export: its venues' results of fiscal year 2024.
        let t = Instant::now();
        // What the export route reads: the period's results, the municipality's only (row-level
        // security; the query names no municipality).
        let rows = rt
            .block_on(view(&munis[0].code).results_between(
                &format!("{FIRST_FY}-04-01"),
                &format!("{}-03-31", FIRST_FY + 1),
            ))
            .expect("export");
        assert!(
            rows.iter().all(|r| fy_venues.contains(&r.venue)),
            "one municipality's results only"
        );
        let export_rows = current_results(&rows).len();
        let export = t.elapsed();

        let db_bytes: i64 = rt
            .block_on(admin.query_one("SELECT pg_database_size(current_database())", &[]))
            .expect("size")
            .get(0);
        let results: i64 = rt
            .block_on(admin.query_one("SELECT count(*) FROM results", &[]))
            .expect("results")
            .get(0);
        let parts = rt.block_on(partitions::list(&admin)).expect("partitions");
        let step = Step {
            events: loaded as u64,
            results,
            ingest_rate: step_events as f64 / in_ingest.as_secs_f64(),
            wall_rate: step_events as f64 / wall.as_secs_f64(),
            copy_rate: step_events as f64 / copy.as_secs_f64(),
            record_p50: percentile(&times, 0.50),
            record_p99: percentile(&times, 0.99),
            record_rows: rows_read as f64 / RECORD_SAMPLES as f64,
            export,
            export_rows,
            db_bytes,
            partitions: parts.iter().filter(|p| p.month.is_some()).count(),
            default_rows: parts
                .iter()
                .filter(|p| p.month.is_none())
                .map(|p| p.rows)
                .sum(),
        };
        eprintln!(
            "step {target}: {} results; ingest {:.0}/s (wall {:.0}/s, {:.0} s), COPY {:.0}/s ({:.0} s); record p50 {:.1} ms p99 {:.1} ms ({:.0} rows); export {:.2} s ({} rows); database {:.2} GB; {} partitions, DEFAULT {}",
            step.results,
            step.ingest_rate,
            step.wall_rate,
            wall.as_secs_f64(),
            step.copy_rate,
            copy.as_secs_f64(),
            ms(step.record_p50),
            ms(step.record_p99),
            step.record_rows,
            step.export.as_secs_f64(),
            step.export_rows,
            step.db_bytes as f64 / 1e9,
            step.partitions,
            step.default_rows
        );
        out.push(step);
    }
    drop(rx);
    let _ = generator.join();

    println!(
        "{} municipalities × {VENUES} venues, register {} residents, {} events in batches of {BATCH}; {} residents had a checkup",
        munis.len(),
        munis.len() * REGISTER,
        loaded,
        attended.len()
    );
    println!();
    println!(
        "| events | result rows | ingest (Store::ingest) | ingest (wall, signing and checks included) | raw COPY, same rows | ingest / COPY | record p50 / p99 (rows) | year export of {} ({} rows) | database | partitions (DEFAULT rows) |",
        munis[0].name,
        out.last().map_or(0, |s| s.export_rows)
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in &out {
        println!(
            "| {} | {} | {:.0} events/s | {:.0} events/s | {:.0} rows/s | {:.0} % | {:.1} / {:.1} ms ({:.0}) | {:.2} s ({} rows) | {:.2} GB | {} ({}) |",
            s.events,
            s.results,
            s.ingest_rate,
            s.wall_rate,
            s.copy_rate,
            100.0 * s.ingest_rate / s.copy_rate,
            ms(s.record_p50),
            ms(s.record_p99),
            s.record_rows,
            s.export.as_secs_f64(),
            s.export_rows,
            s.db_bytes as f64 / 1e9,
            s.partitions,
            s.default_rows
        );
    }
    if std::env::var_os("PREFECTURE_KEEP").is_some() {
        println!("kept database {}", temp.name);
    } else {
        rt.block_on(temp.drop_now());
    }
}
