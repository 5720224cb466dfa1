//! The scripted flow of a training day: residents of the training roster arrive at a
//! realistic pace (one every [`ARRIVAL_SECS`] seconds ÷ speed; without `--autopilot` from
//! the first trainee's sign-in, [`Session::on_duty`]), each with their My Number
//! card put on the virtual reader, and the banner says who has come and what is awkward
//! about them:
//!
//! | resident | awkward case |
//! |---|---|
//! | every 7th (from the 3rd) | types a wrong card PIN first |
//! | every 11th (from the 4th) | came without a card (found by name and birth date) |
//! | every 5th (from the 5th) | an unusual blood pressure (refused, then confirmed, then corrected) |
//! | every 13th (from the 7th) | leaves early, after 身体計測 |
//!
//! With `--autopilot` the script also plays the staff (the demo staff's sign-ins), through
//! the box's own HTTPS API exactly as the tablets do: reception reads the card (or searches
//! the roster) and checks in, 身体計測 and 血圧 record and sign off, and the session is
//! closed. That runs a whole day unattended (a demonstration, and the tests' full day);
//! without it, trainees do the staff's part and the script only brings the residents.

use std::sync::Arc;
use std::time::Duration;

use checkup_protocol::StationKind;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Session;
use crate::roster::Resident;

/// Seconds between two arrivals at real pace.
pub const ARRIVAL_SECS: f64 = 90.0;
/// Seconds a station takes at real pace (autopilot).
pub const STATION_SECS: f64 = 120.0;

const HEIGHT: &str = "9N001000000000001";
const WEIGHT: &str = "9N006000000000001";
const WAIST: &str = "9N016160100000001";
const SYSTOLIC: &str = "9A751000000000001";
const DIASTOLIC: &str = "9A761000000000001";

/// What makes a resident awkward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Awkward {
    /// Types a wrong card PIN first.
    pub wrong_pin: bool,
    /// Came without a card.
    pub no_card: bool,
    /// An unusual blood pressure.
    pub unusual_value: bool,
    /// Leaves after 身体計測.
    pub leaves_early: bool,
}

/// The awkward cases of the `i`th resident (from 0).
pub fn awkward(i: usize) -> Awkward {
    Awkward {
        wrong_pin: i % 7 == 2,
        no_card: i % 11 == 3,
        unusual_value: i % 5 == 4,
        leaves_early: i % 13 == 6,
    }
}

impl Awkward {
    /// What the banner says about it (Japanese / English).
    pub fn say(&self) -> String {
        let mut parts = Vec::new();
        if self.no_card {
            parts.push("カードを持っていません / no card");
        }
        if self.wrong_pin {
            parts.push("暗証番号を間違えます / will type a wrong PIN");
        }
        if self.unusual_value {
            parts.push("血圧が高めです / unusual blood pressure");
        }
        if self.leaves_early {
            parts.push("途中で帰ります / leaves early");
        }
        parts.join("・")
    }
}

/// How the script runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `https://127.0.0.1:PORT` of the box.
    pub base: String,
    /// A client that trusts the box.
    pub http: reqwest::Client,
    /// The virtual reader is there (else every resident comes without a card).
    pub cards: bool,
    /// Play the staff too.
    pub autopilot: bool,
    /// End the session when the last resident is done.
    pub end_when_done: bool,
}

/// A signed-in tablet.
#[derive(Clone)]
struct Tablet {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Tablet {
    async fn sign_in(o: &Options, id: &str) -> anyhow::Result<Tablet> {
        let pin = crate::demo::STAFF
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.pin)
            .ok_or_else(|| anyhow::anyhow!("no demo staff {id}"))?;
        let r = o
            .http
            .post(format!("{}/api/login", o.base))
            .json(&json!({"staff_id": id, "pin": pin}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "sign-in as {id}: {}", r.status());
        let cookie = r
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|c| c.starts_with(&format!("{}=", crate::auth::TRAINING_COOKIE)))
            })
            .ok_or_else(|| anyhow::anyhow!("no session cookie for {id}"))?
            .to_owned();
        Ok(Tablet {
            http: o.http.clone(),
            base: o.base.clone(),
            cookie,
        })
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .json(body)
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> anyhow::Result<u16> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        Ok(r.status().as_u16())
    }
}

