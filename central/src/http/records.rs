//! The resident register and record: search (`GET /v1/residents`), import of register rows
//! (`POST /v1/residents`, CSV) and a resident's record across years and venues
//! (`GET /v1/residents/{id}/record`, 健康かるて), current values with their corrections and
//! the checkups imported from the municipality the resident moved from (marked with their
//! origin); every access audited.

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
use super::session::{Signed, staff};
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
    let Signed { id: who, db, .. } = staff(
        &s,
        &headers,
        &[
            Role::CentralAdmin,
            Role::Nurse,
            Role::Doctor,
            Role::Caseworker,
        ],
    )
    .await?;
    let birth = q.birth.filter(|b| !b.is_empty());
    let found = db.search(q.q.trim(), birth.as_deref()).await?;
    db.audit(&who, "search", &format!("q={} birth={:?}", q.q, birth))
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
                   (`resident_id,name,name_kana,birth_date,sex,address`, optional `postal_code` (郵便番号); central admin); \
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
    let Signed { id: who, db, .. } = staff(&s, &headers, &[Role::CentralAdmin]).await?;
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
            Ok(mut r) => match crate::db::normalize_postal_code(&r.postal_code) {
                Some(p) => {
                    r.postal_code = p;
                    rows.push(r);
                }
                None => errors.push(RowError {
                    line: i + 2,
                    message: format!(
                        "郵便番号「{}」は7桁（NNN-NNNN）ではありません / postal code is not 7 digits",
                        r.postal_code
                    ),
                }),
            },
            Err(e) => errors.push(RowError {
                line: i + 2,
                message: e.to_string(),
            }),
        }
    }
    let n = db.upsert_residents(rows).await?;
    db.audit(&who, "import_residents", &format!("{n} rows"))
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
        &r.postal_code,
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
    /// Session id; for an imported checkup, `imported:` and the SHA-256 of its content.
    session_id: String,
    /// Current values with their history.
    items: Vec<CheckupItem>,
    /// 階層化 (メタボ判定 9N501, 保健指導レベル 9N506) from the current values, as the
    /// 特定健診 archive writes it; null when the register entry's birth date or sex is missing.
    stratification: Option<StratificationView>,
    /// For a checkup imported from another municipality's central: where it came from
    /// (null for a checkup of this municipality).
    origin: Option<Origin>,
}

/// Where an imported checkup came from.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Origin {
    /// 機関番号 of the institution that wrote the document.
    institution_number: String,
    /// Its name.
    name: String,
    /// The mark shown with the checkup: 「転入前の記録（…から）」.
    label_ja: String,
    /// The same in English.
    label_en: String,
    /// When the document was written, `YYYY-MM-DD`.
    document_created: String,
    /// When it was imported here (Unix ms).
    imported_ms: i64,
    /// Who imported it.
    imported_by: String,
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
    name_ja: Option<String>,
    /// English name.
    name_en: Option<String>,
    /// Every value recorded, corrections included (empty for an imported checkup).
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
    /// Venue; for an imported checkup, the 機関番号 of where it came from.
    venue: String,
    /// For an imported checkup, the name of where it came from.
    origin: Option<String>,
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
/// year-over-year series of each item; checkups imported from another municipality's
/// central among them, each with its origin.
#[utoipa::path(
    get,
    path = "/v1/residents/{id}/record",
    tag = "records",
    description = "The resident's record (健康かるて): every checkup with its results and \
                   corrections, and the year-over-year series of each item; checkups \
                   imported from the municipality the resident moved from among them, each \
                   with its `origin`. Who may read it is decided by role, rank and duty: \
                   the central admin; health staff for residents of their districts and \
                   caseload, others with a `purpose` (flagged for the section chief), 係長 \
                   and above any; caseworkers for the children and guardians on their cases, \
                   and child-welfare 係長 and above, with a `purpose`. Audited with the \
                   purpose.",
    params(("id" = String, Path, description = "Resident number"), super::access::PurposeQuery),
    responses(
        (status = 200, description = "The record", body = Record),
        (status = 400, description = "`malformed_path`, `malformed_query`", body = ErrorAnswer),
        (status = 401, description = "`sign_in_required`", body = ErrorAnswer),
        (status = 403, description = "`forbidden`, `purpose_required`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(("session" = [])),
)]
pub(crate) async fn record(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<super::access::PurposeQuery>,
) -> Result<Response, ApiError> {
    let st = staff(&s, &headers, &Role::ALL).await?;
    let read = super::access::decide_record(&st, &id, q.purpose.as_deref()).await?;
    let db = st.db.clone();
    let rows = db.results_of(&id).await?;
    super::access::audit_read(&st, "view_record", &id, Some(&id), &read).await?;
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
                name_ja: item.map(|i| i.name_ja.to_owned()),
                name_en: item.map(|i| i.name_en.to_owned()),
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
                origin: None,
            });
    }
    let imported = db.imported_of(&id).await?;
    let mut imported_checkups = Vec::with_capacity(imported.len());
    for c in imported {
        let items = c.items();
        for i in &items {
            series
                .entry(i.item_code.clone())
                .or_default()
                .push(SeriesPoint {
                    date: c.checkup_date.clone(),
                    value: i.value.clone(),
                    value_ja: imported_value_ja(i),
                    unit: i.unit.clone(),
                    venue: c.origin_number.clone(),
                    origin: Some(c.origin_name.clone()),
                });
        }
        imported_checkups.push(imported_checkup(c, items));
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.date.cmp(&b.date));
    }
    let resident = db.resident(&id).await?;
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
    let mut checkups: Vec<Checkup> = checkups
        .into_iter()
        .map(|((date, session_id), items)| Checkup {
            stratification: stratification(&date, &session_id),
            date,
            session_id,
            items,
            origin: None,
        })
        .chain(imported_checkups)
        .collect();
    checkups.sort_by(|a, b| a.date.cmp(&b.date));
    Ok(Json(Record {
        resident_id: id,
        resident,
        checkups,
        series,
    })
    .into_response())
}

