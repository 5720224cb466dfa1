//! The trainer's summary at the end of a session: for each trainee (staff sign-in), what
//! they recorded, their corrections (the item by name, old value → new value, reason), the
//! unusual values they confirmed, their mistakes and refused actions (wrong PINs, values
//! the box asked to confirm, actions their role may not do — each with a Japanese label;
//! answers that are a step of the normal flow, such as `pin_required` before a My Number
//! PIN, are not mistakes: [`is_flow_step`]), and the time each station took them per
//! resident. Built from the session's events and the refusals the box answered
//! ([`super::Slip`]); printed at the end (`checkup-edge training`) and shown on
//! `GET /training/summary` and on the end page.

use std::collections::{BTreeMap, HashMap};

use checkup_protocol::{EventBody, MeasuredValue, StationKind};
use serde::Serialize;
use uuid::Uuid;

use super::Slip;
use crate::config::StaffConfig;
use crate::log::store::{EventStore, StoreError};

/// Time at one station for one trainee.
#[derive(Debug, Clone, Serialize)]
pub struct StationTime {
    /// The station.
    pub station: StationKind,
    /// Residents signed off.
    pub residents: usize,
    /// Mean time per resident, in seconds of the session's clock (from the resident's
    /// previous step to the sign-off).
    pub mean_secs: f64,
}

/// A result a trainee corrected.
#[derive(Debug, Clone, Serialize)]
pub struct Correction {
    /// The item's code.
    pub item_code: String,
    /// The item's name (Japanese; the code when the item is unknown).
    pub item: String,
    /// The item's name in English.
    pub item_en: String,
    /// The value it replaced (None: the corrected event is not in the session).
    pub old: Option<String>,
    /// The new value.
    pub new: String,
    /// The item's unit.
    pub unit: String,
    /// The reason given.
    pub reason: String,
}

impl Correction {
    /// One line: 「収縮期血圧（1回目）: 250 → 152 mmHg（入力ミス）」.
    pub fn line(&self) -> String {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        format!(
            "{}: {} → {}{unit}（{}）",
            self.item,
            self.old.as_deref().unwrap_or("?"),
            self.new,
            self.reason
        )
    }
}

/// An unusual value (outside the item's soft limits) a trainee confirmed.
#[derive(Debug, Clone, Serialize)]
pub struct Confirmed {
    /// The item's code.
    pub item_code: String,
    /// The item's name (Japanese; the code when the item is unknown).
    pub item: String,
    /// The value confirmed, with its unit.
    pub value: String,
}

/// One trainee's part of the session.
#[derive(Debug, Clone, Serialize)]
pub struct Trainee {
    /// Staff id.
    pub staff_id: String,
    /// Name.
    pub name: String,
    /// Role label (Japanese).
    pub role: String,
    /// Events recorded, by kind.
    pub recorded: BTreeMap<String, usize>,
    /// Results corrected (old and new value, with the reason given).
    pub corrections: Vec<Correction>,
    /// Unusual values the trainee confirmed (recorded or corrected with `confirmed`).
    pub confirmed: Vec<Confirmed>,
    /// Mistakes and refused actions.
    pub slips: Vec<Slip>,
    /// Time per station.
    pub stations: Vec<StationTime>,
}

/// The trainer's summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Seconds the session has run.
    pub elapsed_secs: u64,
    /// Time factor of the scripted flow.
    pub speed: f64,
    /// Residents the script sent, and in all.
    pub residents: (usize, usize),
    /// Events recorded in the session.
    pub events: usize,
    /// Refused actions before anyone signed in (e.g. wrong sign-in PINs).
    pub anonymous_slips: Vec<Slip>,
    /// Each trainee who did anything, by staff id.
    pub trainees: Vec<Trainee>,
}

