//! Who may read what at central: the rules of access by role, rank (職階) and duty, in one
//! place, as pure functions the HTTP handlers ask before they read.
//!
//! ```text
//!                      health record (健康かるて)          child case (児童通告)
//! central admin        yes (register, exports)            no  (child welfare is apart)
//! auditor              no  (reads the trail)              no
//! health, 係長+        yes                                with a purpose (crosses departments)
//! health, 係員/主任     own districts and caseload: yes;   no
//!                      others: with a purpose, flagged
//!                      for the section chief
//! child welfare        children and guardians on her own  yes (the department's queue)
//!                      cases, or 係長+: with a purpose
//!                      (crosses departments); else no
//! ```
//!
//! A case's photos (injuries, forwarded from the boxes) are narrower than the case: the
//! child-welfare department's 係長 and above, and the caseworkers assigned to the case
//! ([`case_photos`]); no one else — not a health 係長 with a purpose, not the admin.
//!
//! Every read is audited by the caller with the [`Read`] decided here: its purpose, and
//! whether it is flagged for the section chief (係長 and above of the reader's department,
//! `GET /v1/access/flagged`). Municipalities are not decided here: a staff member's store is
//! scoped to her municipality ([`crate::db::Store::scoped`]), which row-level security
//! enforces on PostgreSQL.

use std::collections::BTreeSet;

use checkup_protocol::Role;
use serde::{Deserialize, Serialize};

use crate::config::{Config, StaffConfig};

pub use checkup_protocol::Rank;

/// The department a staff member works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    /// 健康づくり・母子保健 (nurses, doctors): the health record.
    Health,
    /// 子ども家庭・児童相談 (caseworkers, clerks): the child cases.
    ChildWelfare,
}

impl Department {
    /// The stable identifier (audit entries, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Department::Health => "health",
            Department::ChildWelfare => "child_welfare",
        }
    }

    /// The department a role belongs to, when the configuration names none.
    pub fn of_role(role: Role) -> Option<Department> {
        match role {
            Role::Nurse | Role::Doctor | Role::Station | Role::Reception => {
                Some(Department::Health)
            }
            Role::Caseworker | Role::ChildWelfareClerk => Some(Department::ChildWelfare),
            Role::VenueAdmin | Role::CentralAdmin | Role::Auditor => None,
        }
    }
}

/// A signed-in staff member as the rules see her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// Staff id.
    pub staff_id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// 職階.
    pub rank: Rank,
    /// Department, if any.
    pub department: Option<Department>,
    /// The municipality she works for.
    pub municipality: String,
    /// 地区担当.
    pub districts: BTreeSet<String>,
    /// 担当ケース (residents).
    pub caseload: BTreeSet<String>,
}

impl Viewer {
    /// The viewer a configured staff member is (the configuration was checked, so her
    /// municipality is known; an unknown one would be empty and see nothing).
    pub fn of(config: &Config, m: &StaffConfig) -> Viewer {
        Viewer {
            staff_id: m.id.clone(),
            name: m.name.clone(),
            role: m.role,
            rank: m.duty.rank,
            department: m.duty.department.or_else(|| Department::of_role(m.role)),
            municipality: config.staff_municipality(m).unwrap_or_default(),
            districts: m.duty.districts.iter().cloned().collect(),
            caseload: m.duty.caseload.iter().cloned().collect(),
        }
    }

    /// 係長 and above.
    pub fn is_chief(&self) -> bool {
        self.rank >= Rank::Chief
    }
}

/// What central knows of the resident whose record is asked for.
#[derive(Debug, Clone, Default)]
pub struct Subject<'a> {
    /// Resident number (宛名番号).
    pub resident_id: &'a str,
    /// Their register district, if registered.
    pub district: Option<&'a str>,
    /// Whether they are a child or guardian on a case assigned to the viewer.
    pub on_own_cases: bool,
}

/// A read allowed, as it is audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Within the viewer's duties.
    InDuty,
    /// Outside her districts and caseload: allowed with its purpose, flagged for the section
    /// chief.
    OutsideDuty {
        /// Why, as she stated it.
        purpose: String,
    },
    /// Across departments (health ↔ child welfare), with its purpose.
    CrossDepartment {
        /// Why, as stated.
        purpose: String,
    },
}

impl Read {
    /// The stated purpose, if the read needed one.
    pub fn purpose(&self) -> Option<&str> {
        match self {
            Read::InDuty => None,
            Read::OutsideDuty { purpose } | Read::CrossDepartment { purpose } => Some(purpose),
        }
    }

    /// Whether the read is flagged for the section chief.
    pub fn flagged(&self) -> bool {
        matches!(self, Read::OutsideDuty { .. })
    }
}

