//! Training mode (`checkup-edge training`): a complete rehearsal venue that never touches a
//! real day.
//!
//! ```text
//! checkup-edge training --data-dir DIR [--speed N] [--autopilot] [--end-when-done]
//!   prepare(DIR)        refuse a real day's data directory; mark DIR as training (MARKER)
//!   the demo venue      demo staff (the trainees sign in with the demo PINs), the
//!                       synthetic roster (roster::roster: clearly fictional names),
//!                       virtual My Number and venue cards on the virtual reader
//!   script::run         residents arrive at a realistic pace (÷ speed) once the first
//!                       trainee signs in (at once with --autopilot): their card on the
//!                       reader, the odd awkward case (wrong PIN, no card, unusual value,
//!                       leaving early) said on the banner; --autopilot plays the staff too
//!   every page          the 「練習モード」 band and title prefix (http::training::mark)
//!   every event         sealed with `training: true`; the box never forwards them
//!                       (forward::start) and central refuses them (BatchRules::training)
//!   the end             SIGTERM, `POST /training/end` or the script's end: the trainer's
//!                       summary (summary::Summary) printed, then DIR shredded and removed
//!
//! switch::Switch          on a real box: the venue admin's 「練習を始める」 runs the above as
//!                         a child process beside the box (same address, the box's
//!                         certificate, `<data_dir>-training`), stops it, and never lets
//!                         it outlive the box
//! ```
//!
//! The rules that keep a rehearsal apart from a real day live here and in the protocol:
//! a training box's data directory holds [`MARKER`], a real box refuses to open one that
//! does ([`check_dir`]) and the training command refuses one that holds a real day's event
//! store; the store seals and accepts training events only in a training box.

pub mod roster;
pub mod script;
pub mod session;
pub mod summary;
pub mod switch;

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

/// The file that marks a data directory as a training compartment.
pub const MARKER: &str = "TRAINING-MODE";

/// Why a training session cannot use a directory, or a real box a training one.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// A real box was pointed at a training data directory.
    #[error(
        "{0} is a training data directory (練習モード): a real box never opens it; end the training session (its data is wiped) or choose another directory"
    )]
    TrainingDir(String),
    /// The training command was pointed at a real day's data directory.
    #[error(
        "{0} holds a real day's event store: training never runs in it (use an empty directory of its own, e.g. data/training)"
    )]
    RealDir(String),
    /// File system.
    #[error("training data directory {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Check that a box in mode `training` may open `data_dir`: a real box refuses a training
/// directory, a training box a directory holding a real event store.
pub fn check_dir(data_dir: &Path, training: bool) -> Result<(), TrainingError> {
    let marked = data_dir.join(MARKER).exists();
    let has_store = data_dir.join("events.sqlite3").exists();
    match (training, marked) {
        (false, true) => Err(TrainingError::TrainingDir(data_dir.display().to_string())),
        (true, false) if has_store => Err(TrainingError::RealDir(data_dir.display().to_string())),
        _ => Ok(()),
    }
}

/// Make `data_dir` a training compartment (refused for a real day's directory).
pub fn prepare(data_dir: &Path) -> Result<(), TrainingError> {
    check_dir(data_dir, true)?;
    let io = |source| TrainingError::Io {
        path: data_dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(io)?;
    std::fs::write(
        data_dir.join(MARKER),
        "練習モードのデータ: 練習の終わりに消去されます / training data: wiped when the session ends\n",
    )
    .map_err(io)?;
    Ok(())
}

/// What was wiped at the end of a session.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wiped {
    /// Files overwritten and removed.
    pub files: u64,
}

/// Wipe a training data directory at the end of its session: every file overwritten and
/// removed, then the directory itself (nothing is left). Refuses a directory without
/// [`MARKER`] (a real day is wiped only by `checkup-edge wipe`, after central has it).
pub fn wipe(data_dir: &Path) -> Result<Wiped, TrainingError> {
    if !data_dir.exists() {
        return Ok(Wiped::default());
    }
    if !data_dir.join(MARKER).exists() {
        return Err(TrainingError::RealDir(data_dir.display().to_string()));
    }
    let io = |source| TrainingError::Io {
        path: data_dir.display().to_string(),
        source,
    };
    let files = crate::wipe::shred_contents(data_dir).map_err(|e| io(std::io::Error::other(e)))?;
    std::fs::remove_dir_all(data_dir).map_err(io)?;
    Ok(Wiped { files })
}