/// Make the summary of a session from its store and the session state.
pub fn summarize(store: &EventStore, session: &super::Session) -> Result<Summary, StoreError> {
    let staff = &session.staff;
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_after(after, 1000)?;
        let Some(last) = page.last() else { break };
        after = last.pos;
        events.extend(page.into_iter().map(|s| s.event));
    }
    events.sort_by_key(|e| e.hlc);
    let mut trainees: BTreeMap<String, Trainee> = BTreeMap::new();
    // When each resident's previous step ended (check-in or a station's sign-off, in ms):
    // a station's time runs from there to its own sign-off.
    let mut last_step: HashMap<Uuid, u64> = HashMap::new();
    // (staff, station) → (residents, total ms)
    let mut times: BTreeMap<(String, StationKind), (usize, u64)> = BTreeMap::new();
    // Each result's value by its event id: what a correction replaced.
    let mut values: HashMap<Uuid, String> = HashMap::new();
    for e in &events {
        let t = trainee(&mut trainees, staff, &e.actor.staff_id);
        *t.recorded
            .entry(e.body.kind().as_str().to_owned())
            .or_default() += 1;
        let session = match &e.body {
            EventBody::SessionOpened(p) => Some(p.session_id),
            EventBody::MeasurementRecorded(p) => {
                if p.confirmed {
                    t.confirmed.push(confirmed(&p.item_code, &p.value, &p.unit));
                }
                values.insert(e.id, p.value.to_string());
                None
            }
            EventBody::MeasurementCorrected(p) => {
                let (item, item_en) = item_names(&p.item_code);
                t.corrections.push(Correction {
                    item_code: p.item_code.clone(),
                    item,
                    item_en,
                    old: values.get(&p.corrects).cloned(),
                    new: p.value.to_string(),
                    unit: p.unit.clone(),
                    reason: p.reason.clone(),
                });
                if p.confirmed {
                    t.confirmed.push(confirmed(&p.item_code, &p.value, &p.unit));
                }
                values.insert(e.id, p.value.to_string());
                None
            }
            EventBody::StationVisited(p) => {
                if let Some(prev) = last_step.get(&p.session_id) {
                    let v = times
                        .entry((e.actor.staff_id.clone(), p.station))
                        .or_default();
                    v.0 += 1;
                    v.1 += e.hlc.ms.saturating_sub(*prev);
                }
                Some(p.session_id)
            }
            _ => None,
        };
        if let Some(s) = session {
            last_step.insert(s, e.hlc.ms);
        }
    }
    for ((staff_id, station), (n, ms)) in times {
        if let Some(t) = trainees.get_mut(&staff_id) {
            t.stations.push(StationTime {
                station,
                residents: n,
                mean_secs: ms as f64 / 1000.0 / n.max(1) as f64,
            });
        }
    }
    let mut anonymous_slips = Vec::new();
    for s in session
        .slips()
        .into_iter()
        .filter(|s| !is_flow_step(&s.code))
    {
        match s.staff_id.clone() {
            Some(id) => {
                trainee(&mut trainees, staff, &id).slips.push(s);
            }
            None => anonymous_slips.push(s),
        }
    }
    Ok(Summary {
        elapsed_secs: session.elapsed_ms() / 1000,
        speed: session.speed,
        residents: session.progress(),
        events: events.len(),
        anonymous_slips,
        trainees: trainees.into_values().collect(),
    })
}

/// The item's names (Japanese, English), or its code twice when the item is unknown.
fn item_names(code: &str) -> (String, String) {
    match checkup_protocol::items::item(code) {
        Some(i) => (i.name_ja.to_owned(), i.name_en.to_owned()),
        None => (code.to_owned(), code.to_owned()),
    }
}

fn confirmed(code: &str, value: &MeasuredValue, unit: &str) -> Confirmed {
    Confirmed {
        item_code: code.to_owned(),
        item: item_names(code).0,
        value: if unit.is_empty() {
            value.to_string()
        } else {
            format!("{value} {unit}")
        },
    }
}

/// A refusal that is a step of the normal flow, not a trainee's mistake: a My Number card
/// read (at reception, or tapped at a station) first answers `pin_required` and the PIN pad
/// opens; a station's sign-off first answers `incomplete_station` naming what is missing
/// and the page asks staff to confirm or go back.
pub fn is_flow_step(code: &str) -> bool {
    matches!(code, "pin_required" | "incomplete_station")
}

