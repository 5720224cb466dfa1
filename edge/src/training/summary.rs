//! The trainer's summary at the end of a session: for each trainee (staff sign-in), what
//! they recorded, their corrections, their mistakes and refused actions (wrong PINs,
//! values the box asked to confirm, actions their role may not do), and the time each
//! station took them per resident. Built from the session's events and the refusals the
//! box answered ([`super::Slip`]); printed at the end (`checkup-edge training`) and shown
//! on `GET /training/summary`.

use std::collections::{BTreeMap, HashMap};

use checkup_protocol::{EventBody, StationKind};
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
    /// Results corrected (with the reason given).
    pub corrections: Vec<String>,
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
    for e in &events {
        let t = trainee(&mut trainees, staff, &e.actor.staff_id);
        *t.recorded
            .entry(e.body.kind().as_str().to_owned())
            .or_default() += 1;
        let session = match &e.body {
            EventBody::SessionOpened(p) => Some(p.session_id),
            EventBody::MeasurementCorrected(p) => {
                t.corrections
                    .push(format!("{} → {} ({})", p.item_code, p.value, p.reason));
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
    for s in session.slips() {
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
                let _ = writeln!(out, "    {c}");
            }
            let _ = writeln!(
                out,
                "  誤り・拒否 / mistakes and refused actions: {}",
                t.slips.len()
            );
            for s in &t.slips {
                let _ = writeln!(
                    out,
                    "    +{:.1}s {} → {} {}",
                    s.at_ms as f64 / 1000.0,
                    s.action,
                    s.status,
                    s.code
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
                let _ = writeln!(out, "    {} → {} {}", s.action, s.status, s.code);
            }
        }
        out
    }
}