/// A mistake or refused action a trainee made, as the box answered it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Slip {
    /// Milliseconds since the session started.
    pub at_ms: u64,
    /// The staff member (None: before sign-in, e.g. a wrong sign-in PIN).
    pub staff_id: Option<String>,
    /// `METHOD /path`.
    pub action: String,
    /// HTTP status of the refusal.
    pub status: u16,
    /// The error code (`wrong_pin`, `confirmation_required`, …).
    pub code: String,
}

/// A running training session: what the banner says, what trainees got wrong, and how the
/// session ends.
pub struct Session {
    started: Instant,
    /// Time factor of the scripted flow (1 = real pace).
    pub speed: f64,
    /// What the script says is happening now (shown on the banner).
    now: Mutex<String>,
    /// Refused actions and mistakes, in order.
    slips: Mutex<Vec<Slip>>,
    /// Residents the script has sent so far, and in all.
    progress: Mutex<(usize, usize)>,
    /// Cancelled to end the session (the box stops, the summary is printed, the data wiped).
    pub end: CancellationToken,
    /// Cancelled when the first trainee (any staff but the venue admin, who is the
    /// trainer) is signed in: without `--autopilot` residents arrive from then on, so a
    /// fast session never runs ahead of an empty venue.
    pub on_duty: CancellationToken,
    /// The staff on duty (the trainees), for the summary's names.
    pub staff: Vec<crate::config::StaffConfig>,
}

impl Session {
    /// A new session at `speed` with `staff` on duty.
    pub fn new(speed: f64, staff: Vec<crate::config::StaffConfig>) -> Session {
        Session {
            started: Instant::now(),
            speed,
            now: Mutex::new(String::new()),
            slips: Mutex::new(Vec::new()),
            progress: Mutex::new((0, 0)),
            end: CancellationToken::new(),
            on_duty: CancellationToken::new(),
            staff,
        }
    }

    /// Milliseconds since the start.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Say what is happening now (the banner's second line).
    pub fn announce(&self, text: impl Into<String>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = text.into();
    }

    /// What the banner says is happening now.
    pub fn now(&self) -> String {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Record a refused action.
    pub fn slip(&self, staff_id: Option<String>, action: String, status: u16, code: String) {
        let at_ms = self.elapsed_ms();
        self.slips
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Slip {
                at_ms,
                staff_id,
                action,
                status,
                code,
            });
    }

    /// The refused actions so far.
    pub fn slips(&self) -> Vec<Slip> {
        self.slips.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A request came from a signed-in staff member of `role`: a trainee (anyone but the
    /// venue admin) puts the venue on duty.
    pub fn seen(&self, role: checkup_protocol::Role) {
        if role != checkup_protocol::Role::VenueAdmin {
            self.on_duty.cancel();
        }
    }

    /// Set the script's progress.
    pub fn set_progress(&self, sent: usize, total: usize) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = (sent, total);
    }

    /// Residents sent so far and in all.
    pub fn progress(&self) -> (usize, usize) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trainer_signing_in_does_not_start_the_arrivals_a_trainee_does() {
        let s = Session::new(20.0, Vec::new());
        s.seen(checkup_protocol::Role::VenueAdmin);
        assert!(
            !s.on_duty.is_cancelled(),
            "the trainer put the venue on duty"
        );
        s.seen(checkup_protocol::Role::Reception);
        assert!(
            s.on_duty.is_cancelled(),
            "a trainee signed in, nobody arrives"
        );
    }

    #[test]
    fn a_real_box_refuses_a_training_directory_and_training_a_real_one() {
        let dir = tempfile::tempdir().expect("dir");
        let t = dir.path().join("training");
        prepare(&t).expect("prepare");
        assert!(matches!(
            check_dir(&t, false),
            Err(TrainingError::TrainingDir(_))
        ));
        check_dir(&t, true).expect("training may reopen its own");
        let real = dir.path().join("real");
        std::fs::create_dir_all(&real).expect("dir");
        std::fs::write(real.join("events.sqlite3"), b"x").expect("store");
        assert!(matches!(prepare(&real), Err(TrainingError::RealDir(_))));
        assert!(matches!(wipe(&real), Err(TrainingError::RealDir(_))));
        assert!(
            real.join("events.sqlite3").exists(),
            "a real day is never wiped here"
        );
        std::fs::write(t.join("events.sqlite3"), b"rehearsal").expect("file");
        wipe(&t).expect("wipe");
        assert!(!t.exists(), "nothing of the training directory is left");
    }
}
