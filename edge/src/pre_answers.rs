//! The residents' phone answers (pre-answers) from central to this box, before the day.
//!
//! ```text
//! roster ids ──POST /v1/questionnaire/answers/lookup (box secret, mutual TLS)──► central
//!    ▲                                                                            │
//!    └──────────── roster.sqlite3 `pre_answers` (encrypted with the roster) ◄─────┘
//! ```
//!
//! The box asks for the residents of its own roster only, in requests of at most
//! [`MAX_LOOKUP`] ids, for one checkup (the fiscal year, `[central] checkup`, default today's
//! in Japan); central answers with the answers of those who gave them, codes and language
//! only. Fetches run every `[central] pre_answers_every_secs`, after each roster import, and
//! when the venue admin asks (`POST /api/roster/pre-answers/fetch`). A box without a link
//! to central takes the same answers as central's file (`POST /api/roster/pre-answers`).
//! At check-in they become the session's answers ([`crate::venue::Core::record_pre_answers`]).

use std::sync::Arc;
use std::time::Duration;

use checkup_protocol::central::{AnswersLookup, ErrorAnswer, MAX_LOOKUP, PreAnswers};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::CentralConfig;
use crate::roster::Roster;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No central configured.
    #[error("no central is configured")]
    NotConfigured,
    /// Central could not be reached or answered garbage.
    #[error("central: {0}")]
    Central(String),
    /// Central refused.
    #[error("central refused ({status}): {error}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Its error code.
        error: String,
        /// Its message.
        message: String,
    },
    /// The roster failed.
    #[error("roster: {0}")]
    Roster(#[from] rusqlite::Error),
}

/// What a fetch or an import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Fetched {
    /// The checkup asked for.
    pub checkup: String,
    /// Residents of the roster asked about.
    pub asked: usize,
    /// Residents with answers in central's answer.
    pub received: usize,
    /// Answers new or newer than those held.
    pub stored: usize,
}

/// Fetches pre-answers for this box: central's address, the box's secret and HTTP client.
pub struct Fetcher {
    endpoint: Option<String>,
    secret: String,
    checkup: Option<String>,
    every: Duration,
    client: Option<reqwest::Client>,
    roster: Arc<Roster>,
    /// One fetch at a time.
    running: tokio::sync::Mutex<()>,
}

/// Whether a pre-answer fits the questionnaire: known items, each once, with one of its
/// codes, the checkup a fiscal year. Check-in would refuse it otherwise.
pub fn check(a: &checkup_protocol::central::PreAnswer) -> Result<(), String> {
    if !checkup_protocol::central::is_checkup(&a.checkup) {
        return Err(format!("checkup {:?} is not a fiscal year", a.checkup));
    }
    let mut seen = std::collections::HashSet::new();
    for x in &a.answers {
        let q = checkup_protocol::questionnaire::question(&x.item_code)
            .ok_or_else(|| format!("{:?} is not a questionnaire item", x.item_code))?;
        if !seen.insert(q.code) {
            return Err(format!("item {} is answered twice", q.code));
        }
        if !q.answers.codes().contains(&x.code.as_str()) {
            return Err(format!("{:?} is not an answer of item {}", x.code, q.code));
        }
    }
    Ok(())
}

/// The fiscal year (April to March) of a Unix time, in Japan: the checkup's name.
pub fn fiscal_year(unix_secs: i64) -> String {
    let days = (unix_secs + 9 * 3600).div_euclid(86_400);
    let date = time::Date::from_julian_day(2_440_588 + days as i32)
        .unwrap_or(time::macros::date!(2026 - 04 - 01));
    let year = if u8::from(date.month()) >= 4 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{year:04}")
}