/// The Japanese text of an imported result: 未実施 and 測定不可, a urine grade, a
/// questionnaire answer or coded finding, a text.
fn imported_value_ja(i: &crate::db::ImportedItem) -> Option<String> {
    use checkup_protocol::ItemValueKind;
    match i.kind.as_str() {
        "not_done" => return Some("未実施".into()),
        "unmeasurable" => return Some("測定不可".into()),
        "text" => return Some(i.value.clone()),
        _ => {}
    }
    if let Some(ItemValueKind::Qualitative) =
        checkup_protocol::items::item(&i.item_code).map(|d| d.kind)
    {
        let grade = match i.value.as_str() {
            "1" => "－",
            "2" => "±",
            "3" => "＋",
            "4" => "＋＋",
            "5" => "＋＋＋以上",
            _ => return None,
        };
        return Some(grade.into());
    }
    if i.kind == "coded" {
        use crate::tokutei::hierarchy::{GUIDANCE_ITEM_CODE, METABOLIC_ITEM_CODE};
        if i.item_code == METABOLIC_ITEM_CODE {
            return metabolic_of(&i.value).map(|j| j.label_ja().to_owned());
        }
        if i.item_code == GUIDANCE_ITEM_CODE {
            return guidance_of(&i.value).map(|l| l.label_ja().to_owned());
        }
        return answer_ja(&i.item_code, &i.value);
    }
    None
}

fn metabolic_of(code: &str) -> Option<crate::tokutei::hierarchy::MetabolicJudgement> {
    use crate::tokutei::hierarchy::MetabolicJudgement as M;
    [M::Criteria, M::Reserve, M::NotApplicable, M::Undecidable]
        .into_iter()
        .find(|j| j.code() == code)
}

fn guidance_of(code: &str) -> Option<crate::tokutei::hierarchy::GuidanceLevel> {
    use crate::tokutei::hierarchy::GuidanceLevel as G;
    [
        G::Active,
        G::Motivational,
        G::InformationOnly,
        G::Undecidable,
    ]
    .into_iter()
    .find(|l| l.code() == code)
}

/// 階層化 of an imported checkup: the judgements its document carries (as the sending
/// central derived them), none when it carries neither.
fn imported_stratification(items: &[crate::db::ImportedItem]) -> Option<StratificationView> {
    use crate::tokutei::hierarchy::{GUIDANCE_ITEM_CODE, METABOLIC_ITEM_CODE};
    let value = |code: &str| {
        items
            .iter()
            .find(|i| i.item_code == code)
            .map(|i| i.value.as_str())
    };
    let metabolic = metabolic_of(value(METABOLIC_ITEM_CODE)?)?;
    let guidance = guidance_of(value(GUIDANCE_ITEM_CODE)?)?;
    Some(StratificationView {
        metabolic_code: metabolic.code(),
        metabolic_ja: metabolic.label_ja(),
        guidance_code: guidance.code(),
        guidance_ja: guidance.label_ja(),
        reasons: vec![
            "転入前の記録の文書にある判定 / as the sending municipality's document states".into(),
        ],
    })
}

/// An imported checkup as the record shows it.
fn imported_checkup(c: crate::db::ImportedCheckup, items: Vec<crate::db::ImportedItem>) -> Checkup {
    let stratification = imported_stratification(&items);
    Checkup {
        stratification,
        date: c.checkup_date,
        session_id: format!("imported:{}", c.content_sha256),
        items: items
            .into_iter()
            .map(|i| {
                let known = checkup_protocol::items::item(&i.item_code);
                CheckupItem {
                    value_ja: imported_value_ja(&i),
                    name_ja: known
                        .map(|k| k.name_ja.to_owned())
                        .or_else(|| (!i.name_ja.is_empty()).then(|| i.name_ja.clone())),
                    name_en: known.map(|k| k.name_en.to_owned()),
                    item_code: i.item_code,
                    value: i.value,
                    unit: i.unit,
                    history: Vec::new(),
                }
            })
            .collect(),
        origin: Some(Origin {
            label_ja: format!("転入前の記録（{}から）", c.origin_name),
            label_en: format!("Before moving here (from {})", c.origin_name),
            institution_number: c.origin_number,
            name: c.origin_name,
            document_created: c.document_created,
            imported_ms: c.imported_ms,
            imported_by: c.imported_by,
        }),
    }
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

    #[test]
    fn imported_results_read_as_their_standard_labels() {
        use super::imported_value_ja;
        let item = |code: &str, kind: &str, value: &str| crate::db::ImportedItem {
            item_code: code.into(),
            value: value.into(),
            kind: kind.into(),
            unit: String::new(),
            name_ja: String::new(),
        };
        let ja = |i| imported_value_ja(&i);
        assert_eq!(
            ja(item("9N501000000000011", "coded", "2")).as_deref(),
            Some("予備群該当")
        );
        assert_eq!(
            ja(item("9N506000000000011", "coded", "1")).as_deref(),
            Some("積極的支援")
        );
        assert_eq!(
            ja(item("1A020000000191111", "coded", "2")).as_deref(),
            Some("±")
        );
        assert_eq!(
            ja(item("3C015000002327101", "unmeasurable", "")).as_deref(),
            Some("測定不可")
        );
        assert_eq!(
            ja(item("9E100166000000011", "not_done", "")).as_deref(),
            Some("未実施")
        );
        assert_eq!(ja(item("9N001000000000001", "quantity", "158.4")), None);
    }
}