/// A refusal's error code as the trainer reads it (Japanese, English); the code itself
/// when it has no label.
pub fn slip_label(code: &str) -> (&str, &str) {
    match code {
        "wrong_pin" => ("暗証番号の誤り", "wrong PIN"),
        "pin_blocked" => ("暗証番号ロック", "PIN blocked"),
        "one_try_left" => ("残り1回の確認なし", "last try not confirmed"),
        "pin_format" => ("暗証番号の形式違い", "PIN not 4 digits"),
        "forbidden_role" | "403" => ("権限のない操作・ページ", "not allowed for the role"),
        "not_signed_in" | "401" => ("サインインしていない", "not signed in"),
        "confirmation_required" => ("通常外の値を確認せず保存", "unusual value not confirmed"),
        "correction_required" => (
            "保存済みの値に訂正なしで上書き",
            "saved value overwritten without a correction",
        ),
        "reason_required" => ("訂正の理由なし", "correction without a reason"),
        "systolic_not_above_diastolic" => {
            ("収縮期血圧が拡張期以下", "systolic not above diastolic")
        }
        "already_checked_in" => ("受付済みの受診者を再受付", "resident already checked in"),
        "not_booked" => ("予約のない受診者", "resident not booked"),
        "card_in_use" => ("使用中のカード", "card already in use"),
        "session_not_open" => ("終了した受診への記録", "session not open"),
        "invalid_payload" => ("不正な入力", "invalid entry"),
        "conflict" => ("他の端末と競合", "conflict with another tablet"),
        "card_removed" => ("カードが外れた", "card removed"),
        "unknown_card" => ("読めないカード", "unknown card"),
        "timeout" => ("カード読み取りの時間切れ", "card read timed out"),
        other => (other, other),
    }
}

/// The trainee `id`'s entry, made on first use.
fn trainee<'a>(
    trainees: &'a mut BTreeMap<String, Trainee>,
    staff: &[StaffConfig],
    id: &str,
) -> &'a mut Trainee {
    trainees.entry(id.to_owned()).or_insert_with(|| {
        let s = staff.iter().find(|s| s.id == id);
        Trainee {
            staff_id: id.to_owned(),
            name: s.map(|s| s.name.clone()).unwrap_or_default(),
            role: s.map(|s| s.role.label_ja().to_owned()).unwrap_or_default(),
            recorded: BTreeMap::new(),
            corrections: Vec::new(),
            confirmed: Vec::new(),
            slips: Vec::new(),
            stations: Vec::new(),
        }
    })
}

impl Summary {
    /// The summary as plain text, for the terminal or a printer (Japanese, with English).
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "練習モード 研修のまとめ / Training mode: trainer's summary"
        );
        let _ = writeln!(
            out,
            "時間 {} 秒（速度 ×{}）、来場 {}/{} 人、記録 {} 件 / {} s (speed ×{}), residents {}/{}, events {}",
            self.elapsed_secs,
            self.speed,
            self.residents.0,
            self.residents.1,
            self.events,
            self.elapsed_secs,
            self.speed,
            self.residents.0,
            self.residents.1,
            self.events
        );
        for t in &self.trainees {
            let _ = writeln!(out, "\n■ {} {}（{}）", t.staff_id, t.name, t.role);
            let recorded: Vec<String> =
                t.recorded.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(out, "  記録 / recorded: {}", recorded.join(", "));
            for s in &t.stations {
                let _ = writeln!(
                    out,
                    "  {}: {} 人, 平均 {:.1} 秒 / {} residents, mean {:.1} s",
                    s.station.label_ja(),
                    s.residents,
                    s.mean_secs,
                    s.residents,
                    s.mean_secs
                );
            }
            let _ = writeln!(out, "  訂正 / corrections: {}", t.corrections.len());
            for c in &t.corrections {
                let _ = writeln!(out, "    {}", c.line());
            }
            let _ = writeln!(
                out,
                "  通常外の値の確認 / unusual values confirmed: {}",
                t.confirmed.len()
            );
            for c in &t.confirmed {
                let _ = writeln!(out, "    {}: {}", c.item, c.value);
            }
            let _ = writeln!(
                out,
                "  誤り・拒否 / mistakes and refused actions: {}",
                t.slips.len()
            );
            for s in &t.slips {
                let _ = writeln!(
                    out,
                    "    +{:.1}s {} → {}",
                    s.at_ms as f64 / 1000.0,
                    s.action,
                    slip_text(s)
                );
            }
        }
        if !self.anonymous_slips.is_empty() {
            let _ = writeln!(
                out,
                "\nサインイン前の誤り / before sign-in: {}",
                self.anonymous_slips.len()
            );
            for s in &self.anonymous_slips {
                let _ = writeln!(out, "    {} → {}", s.action, slip_text(s));
            }
        }
        out
    }
}