/// Sleep `secs` of real pace at `speed`, or until `stop`.
async fn pace(secs: f64, speed: f64, stop: &CancellationToken) -> bool {
    let d = Duration::from_secs_f64((secs / speed.max(0.001)).max(0.0));
    tokio::select! {
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// Run the day's script over `residents` until done or `stop`.
pub async fn run(
    o: Options,
    session: Arc<Session>,
    residents: Vec<Resident>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let total = residents.len();
    session.set_progress(0, total);
    session.announce(format!(
        "来場者 {total} 人が順に到着します / {total} residents will arrive"
    ));
    // The script's own hand on the reader: the venue admin.
    let hand = Tablet::sign_in(&o, "A001").await?;
    let staff = if o.autopilot {
        Some((
            Tablet::sign_in(&o, "R001").await?,
            Tablet::sign_in(&o, "S001").await?,
            Tablet::sign_in(&o, "S002").await?,
        ))
    } else {
        None
    };
    // Without the autopilot the trainees play the staff: the first resident comes once the
    // first of them has signed in (the trainer, the venue admin, does not count).
    if staff.is_none() && !session.on_duty.is_cancelled() {
        session.announce(
            "職員がサインインすると来場者が到着し始めます / residents start arriving once the first staff member signs in",
        );
        tokio::select! {
            () = session.on_duty.cancelled() => {}
            () = stop.cancelled() => return Ok(()),
        }
    }
    // One reception desk and one reader: residents are read one at a time.
    let desk = Arc::new(tokio::sync::Mutex::new(()));
    let mut tasks = Vec::new();
    for (i, r) in residents.into_iter().enumerate() {
        if i > 0 && !pace(ARRIVAL_SECS, session.speed, &stop).await {
            break;
        }
        let mut a = awkward(i);
        a.no_card |= !o.cards;
        session.set_progress(i + 1, total);
        let case = a.say();
        session.announce(if case.is_empty() {
            format!("到着: {} さん / arrived: {}", r.name, r.name_kana)
        } else {
            format!("到着: {} さん — {case} / arrived: {}", r.name, r.name_kana)
        });
        tracing::info!(resident = %r.resident_id, ?a, "training: a resident arrives");
        let (hand, staff, desk, session, stop) = (
            hand.clone(),
            staff.clone(),
            desk.clone(),
            session.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            if let Err(e) = resident(&r, a, &hand, staff.as_ref(), &desk, &session, &stop).await
            {
                tracing::warn!(resident = %r.resident_id, error = %e, "training script: a step failed");
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    session.announce("練習の来場者は全員終わりました / every training resident is done");
    tracing::info!("training script done");
    if o.end_when_done {
        session.end.cancel();
    }
    Ok(())
}

/// One resident's visit.
async fn resident(
    r: &Resident,
    a: Awkward,
    hand: &Tablet,
    staff: Option<&(Tablet, Tablet, Tablet)>,
    desk: &tokio::sync::Mutex<()>,
    session: &Session,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    let speed = session.speed;
    let checked_in = {
        let _desk = desk.lock().await;
        if !a.no_card {
            let (st, v) = hand
                .post(
                    "/api/demo/tap",
                    &json!({"resident_id": r.resident_id, "card": "mynumber"}),
                )
                .await?;
            anyhow::ensure!(st == 200, "tap: {st} {v}");
        }
        let Some((reception, _, _)) = staff else {
            return Ok(());
        };
        if !pace(20.0, speed, stop).await {
            return Ok(());
        }
        let mynumber = !a.no_card;
        if mynumber {
            if a.wrong_pin {
                let (st, v) = read_card(reception, "0000").await?;
                anyhow::ensure!(st == 422, "a wrong PIN answered {st} {v}");
            }
            let pin = crate::demo::demo_pin(&r.resident_id);
            let (st, v) = read_card(reception, &pin).await?;
            anyhow::ensure!(st == 200, "card read: {st} {v}");
        } else {
            let q: String = r.name_kana.chars().filter(|c| !c.is_whitespace()).collect();
            let st = reception
                .get(&format!(
                    "/api/roster/search?q={}&birth={}",
                    urlencode(&q),
                    r.birth_date
                ))
                .await?;
            anyhow::ensure!(st == 200, "roster search: {st}");
        }
        let (st, v) = reception
            .post(
                "/api/reception/check-in",
                &json!({"id": Uuid::now_v7(), "resident_id": r.resident_id, "mynumber": mynumber}),
            )
            .await?;
        anyhow::ensure!(st == 200 || st == 201, "check-in: {st} {v}");
        if !a.no_card {
            let _ = hand.post("/api/demo/untap", &json!({})).await;
        }
        v
    };
    let Some((reception, measure, bp)) = staff else {
        return Ok(());
    };
    let sid = checked_in["session_id"]
        .as_str()
        .and_then(|s| s.parse::<Uuid>().ok())
        .ok_or_else(|| anyhow::anyhow!("check-in without a session id: {checked_in}"))?;
    let rid = r.resident_id.as_str();
    let n = rid
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31) + u32::from(b));
    if !pace(STATION_SECS, speed, stop).await {
        return Ok(());
    }
    let height = 150.0 + f64::from(n % 300) / 10.0;
    let weight = 45.0 + f64::from(n % 350) / 10.0;
    let waist = 70.0 + f64::from(n % 250) / 10.0;
    for (code, v) in [(HEIGHT, height), (WEIGHT, weight), (WAIST, waist)] {
        record(measure, sid, rid, StationKind::Measurement, code, v, false).await?;
    }
    sign_off(
        measure,
        sid,
        rid,
        StationKind::Measurement,
        &[HEIGHT, WEIGHT, WAIST],
    )
    .await?;
    if a.leaves_early {
        close(reception, sid, Some("途中で帰宅 / left early")).await?;
        return Ok(());
    }
    if !pace(STATION_SECS, speed, stop).await {
        return Ok(());
    }
    let dia = 70.0 + f64::from(n % 20);
    if a.unusual_value {
        // Typed 250 (unusual): the box asks for a confirmation, the nurse confirms a typo
        // by mistake, then corrects it.
        let (st, _) = bp
            .post(
                "/api/events",
                &measurement(sid, rid, StationKind::BloodPressure, SYSTOLIC, 250.0, false),
            )
            .await?;
        anyhow::ensure!(st == 422, "an unusual value answered {st}");
        let typo = record(
            bp,
            sid,
            rid,
            StationKind::BloodPressure,
            SYSTOLIC,
            250.0,
            true,
        )
        .await?;
        let unit = unit_of(SYSTOLIC);
        let (st, v) = bp
            .post(
                "/api/events",
                &json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_corrected", "payload": {
                    "session_id": sid, "resident_id": rid, "corrects": typo,
                    "item_code": SYSTOLIC, "value": 152.0, "unit": unit,
                    "reason": "入力ミスの訂正 / typo corrected"}}}),
            )
            .await?;
        anyhow::ensure!(st == 201, "correction: {st} {v}");
    } else {
        record(
            bp,
            sid,
            rid,
            StationKind::BloodPressure,
            SYSTOLIC,
            120.0 + f64::from(n % 20),
            false,
        )
        .await?;
    }
    record(
        bp,
        sid,
        rid,
        StationKind::BloodPressure,
        DIASTOLIC,
        dia,
        false,
    )
    .await?;
    sign_off(
        bp,
        sid,
        rid,
        StationKind::BloodPressure,
        &[SYSTOLIC, DIASTOLIC],
    )
    .await?;
    close(
        reception,
        sid,
        Some("練習: 残りの検査は省略 / training: the other stations skipped"),
    )
    .await
}