impl Fetcher {
    /// A fetcher over `config`'s central (none when it names none).
    pub fn new(
        config: &CentralConfig,
        tls: Option<Arc<rustls::ClientConfig>>,
        roster: Arc<Roster>,
    ) -> Fetcher {
        let endpoint = config.first_url().map(|u| {
            format!(
                "{}/v1/questionnaire/answers/lookup",
                u.trim_end_matches('/')
            )
        });
        let client = endpoint.as_ref().and_then(|_| {
            crate::forward::central_client(tls, Duration::from_secs(30))
                .map_err(|e| tracing::warn!(error = %e, "no HTTP client for pre-answers"))
                .ok()
        });
        Fetcher {
            endpoint,
            secret: config.secret.clone().unwrap_or_default(),
            checkup: config.checkup.clone(),
            every: Duration::from_secs(config.pre_answers_every_secs),
            client,
            roster,
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// The checkup whose answers are fetched.
    pub fn checkup(&self) -> String {
        self.checkup.clone().unwrap_or_else(|| {
            fiscal_year(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
            )
        })
    }

    /// Fetch the answers of every resident of the roster now.
    pub async fn fetch(&self) -> Result<Fetched, FetchError> {
        let (Some(endpoint), Some(client)) = (&self.endpoint, &self.client) else {
            return Err(FetchError::NotConfigured);
        };
        let _one = self.running.lock().await;
        let checkup = self.checkup();
        let roster = self.roster.clone();
        let ids = tokio::task::spawn_blocking(move || roster.ids())
            .await
            .map_err(|e| FetchError::Central(e.to_string()))??;
        let mut out = Fetched {
            checkup: checkup.clone(),
            asked: ids.len(),
            ..Fetched::default()
        };
        for chunk in ids.chunks(MAX_LOOKUP) {
            let resp = client
                .post(endpoint)
                .bearer_auth(&self.secret)
                .json(&AnswersLookup {
                    checkup: checkup.clone(),
                    resident_ids: chunk.to_vec(),
                })
                .send()
                .await
                .map_err(|e| FetchError::Central(e.to_string()))?;
            let status = resp.status();
            if !status.is_success() {
                let e: ErrorAnswer = resp.json().await.unwrap_or(ErrorAnswer {
                    error: "unknown".into(),
                    message: String::new(),
                });
                return Err(FetchError::Refused {
                    status: status.as_u16(),
                    error: e.error,
                    message: e.message,
                });
            }
            let got: PreAnswers = resp
                .json()
                .await
                .map_err(|e| FetchError::Central(format!("answer: {e}")))?;
            // Only residents asked about, of the checkup asked for.
            let asked: std::collections::HashSet<&String> = chunk.iter().collect();
            let keep: Vec<_> = got
                .answers
                .into_iter()
                .filter(|a| a.checkup == checkup && asked.contains(&a.resident_id))
                .filter(|a| match check(a) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(resident = %a.resident_id, error = %e, "pre-answer refused");
                        false
                    }
                })
                .collect();
            out.received += keep.len();
            let roster = self.roster.clone();
            out.stored += tokio::task::spawn_blocking(move || roster.store_pre_answers(&keep))
                .await
                .map_err(|e| FetchError::Central(e.to_string()))??;
        }
        tracing::info!(
            checkup = %out.checkup,
            asked = out.asked,
            received = out.received,
            stored = out.stored,
            "pre-answers fetched"
        );
        Ok(out)
    }

    /// Fetch in the background (after a roster import), logging the outcome.
    pub fn fetch_soon(self: &Arc<Self>) {
        if self.endpoint.is_none() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.fetch().await {
                tracing::warn!(error = %e, "pre-answers not fetched");
            }
        });
    }

    /// Fetch every `pre_answers_every_secs` until `stop` (nothing without a central or with
    /// 0 seconds).
    pub fn start(self: &Arc<Self>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            if me.endpoint.is_none() || me.every.is_zero() {
                return;
            }
            loop {
                if let Err(e) = me.fetch().await {
                    tracing::warn!(error = %e, "pre-answers not fetched");
                }
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(me.every) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkup_is_the_japanese_fiscal_year() {
        // 2027-03-31T14:59:59Z is 23:59:59 on 31 March in Japan: still fiscal 2026.
        assert_eq!(fiscal_year(1_806_505_199), "2026");
        // One second later it is 1 April in Japan.
        assert_eq!(fiscal_year(1_806_505_200), "2027");
        assert_eq!(fiscal_year(1_775_000_000), "2026");
    }
}