/// A read refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Allowed only with a stated purpose (`purpose=`), which was missing.
    #[error("{0}")]
    PurposeRequired(&'static str),
    /// Not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
}

/// Longest purpose kept, in characters.
pub const MAX_PURPOSE_CHARS: usize = 500;

/// A stated purpose, trimmed; `None` when it states nothing: empty, or without a single
/// letter or digit (any script) — blanks, punctuation, or invisible characters only (zero
/// width spaces, bidirectional controls, a byte-order mark) are not a purpose.
pub fn purpose(p: Option<&str>) -> Option<String> {
    let p = p?.trim();
    p.chars()
        .any(char::is_alphanumeric)
        .then(|| p.chars().take(MAX_PURPOSE_CHARS).collect())
}

/// May `v` read the health record of `s` (with `purpose`, if stated)?
pub fn health_record(v: &Viewer, s: &Subject<'_>, purpose: Option<&str>) -> Result<Read, Refusal> {
    let purpose = self::purpose(purpose);
    match v.role {
        Role::CentralAdmin => return Ok(Read::InDuty),
        Role::Auditor => {
            return Err(Refusal::Forbidden(
                "監査担当は記録を読めません（監査証跡と閲覧記録のみ） / auditors read the trail, not records",
            ));
        }
        _ => {}
    }
    match v.department {
        Some(Department::Health) => {
            let in_district = s.district.is_some_and(|d| v.districts.contains(d));
            if v.is_chief() || in_district || v.caseload.contains(s.resident_id) {
                return Ok(Read::InDuty);
            }
            purpose
                .map(|purpose| Read::OutsideDuty { purpose })
                .ok_or(Refusal::PurposeRequired(
                    "担当地区・担当ケース外の住民です。閲覧の目的を入力してください（係長に通知されます） / \
                     outside your districts and caseload: state the purpose (the section chief is told)",
                ))
        }
        Some(Department::ChildWelfare) => {
            if !(s.on_own_cases || v.is_chief()) {
                return Err(Refusal::Forbidden(
                    "担当ケースの子ども・保護者ではありません。部署をまたぐ閲覧は係長以上です / \
                     not a child or guardian on your cases; crossing departments needs 係長 or above",
                ));
            }
            purpose
                .map(|purpose| Read::CrossDepartment { purpose })
                .ok_or(Refusal::PurposeRequired(
                    "部署をまたぐ閲覧です。目的を入力してください / crossing departments: state the purpose",
                ))
        }
        None => Err(Refusal::Forbidden(
            "この役割では健康記録を読めません / this role does not read health records",
        )),
    }
}

/// May `v` read a child case (`assigned`: the case is assigned to her)?
pub fn child_case(v: &Viewer, purpose: Option<&str>) -> Result<Read, Refusal> {
    let purpose = self::purpose(purpose);
    match (v.role, v.department) {
        (Role::CentralAdmin | Role::Auditor, _) => Err(Refusal::Forbidden(
            "児童通告は子ども家庭の区画です / child cases are the child-welfare compartment's",
        )),
        (_, Some(Department::ChildWelfare)) => Ok(Read::InDuty),
        (_, Some(Department::Health)) if v.is_chief() => purpose
            .map(|purpose| Read::CrossDepartment { purpose })
            .ok_or(Refusal::PurposeRequired(
                "部署をまたぐ閲覧です。目的を入力してください / crossing departments: state the purpose",
            )),
        _ => Err(Refusal::Forbidden(
            "部署をまたぐ閲覧は係長以上です / crossing departments needs 係長 or above",
        )),
    }
}

/// May `v` see the photos of a child case (`assigned`: she is one of its assigned
/// caseworkers)? The child-welfare department's 係長 and above, and the case's caseworkers —
/// the rule the boxes apply to the same photos (there: a caseworker on the case).
pub fn case_photos(v: &Viewer, assigned: bool) -> Result<Read, Refusal> {
    if matches!(v.role, Role::CentralAdmin | Role::Auditor) {
        return Err(Refusal::Forbidden(
            "ケースの写真は子ども家庭の区画です / case photos are the child-welfare compartment's",
        ));
    }
    if v.department != Some(Department::ChildWelfare) {
        return Err(Refusal::Forbidden(
            "ケースの写真は子ども家庭の係長以上と担当ケースワーカーだけが見られます / \
             case photos: child-welfare 係長 and above and the case's caseworkers only",
        ));
    }
    if v.is_chief() || (assigned && v.role == Role::Caseworker) {
        return Ok(Read::InDuty);
    }
    Err(Refusal::Forbidden(
        "担当ケースではありません。写真は担当ケースワーカーと係長以上が見られます / \
         not your case: its photos are for its caseworkers and 係長 and above",
    ))
}

