//! The resident register and record: search (`GET /v1/residents`), import of register rows
//! (`POST /v1/residents`, CSV) and a resident's record across years and venues
//! (`GET /v1/residents/{id}/record`, 健康かるて), current values with their corrections;
//! every access audited.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use checkup_protocol::central::ErrorAnswer;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::extract::{Body, Path, Query};
use super::session::staff;
use crate::db::{Resident, current_results};
use crate::server::AppState;
use crate::tokutei::export::record_stratification;

/// Whom to find.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// Resident number, name or kana.
    #[serde(default)]
    q: String,
    /// Birth date, `YYYY-MM-DD`.
    birth: Option<String>,
}

/// Residents found.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Found {
    /// Matching residents.
    residents: Vec<Resident>,
}

/// `GET /v1/residents?q=&birth=`
#[utoipa::path(
    get,
    path = "/v1/residents",
    tag = "records",
    description = "Search the register by id, name or kana, and birth date (central admin, \
                   caseworker); audited.",
    params(SearchQuery),
    responses(
        (status = 200, description = "Residents", body = Found),
        (status = 400, description = "`malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn search(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin, Role::Caseworker])?;
    let birth = q.birth.filter(|b| !b.is_empty());
    let found = s.db.search(q.q.trim(), birth.as_deref()).await?;
    s.db.audit(&who, "search", &format!("q={} birth={:?}", q.q, birth))
        .await?;
    Ok(Json(Found { residents: found }).into_response())
}

/// Register rows taken in.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Imported {
    /// Rows stored.
    imported: usize,
    /// Rows refused.
    errors: Vec<RowError>,
}

/// A refused register row.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RowError {
    /// 1-based line number (the header is line 1).
    line: usize,
    /// What is wrong.
    message: String,
}

/// `POST /v1/residents` (CSV)
#[utoipa::path(
    post,
    path = "/v1/residents",
    tag = "records",
    description = "Import register rows as CSV \
                   (`resident_id,name,name_kana,birth_date,sex,address`; central admin); \
                   audited.",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "Imported", body = Imported),
        (status = 400, description = "`malformed_request`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn import_residents(
    State(s): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_ref());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.deserialize::<Resident>().enumerate() {
        match rec {
            Ok(r) if r.resident_id.is_empty() => errors.push(RowError {
                line: i + 2,
                message: "empty resident_id".into(),
            }),
            // No register field has one, and PostgreSQL cannot store one.
            Ok(r) if has_nul(&r) => errors.push(RowError {
                line: i + 2,
                message: "a field carries a NUL character".into(),
            }),
            Ok(r) => rows.push(r),
            Err(e) => errors.push(RowError {
                line: i + 2,
                message: e.to_string(),
            }),
        }
    }
    let n = s.db.upsert_residents(rows).await?;
    s.db.audit(&who, "import_residents", &format!("{n} rows"))
        .await?;
    Ok(Json(Imported {
        imported: n,
        errors,
    })
    .into_response())
}

/// Whether any field of a register row carries a NUL character.
fn has_nul(r: &Resident) -> bool {
    [
        &r.resident_id,
        &r.name,
        &r.name_kana,
        &r.birth_date,
        &r.sex,
        &r.address,
    ]
    .iter()
    .any(|f| f.contains('\0'))
}

/// A resident's record (健康かるて).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Record {
    /// The resident asked for.
    resident_id: String,
    /// Their register entry, if imported.
    resident: Option<Resident>,
    /// Every checkup, oldest first.
    checkups: Vec<Checkup>,
    /// Each item's values across years, by item code.
    series: BTreeMap<String, Vec<SeriesPoint>>,
}

/// One checkup of the record.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Checkup {
    /// Day, `YYYY-MM-DD`.
    date: String,
    /// Session id.
    session_id: String,
    /// Current values with their history.
    items: Vec<CheckupItem>,
    /// 階層化 (メタボ判定 9N501, 保健指導レベル 9N506) from the current values, as the
    /// 特定健診 archive writes it; null when the register entry's birth date or sex is missing.
    stratification: Option<StratificationView>,
}

/// 階層化 of one checkup, as shown in the record.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StratificationView {
    /// メタボリックシンドローム判定: the standard's code (9N501).
    metabolic_code: &'static str,
    /// Its Japanese label.
    metabolic_ja: &'static str,
    /// 保健指導レベル: the standard's code (9N506).
    guidance_code: &'static str,
    /// Its Japanese label.
    guidance_ja: &'static str,
    /// Which criteria counted, and for 判定不能 what is missing (Japanese).
    reasons: Vec<String>,
}

/// An item's current value at a checkup.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CheckupItem {
    /// Item code.
    item_code: String,
    /// Current value.
    value: String,
    /// For a questionnaire answer or a coded finding, the answer's Japanese text (the value
    /// is its code); for a free text, the text itself.
    value_ja: Option<String>,
    /// Unit.
    unit: String,
    /// Japanese name (null for an unknown code).
    name_ja: Option<&'static str>,
    /// English name.
    name_en: Option<&'static str>,
    /// Every value recorded, corrections included.
    history: Vec<HistoryEntry>,
}

/// A value as recorded or corrected.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct HistoryEntry {
    /// Value.
    value: String,
    /// For a questionnaire answer or a coded finding, its Japanese text; for a free text,
    /// the text itself.
    value_ja: Option<String>,
    /// Unit.
    unit: String,
    /// Who recorded it.
    staff_id: String,
    /// The event it corrects.
    corrects: Option<String>,
    /// Why it was corrected.
    reason: Option<String>,
    /// The event that recorded it.
    event_id: String,
}

