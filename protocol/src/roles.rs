//! Staff roles (DESIGN.md "Roles") and which event kinds each may append.
//!
//! Child-case data is a separate compartment: no checkup role may touch it, and the
//! child-welfare roles may not record checkup results.

use serde::{Deserialize, Serialize};

use crate::event::EventKind;

/// A staff member's role. Roles are assigned per venue day by provisioning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reception: taps cards, opens and closes checkup sessions.
    Reception,
    /// A station technician, bound to one or more station kinds.
    Station,
    /// Nurse or public-health nurse (保健師).
    Nurse,
    /// Doctor (診察).
    Doctor,
    /// Child-welfare clerk: scans and reviews police notices.
    ChildWelfareClerk,
    /// Caseworker at the child consultation centre.
    Caseworker,
    /// Runs the venue: boxes, staff on duty, the day's log.
    VenueAdmin,
    /// Central system administrator.
    CentralAdmin,
    /// Reads audit trails; records nothing.
    Auditor,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 9] = [
        Role::Reception,
        Role::Station,
        Role::Nurse,
        Role::Doctor,
        Role::ChildWelfareClerk,
        Role::Caseworker,
        Role::VenueAdmin,
        Role::CentralAdmin,
        Role::Auditor,
    ];

    /// The stable identifier used in config files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reception => "reception",
            Role::Station => "station",
            Role::Nurse => "nurse",
            Role::Doctor => "doctor",
            Role::ChildWelfareClerk => "child_welfare_clerk",
            Role::Caseworker => "caseworker",
            Role::VenueAdmin => "venue_admin",
            Role::CentralAdmin => "central_admin",
            Role::Auditor => "auditor",
        }
    }

    /// Japanese label shown in the UI.
    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Reception => "受付",
            Role::Station => "検査担当",
            Role::Nurse => "看護師・保健師",
            Role::Doctor => "医師",
            Role::ChildWelfareClerk => "児童福祉担当事務",
            Role::Caseworker => "児童福祉司",
            Role::VenueAdmin => "会場管理者",
            Role::CentralAdmin => "中央管理者",
            Role::Auditor => "監査",
        }
    }

    /// Whether this role works on the checkup side (as opposed to child welfare or audit).
    pub fn is_checkup_role(self) -> bool {
        matches!(
            self,
            Role::Reception | Role::Station | Role::Nurse | Role::Doctor | Role::VenueAdmin
        )
    }

    /// Whether this role may append an event of `kind` by hand. Station binding (which
    /// items a station technician may record) is checked by the caller, which knows the
    /// staff member's stations.
    pub fn may_append(self, kind: EventKind) -> bool {
        match kind {
            EventKind::SessionOpened | EventKind::SessionClosed => {
                matches!(self, Role::Reception | Role::VenueAdmin)
            }
            EventKind::MeasurementRecorded
            | EventKind::MeasurementCorrected
            | EventKind::StationVisited => {
                matches!(self, Role::Station | Role::Nurse | Role::Doctor)
            }
            // Views are recorded by the server when a record is read, never typed in.
            EventKind::RecordViewed => false,
            EventKind::NoticeIntakeSaved => matches!(self, Role::ChildWelfareClerk),
            // Taken on the caseworker's tablet, stripped and re-encoded by the box.
            EventKind::CasePhotoAdded => matches!(self, Role::Caseworker),
            // Recorded by the box when a scan or case is shown to a child-welfare role.
            EventKind::CaseViewed => self.may_see_child_cases(),
            // Recorded by the box when it reads a paper questionnaire, never typed in.
            EventKind::QuestionnairePaperRead => false,
        }
    }

    /// Whether this role may see the child-welfare compartment (notices, cases).
    pub fn may_see_child_cases(self) -> bool {
        matches!(self, Role::ChildWelfareClerk | Role::Caseworker)
    }

    /// Whether this role may read the raw event log of a venue.
    pub fn may_read_log(self) -> bool {
        matches!(self, Role::VenueAdmin | Role::Auditor)
    }
}

/// 職階 (rank), lowest first: the order is what access rules compare. Central decides
/// reads across departments by it; a box lets the child-welfare 係長 and above see every
/// case's photos.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub enum Rank {
    /// 係員.
    #[default]
    #[serde(rename = "係員", alias = "staff")]
    Staff,
    /// 主任.
    #[serde(rename = "主任", alias = "senior")]
    Senior,
    /// 係長: crosses departments with a purpose; reviews reads flagged in the department.
    #[serde(rename = "係長", alias = "chief")]
    Chief,
    /// 課長.
    #[serde(rename = "課長", alias = "director")]
    Director,
}

impl Rank {
    /// 係長 and above.
    pub fn is_chief(self) -> bool {
        self >= Rank::Chief
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_welfare_roles_cannot_record_checkup_events() {
        for role in [Role::ChildWelfareClerk, Role::Caseworker, Role::Auditor] {
            for kind in EventKind::ALL.into_iter().filter(|k| !k.is_child_case()) {
                assert!(!role.may_append(kind), "{role} may not append {kind:?}");
            }
        }
    }

    #[test]
    fn only_child_welfare_roles_touch_the_child_case_compartment() {
        for role in Role::ALL {
            let welfare = matches!(role, Role::ChildWelfareClerk | Role::Caseworker);
            assert_eq!(role.may_see_child_cases(), welfare, "{role}");
            assert!(!(role.is_checkup_role() && role.may_see_child_cases()));
            assert_eq!(
                role.may_append(EventKind::NoticeIntakeSaved),
                role == Role::ChildWelfareClerk,
                "{role}"
            );
            assert_eq!(role.may_append(EventKind::CaseViewed), welfare, "{role}");
            assert_eq!(
                role.may_append(EventKind::CasePhotoAdded),
                role == Role::Caseworker,
                "{role}"
            );
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