/// May `v` list the child-welfare intake queue (all cases of her municipality)?
pub fn case_queue(v: &Viewer) -> bool {
    v.department == Some(Department::ChildWelfare)
        && matches!(v.role, Role::Caseworker | Role::ChildWelfareClerk)
}

/// May `v` assign caseworkers to cases and name a case's children and guardians? A
/// child-welfare 係長 or above; a caseworker names the people on her own cases.
pub fn manages_cases(v: &Viewer) -> bool {
    v.department == Some(Department::ChildWelfare) && v.is_chief()
}

/// May `v` raise a high-risk flag (特定妊婦, missed checkups…) for the child-welfare side?
/// The health department's staff.
pub fn raises_flags(v: &Viewer) -> bool {
    v.department == Some(Department::Health)
}

/// May `v` see the high-risk flags? The child-welfare department, and the health
/// department's 係長 and above.
pub fn sees_flags(v: &Viewer) -> bool {
    match v.department {
        Some(Department::ChildWelfare) => true,
        Some(Department::Health) => v.is_chief(),
        None => false,
    }
}

/// May `v` review the reads flagged in her department? 係長 and above.
pub fn reviews_flagged(v: &Viewer) -> Option<Department> {
    v.department.filter(|_| v.is_chief())
}

/// May `v` produce a resident's access report (開示請求)? The central admin and the
/// auditor.
pub fn access_report(v: &Viewer) -> bool {
    matches!(v.role, Role::CentralAdmin | Role::Auditor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, rank: Rank) -> Viewer {
        Viewer {
            staff_id: "S1".into(),
            name: "x".into(),
            role,
            rank,
            department: Department::of_role(role),
            municipality: "012025".into(),
            districts: ["北1".to_owned()].into(),
            caseload: ["R-case".to_owned()].into(),
        }
    }

    fn subject<'a>(resident_id: &'a str, district: Option<&'a str>, own: bool) -> Subject<'a> {
        Subject {
            resident_id,
            district,
            on_own_cases: own,
        }
    }

    #[test]
    fn a_nurse_reads_her_districts_and_caseload_and_others_only_with_a_flagged_purpose() {
        let n = viewer(Role::Nurse, Rank::Staff);
        assert_eq!(
            health_record(&n, &subject("R1", Some("北1"), false), None),
            Ok(Read::InDuty)
        );
        assert_eq!(
            health_record(&n, &subject("R-case", Some("南2"), false), None),
            Ok(Read::InDuty)
        );
        let other = subject("R2", Some("南2"), false);
        assert!(matches!(
            health_record(&n, &other, None),
            Err(Refusal::PurposeRequired(_))
        ));
        assert!(matches!(
            health_record(&n, &other, Some("   ")),
            Err(Refusal::PurposeRequired(_))
        ));
        let r = health_record(&n, &other, Some(" 転入者の継続支援 ")).expect("allowed");
        assert_eq!(r.purpose(), Some("転入者の継続支援"));
        assert!(r.flagged());
        // A 係長 of health reads any resident of her municipality, unflagged.
        let chief = viewer(Role::Nurse, Rank::Chief);
        assert_eq!(health_record(&chief, &other, None), Ok(Read::InDuty));
    }

    #[test]
    fn an_invisible_or_blank_purpose_states_nothing() {
        let n = viewer(Role::Nurse, Rank::Staff);
        let other = subject("R2", Some("南2"), false);
        for nothing in [
            "\u{200b}",
            "\u{202e}",
            "\u{2060}\u{feff}",
            "\u{3000}",
            "…",
            "- .",
            "\n\t",
        ] {
            assert!(
                matches!(
                    health_record(&n, &other, Some(nothing)),
                    Err(Refusal::PurposeRequired(_))
                ),
                "{nothing:?} is no purpose"
            );
        }
        assert!(health_record(&n, &other, Some("家庭訪問")).is_ok());
        assert!(health_record(&n, &other, Some("\u{200b}R2確認")).is_ok());
    }

    #[test]
    fn a_caseworker_crosses_only_for_her_own_cases_and_with_a_purpose() {
        let w = viewer(Role::Caseworker, Rank::Staff);
        assert!(matches!(
            health_record(&w, &subject("C1", None, false), Some("確認")),
            Err(Refusal::Forbidden(_))
        ));
        let own = subject("C1", None, true);
        assert!(matches!(
            health_record(&w, &own, None),
            Err(Refusal::PurposeRequired(_))
        ));
        let r = health_record(&w, &own, Some("乳幼児健診の受診状況")).expect("allowed");
        assert!(matches!(r, Read::CrossDepartment { .. }));
        assert!(!r.flagged());
        // 主任 is not enough to cross for others' cases; 係長 is, with a purpose.
        let senior = viewer(Role::Caseworker, Rank::Senior);
        assert!(health_record(&senior, &subject("C2", None, false), Some("x")).is_err());
        let chief = viewer(Role::Caseworker, Rank::Chief);
        assert!(matches!(
            health_record(&chief, &subject("C2", None, false), Some("会議資料")),
            Ok(Read::CrossDepartment { .. })
        ));
    }

    #[test]
    fn child_cases_stay_in_child_welfare_unless_a_health_chief_states_why() {
        assert_eq!(
            child_case(&viewer(Role::Caseworker, Rank::Staff), None),
            Ok(Read::InDuty)
        );
        assert_eq!(
            child_case(&viewer(Role::ChildWelfareClerk, Rank::Staff), None),
            Ok(Read::InDuty)
        );
        assert!(child_case(&viewer(Role::Nurse, Rank::Senior), Some("x")).is_err());
        assert!(matches!(
            child_case(&viewer(Role::Nurse, Rank::Chief), None),
            Err(Refusal::PurposeRequired(_))
        ));
        assert!(matches!(
            child_case(&viewer(Role::Nurse, Rank::Director), Some("ケース会議")),
            Ok(Read::CrossDepartment { .. })
        ));
        for role in [Role::CentralAdmin, Role::Auditor] {
            assert!(child_case(&viewer(role, Rank::Director), Some("x")).is_err());
        }
    }

    #[test]
    fn case_photos_are_for_child_welfare_chiefs_and_the_cases_caseworkers() {
        let ok = |role, rank, assigned| case_photos(&viewer(role, rank), assigned).is_ok();
        assert!(ok(Role::Caseworker, Rank::Staff, true));
        assert!(!ok(Role::Caseworker, Rank::Staff, false));
        assert!(!ok(Role::Caseworker, Rank::Senior, false));
        assert!(ok(Role::Caseworker, Rank::Chief, false));
        assert!(ok(Role::ChildWelfareClerk, Rank::Chief, false));
        assert!(!ok(Role::ChildWelfareClerk, Rank::Staff, true));
        for role in [Role::Nurse, Role::Doctor, Role::Station, Role::Reception] {
            assert!(!ok(role, Rank::Director, true), "{role:?}");
        }
        for role in [Role::CentralAdmin, Role::Auditor] {
            assert!(!ok(role, Rank::Director, true), "{role:?}");
            // Not even configured into child welfare's department.
            let v = Viewer {
                department: Some(Department::ChildWelfare),
                ..viewer(role, Rank::Director)
            };
            assert!(case_photos(&v, true).is_err(), "{role:?}");
        }
    }

    #[test]
    fn admins_and_auditors() {
        let a = viewer(Role::CentralAdmin, Rank::Staff);
        assert_eq!(
            health_record(&a, &subject("R9", None, false), None),
            Ok(Read::InDuty)
        );
        assert!(access_report(&a));
        let au = viewer(Role::Auditor, Rank::Staff);
        assert!(health_record(&au, &subject("R9", None, false), Some("x")).is_err());
        assert!(access_report(&au));
        assert!(!access_report(&viewer(Role::Nurse, Rank::Director)));
    }

    #[test]
    fn flags_go_from_health_to_child_welfare() {
        assert!(raises_flags(&viewer(Role::Nurse, Rank::Staff)));
        assert!(!raises_flags(&viewer(Role::Caseworker, Rank::Staff)));
        assert!(sees_flags(&viewer(Role::Caseworker, Rank::Staff)));
        assert!(!sees_flags(&viewer(Role::Nurse, Rank::Senior)));
        assert!(sees_flags(&viewer(Role::Nurse, Rank::Chief)));
        assert!(!sees_flags(&viewer(Role::CentralAdmin, Rank::Director)));
        assert_eq!(
            reviews_flagged(&viewer(Role::Nurse, Rank::Chief)),
            Some(Department::Health)
        );
        assert_eq!(reviews_flagged(&viewer(Role::Nurse, Rank::Senior)), None);
    }

    #[test]
    fn ranks_are_written_in_japanese_or_english() {
        #[derive(Deserialize)]
        struct T {
            r: Rank,
        }
        for (text, rank) in [
            ("係員", Rank::Staff),
            ("主任", Rank::Senior),
            ("係長", Rank::Chief),
            ("課長", Rank::Director),
            ("chief", Rank::Chief),
        ] {
            let t: T = toml::from_str(&format!("r = \"{text}\"")).expect("parses");
            assert_eq!(t.r, rank);
        }
        assert!(toml::from_str::<T>("r = \"部長\"").is_err());
    }
}