/// An item's value at one checkup.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SeriesPoint {
    /// Day.
    date: String,
    /// Value.
    value: String,
    /// For a questionnaire answer or a coded finding, its Japanese text; for a free text,
    /// the text itself.
    value_ja: Option<String>,
    /// Unit.
    unit: String,
    /// Venue.
    venue: String,
}

/// The Japanese text of a questionnaire answer code or of a coded finding (既往歴, 採血時間 …),
/// and a free text (所見, 診断) as written (`None` for a measurement). Values are stored as
/// their JSON text, so a code or a text may arrive quoted.
fn answer_ja(item_code: &str, value: &str) -> Option<String> {
    use checkup_protocol::ItemValueKind;
    match checkup_protocol::items::item(item_code).map(|i| i.kind) {
        Some(ItemValueKind::Choice(choices)) => {
            let code = value.trim_matches('"');
            return choices
                .iter()
                .find(|c| c.code == code)
                .map(|c| c.label_ja.to_owned());
        }
        Some(ItemValueKind::Text { .. }) => {
            return serde_json::from_str::<String>(value)
                .ok()
                .or_else(|| Some(value.to_owned()));
        }
        _ => {}
    }
    let q = checkup_protocol::questionnaire::question(item_code)?;
    let code = value.trim_matches('"');
    checkup_protocol::questionnaire::texts(checkup_protocol::Lang::Ja)
        .answer(q.answers, code)
        .map(str::to_owned)
}

/// `GET /v1/residents/{id}/record`: every checkup with its results and corrections, and the
/// year-over-year series of each item.
#[utoipa::path(
    get,
    path = "/v1/residents/{id}/record",
    tag = "records",
    description = "The resident's record (健康かるて): every checkup with its results and \
                   corrections, and the year-over-year series of each item (central admin); \
                   audited.",
    params(("id" = String, Path, description = "Resident number")),
    responses(
        (status = 200, description = "The record", body = Record),
        (status = 400, description = "`malformed_path`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn record(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (who, _) = staff(&s, &headers, &[Role::CentralAdmin])?;
    let rows = s.db.results_of(&id).await?;
    s.db.audit(&who, "view_record", &id).await?;
    let current: Vec<_> = current_results(&rows);
    let mut checkups: BTreeMap<(String, String), Vec<CheckupItem>> = BTreeMap::new();
    for r in &current {
        let history: Vec<_> = rows
            .iter()
            .filter(|x| x.session_id == r.session_id && x.item_code == r.item_code)
            .map(|x| HistoryEntry {
                value: x.value.clone(),
                value_ja: answer_ja(&x.item_code, &x.value),
                unit: x.unit.clone(),
                staff_id: x.staff_id.clone(),
                corrects: x.corrects.clone(),
                reason: x.reason.clone(),
                event_id: x.event_id.clone(),
            })
            .collect();
        let item = checkup_protocol::items::item(&r.item_code);
        checkups
            .entry((r.day.clone(), r.session_id.clone()))
            .or_default()
            .push(CheckupItem {
                item_code: r.item_code.clone(),
                value: r.value.clone(),
                value_ja: answer_ja(&r.item_code, &r.value),
                unit: r.unit.clone(),
                name_ja: item.map(|i| i.name_ja),
                name_en: item.map(|i| i.name_en),
                history,
            });
    }
    let mut series: BTreeMap<String, Vec<SeriesPoint>> = BTreeMap::new();
    for r in &current {
        series
            .entry(r.item_code.clone())
            .or_default()
            .push(SeriesPoint {
                date: r.day.clone(),
                value: r.value.clone(),
                value_ja: answer_ja(&r.item_code, &r.value),
                unit: r.unit.clone(),
                venue: r.venue.clone(),
            });
    }
    let resident =
        s.db.search(&id, None)
            .await?
            .into_iter()
            .find(|r| r.resident_id == id);
    let stratification = |date: &str, session_id: &str| {
        let resident = resident.as_ref()?;
        let session: Vec<_> = rows
            .iter()
            .filter(|r| r.session_id == session_id)
            .cloned()
            .collect();
        let st = record_stratification(resident, date, &session)?;
        Some(StratificationView {
            metabolic_code: st.metabolic.code(),
            metabolic_ja: st.metabolic.label_ja(),
            guidance_code: st.guidance.code(),
            guidance_ja: st.guidance.label_ja(),
            reasons: st.reasons,
        })
    };
    let checkups = checkups
        .into_iter()
        .map(|((date, session_id), items)| Checkup {
            stratification: stratification(&date, &session_id),
            date,
            session_id,
            items,
        })
        .collect();
    Ok(Json(Record {
        resident_id: id,
        resident,
        checkups,
        series,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::answer_ja;

    #[test]
    fn findings_read_as_their_labels_and_texts_as_written() {
        assert_eq!(
            answer_ja("9N141000000000011", "\"2\"").as_deref(),
            Some("食後10時間以上")
        );
        assert_eq!(
            answer_ja("9N056000000000011", "\"1\"").as_deref(),
            Some("特記すべきことあり")
        );
        assert_eq!(answer_ja("9N056000000000011", "\"9\""), None);
        assert_eq!(
            answer_ja("9N511000000000049", "\"異常なし\\n要経過観察\"").as_deref(),
            Some("異常なし\n要経過観察")
        );
        assert_eq!(answer_ja("9N001000000000001", "165.1"), None);
    }
}