/// Read the card on the reader with `pin`, as reception does: a card just put on the
/// reader may not answer yet (a 409 or 502), so a read is tried again for up to 3 s.
async fn read_card(reception: &Tablet, pin: &str) -> anyhow::Result<(u16, Value)> {
    let mut tries = 0;
    loop {
        let (st, v) = reception
            .post("/api/card/read", &json!({"pin": pin}))
            .await?;
        tries += 1;
        if !(st == 409 || st == 502) || tries >= 15 {
            return Ok((st, v));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unit_of(code: &str) -> &'static str {
    checkup_protocol::items::item(code).map_or("", |i| i.unit)
}

fn measurement(
    sid: Uuid,
    rid: &str,
    station: StationKind,
    code: &str,
    value: f64,
    confirmed: bool,
) -> Value {
    json!({"id": Uuid::now_v7(), "body": {"kind": "measurement_recorded", "payload": {
        "session_id": sid, "resident_id": rid, "station": station, "item_code": code,
        "value": value, "unit": unit_of(code), "confirmed": confirmed}}})
}

async fn record(
    t: &Tablet,
    sid: Uuid,
    rid: &str,
    station: StationKind,
    code: &str,
    value: f64,
    confirmed: bool,
) -> anyhow::Result<Uuid> {
    let body = measurement(sid, rid, station, code, value, confirmed);
    let id = body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(Uuid::now_v7);
    let (st, v) = t.post("/api/events", &body).await?;
    anyhow::ensure!(st == 201 || st == 200, "{code}: {st} {v}");
    Ok(id)
}

/// Sign the station off, confirming as missing the items not recorded here.
async fn sign_off(
    t: &Tablet,
    sid: Uuid,
    rid: &str,
    station: StationKind,
    recorded: &[&str],
) -> anyhow::Result<()> {
    let missing: Vec<&str> = station
        .items()
        .filter(|i| !i.derived && !recorded.contains(&i.code))
        .map(|i| i.code)
        .collect();
    let (st, v) = t
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "station_visited", "payload": {
                "session_id": sid, "resident_id": rid, "station": station,
                "confirmed": !missing.is_empty(), "missing": missing}}}),
        )
        .await?;
    anyhow::ensure!(st == 201 || st == 200, "sign-off {station:?}: {st} {v}");
    Ok(())
}

async fn close(t: &Tablet, sid: Uuid, reason: Option<&str>) -> anyhow::Result<()> {
    let (st, v) = t
        .post(
            "/api/events",
            &json!({"id": Uuid::now_v7(), "body": {"kind": "session_closed", "payload": {
                "session_id": sid, "reason": reason}}}),
        )
        .await?;
    anyhow::ensure!(st == 201 || st == 200, "close: {st} {v}");
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_of_forty_has_every_awkward_case() {
        let cases: Vec<Awkward> = (0..40).map(awkward).collect();
        assert!(cases.iter().any(|a| a.wrong_pin));
        assert!(cases.iter().any(|a| a.no_card));
        assert!(cases.iter().any(|a| a.unusual_value));
        assert!(cases.iter().any(|a| a.leaves_early));
        assert!(cases.iter().filter(|a| **a == Awkward::default()).count() > 20);
    }
}
