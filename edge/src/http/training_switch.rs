//! The venue admin's training switch over HTTP: start a rehearsal (`checkup-edge training`)
//! beside this real box, see it, stop it. The process work is [`crate::training::switch`]'s;
//! the section on the venue admin's page is [`crate::ui::training::switch_section`]'s.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /api/training` | venue admin | running or not, its address, since when, its options |
//! | `POST /api/training/start` | venue admin | start one (409 while one runs, 400 on bad options) |
//! | `POST /api/training/stop` | venue admin | stop it: its summary printed, its data wiped |
//!
//! A training box has no switch (404 `no_training_switch`): a rehearsal never starts another.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::Role;
use serde::Serialize;

use super::AppState;
use super::extract::Body;
use crate::auth::Staff;
use crate::http::error::{ApiError, ErrorBody};
use crate::training::switch::{Switch, SwitchError, SwitchState, TrainingOptions};

/// Whether a rehearsal runs beside this box, and where.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TrainingState {
    /// A rehearsal runs.
    pub(crate) running: bool,
    /// Its address, as the caller reached this box (same host, the rehearsal's port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    /// Its port.
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    /// When it started (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    /// How it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<TrainingOptions>,
    /// The rehearsal box's process id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    /// The trainer's summary of the last rehearsal, once it has ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_summary: Option<String>,
}

/// The answer to `POST /api/training/stop`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Stopped {
    /// A rehearsal was running and has ended (false: none ran).
    stopped: bool,
    /// Its trainer's summary, as it printed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
}

/// The host the caller reached this box by, without its port (`192.168.10.11`, `[::1]`,
/// `box.local`).
fn host_of(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?.trim();
    if host.is_empty() {
        return None;
    }
    let name = if let Some(rest) = host.strip_prefix('[') {
        format!("[{}]", rest.split(']').next()?)
    } else if host.matches(':').count() == 1 {
        host.split(':').next()?.to_owned()
    } else {
        host.to_owned()
    };
    // Only what a host can be: the link goes back to the page.
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        .then_some(name)
}

fn state_answer(s: SwitchState, headers: &HeaderMap) -> TrainingState {
    let url = s.port.zip(host_of(headers)).map(|(port, host)| {
        let scheme = &s.scheme;
        format!("{scheme}://{host}:{port}/")
    });
    TrainingState {
        running: s.running,
        url,
        port: s.port,
        started_at: s.started_at,
        options: s.options,
        pid: s.pid,
        last_summary: s.last_summary,
    }
}

/// The switch's state as the page shows it.
pub(crate) async fn training_state_for(switch: &Switch, headers: &HeaderMap) -> TrainingState {
    state_answer(switch.state().await, headers)
}

/// The switch, for the venue admin; 404 on a box without one (a training box).
fn switch_for(state: &AppState, staff: &Staff) -> Result<Arc<Switch>, ApiError> {
    let switch = match (&state.training, &state.training_switch) {
        (None, Some(s)) => s.clone(),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_training_switch",
                "この端末からは練習を始められません（練習モードの中、または設定で無効） / this box has no training switch (a training box, or [training] switch = false)",
            ));
        }
    };
    super::require(staff, &[Role::VenueAdmin]).map_err(|_| {
        ApiError::forbidden(format!(
            "練習モードの開始と終了は会場管理者だけができます（{}の権限ではできません） / only the venue admin may start or stop a rehearsal (not role {})",
            staff.role.label_ja(),
            staff.role
        ))
    })?;
    Ok(switch)
}

/// `GET /api/training`
#[utoipa::path(
    get,
    path = "/api/training",
    tag = "training",
    description = "Whether a rehearsal (練習モード) runs beside this box: its address, since \
                   when, its options, and the last rehearsal's summary (venue admin).",
    responses(
        (status = 200, description = "The switch's state", body = TrainingState),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`: not the venue admin", body = ErrorBody),
        (status = 404, description = "`no_training_switch`: a training box, or the switch is off", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn training_state(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Result<Json<TrainingState>, ApiError> {
    let switch = switch_for(&state, &staff)?;
    Ok(Json(state_answer(switch.state().await, &headers)))
}

/// `POST /api/training/start`
#[utoipa::path(
    post,
    path = "/api/training/start",
    operation_id = "training_start",
    tag = "training",
    description = "Start a rehearsal (`checkup-edge training`) beside this box, on its address \
                   and certificate, with its own data directory (venue admin). Answers once \
                   the rehearsal box is ready.",
    request_body(content = TrainingOptions, content_type = "application/json"),
    responses(
        (status = 201, description = "Started", body = TrainingState),
        (status = 400, description = "`malformed_request`, `bad_training_options`", body = ErrorBody),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`: not the venue admin", body = ErrorBody),
        (status = 404, description = "`no_training_switch`: a training box, or the switch is off", body = ErrorBody),
        (status = 409, description = "`training_running`, `training_dir_in_use`", body = ErrorBody),
        (status = 413, description = "`body_too_large`", body = ErrorBody),
        (status = 500, description = "`training_not_started`", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let switch = switch_for(&state, &staff)?;
    let options: TrainingOptions = serde_json::from_slice(&body).map_err(|e| {
        ApiError::malformed(format!(
            "練習の設定が読めません / the options are not {{\"residents\", \"speed\", \"autopilot\"}}: {e}"
        ))
    })?;
    match switch.start(options).await {
        Ok(s) => {
            tracing::info!(staff = %staff.id, "練習モード: started from the page");
            Ok((StatusCode::CREATED, Json(state_answer(s, &headers))).into_response())
        }
        Err(e) => {
            let (status, code) = match &e {
                SwitchError::Running { .. } => (StatusCode::CONFLICT, "training_running"),
                SwitchError::DirInUse(_) => (StatusCode::CONFLICT, "training_dir_in_use"),
                SwitchError::BadOptions(_) => (StatusCode::BAD_REQUEST, "bad_training_options"),
                SwitchError::Start(_) => {
                    tracing::error!(error = %e, "練習モード: not started");
                    (StatusCode::INTERNAL_SERVER_ERROR, "training_not_started")
                }
            };
            Err(ApiError::new(status, code, e.to_string()))
        }
    }
}

/// `POST /api/training/stop`
#[utoipa::path(
    post,
    path = "/api/training/stop",
    operation_id = "training_stop",
    tag = "training",
    description = "Stop the rehearsal (venue admin): it is sent SIGTERM and waited for; it \
                   prints the trainer's summary (returned here) and wipes its data directory. \
                   With none running, `stopped` is false.",
    responses(
        (status = 200, description = "Stopped (or none ran)", body = Stopped),
        (status = 401, description = "`not_signed_in`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`: not the venue admin", body = ErrorBody),
        (status = 404, description = "`no_training_switch`: a training box, or the switch is off", body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub(crate) async fn stop(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Json<Stopped>, ApiError> {
    let switch = switch_for(&state, &staff)?;
    let summary = switch.stop().await;
    if summary.is_some() {
        tracing::info!(staff = %staff.id, "練習モード: stopped from the page");
    }
    Ok(Json(Stopped {
        stopped: summary.is_some(),
        summary,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str) -> Option<String> {
        let mut m = HeaderMap::new();
        m.insert(header::HOST, h.parse().expect("header"));
        host_of(&m)
    }

    #[test]
    fn the_link_keeps_the_host_the_tablet_used() {
        assert_eq!(host("192.168.10.11:8080").as_deref(), Some("192.168.10.11"));
        assert_eq!(host("box.local").as_deref(), Some("box.local"));
        assert_eq!(host("[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(host("a\"b:1"), None);
    }
}