/// A refusal as one line of text: 「暗証番号の誤り / wrong PIN (422 wrong_pin)」.
pub fn slip_text(s: &Slip) -> String {
    let (ja, en) = slip_label(&s.code);
    format!("{ja} / {en} ({} {})", s.status, s.code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::store::{Draft, StoreOptions};
    use checkup_protocol::{
        Actor, MeasurementCorrected, MeasurementRecorded, NodeKey, Role, StationKind,
    };

    const SYS1: &str = "9A751000000000001";

    fn store(dir: &std::path::Path) -> EventStore {
        EventStore::open(
            &dir.join("events.sqlite3"),
            StoreOptions {
                venue: "training-venue".into(),
                node: "edge-01".into(),
                max_batch_events: 64,
                key: None,
                training: true,
            },
            NodeKey::generate(),
        )
        .expect("store")
    }

    fn nurse() -> Actor {
        Actor {
            staff_id: "S002".into(),
            role: Role::Station,
        }
    }

    /// A nurse records an unusual 250 (confirmed), corrects it to 152; reading the card
    /// asked for the PIN and a completion asked what was missing (the normal flow), one
    /// wrong PIN and one page the role may not see.
    fn day() -> (tempfile::TempDir, EventStore, super::super::Session) {
        let dir = tempfile::tempdir().expect("dir");
        let store = store(dir.path());
        let (sid, first) = (Uuid::now_v7(), Uuid::now_v7());
        store
            .append_local_blocking(vec![Draft {
                id: Some(first),
                actor: nurse(),
                body: EventBody::MeasurementRecorded(MeasurementRecorded {
                    session_id: sid,
                    resident_id: "9900000003".into(),
                    station: StationKind::BloodPressure,
                    item_code: SYS1.into(),
                    value: MeasuredValue::Number(250.0),
                    unit: "mmHg".into(),
                    confirmed: true,
                    answered: None,
                }),
            }])
            .expect("recorded");
        store
            .append_local_blocking(vec![Draft {
                id: None,
                actor: nurse(),
                body: EventBody::MeasurementCorrected(MeasurementCorrected {
                    session_id: sid,
                    resident_id: "9900000003".into(),
                    corrects: first,
                    item_code: SYS1.into(),
                    value: MeasuredValue::Number(152.0),
                    unit: "mmHg".into(),
                    reason: "入力ミス".into(),
                    confirmed: false,
                    answered: None,
                }),
            }])
            .expect("corrected");
        let session = super::super::Session::new(1.0, Vec::new());
        let s = |a: &str, st, c: &str| session.slip(Some("S002".into()), a.into(), st, c.into());
        s("POST /api/card/read", 422, "pin_required");
        s("POST /api/station/tap", 422, "pin_required");
        s("POST /api/events", 422, "incomplete_station");
        s("POST /api/card/read", 422, "wrong_pin");
        s("GET /reception", 403, "forbidden_role");
        (dir, store, session)
    }

    #[test]
    fn asking_for_the_pin_or_what_is_missing_is_not_a_mistake() {
        let (_dir, store, session) = day();
        let sum = summarize(&store, &session).expect("summary");
        let t = &sum.trainees[0];
        let codes: Vec<&str> = t.slips.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["wrong_pin", "forbidden_role"]);
        assert!(is_flow_step("pin_required") && !is_flow_step("wrong_pin"));
    }

    #[test]
    fn refusals_read_as_labels_never_as_a_status_twice() {
        let (_dir, store, session) = day();
        let text = summarize(&store, &session).expect("summary").text();
        assert!(
            text.contains("暗証番号の誤り / wrong PIN (422 wrong_pin)"),
            "{text}"
        );
        assert!(text.contains("権限のない操作・ページ"), "{text}");
        assert!(
            !text.contains("403 403") && !text.contains("pin_required"),
            "{text}"
        );
    }

    #[test]
    fn a_correction_names_the_item_and_its_old_and_new_value() {
        let (_dir, store, session) = day();
        let sum = summarize(&store, &session).expect("summary");
        let c = &sum.trainees[0].corrections[0];
        assert_eq!(c.line(), "収縮期血圧（1回目）: 250 → 152 mmHg（入力ミス）");
        assert!(!sum.text().contains("9A751000000000001"), "{}", sum.text());
    }

    #[test]
    fn unusual_values_the_nurse_confirmed_are_listed() {
        let (_dir, store, session) = day();
        let sum = summarize(&store, &session).expect("summary");
        let c = &sum.trainees[0].confirmed;
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].item.as_str(), c[0].value.as_str()),
            ("収縮期血圧（1回目）", "250 mmHg")
        );
        assert!(
            sum.text()
                .contains("通常外の値の確認 / unusual values confirmed: 1"),
            "{}",
            sum.text()
        );
    }
}
