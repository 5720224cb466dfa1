//! The resident's own questionnaire page, reached through the one-time link on the 受診券:
//! no account, no staff cookie, nothing of the staff side linked.
//!
//! | route | what |
//! |---|---|
//! | `GET /q/{token}?lang=` | the page: the 22 questions in the chosen language (Japanese first; a chooser of the eight languages, each named in itself), review, send. A used link shows `link_used`; an unknown or revoked one `link_invalid` (the same text either way: no hint whether a token existed) |
//! | `POST /api/q/{token}/answers` | `{"lang", "answers": [{"item_code", "code"}]}`: the first complete submission is stored and the link marked used; later ones 410 `link_used`; unknown or revoked links 404 `link_invalid`; bad codes 400, nothing stored |
//!
//! The page is rendered here from [`checkup_protocol::questionnaire::view`] (the same texts
//! as `GET /api/questionnaire`), so it shows its questions before any script runs; its
//! script only checks, reviews and sends. It sends `Referrer-Policy: no-referrer` and
//! `Cache-Control: no-store` (the token is in the address) and a content security policy
//! allowing nothing but itself. A token opens this page and its one POST, nothing else:
//! central's staff routes know only the `cc_session` cookie of a signed-in staff member.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use checkup_protocol::central::{AnswerCode, ErrorAnswer, PreAnswer};
use checkup_protocol::questionnaire::{self, Lang, QuestionnaireView};
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::extract::{Body, Path, Query};
use super::invitations::{bad, is_token, token_digest};
use crate::db::Submission;
use crate::server::AppState;

/// The page's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// `ja` (default), `ja-easy`, `en`, `zh-Hans`, `ko`, `vi`, `pt-BR` or `tl`; any other
    /// value shows Japanese.
    lang: Option<String>,
}

/// What the link allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    Open,
    Used,
    Invalid,
}

async fn link_state(s: &AppState, token: &str) -> Result<LinkState, ApiError> {
    if !is_token(token) {
        return Ok(LinkState::Invalid);
    }
    Ok(match s.owner.invitation(&token_digest(token)).await? {
        Some(i) if i.revoked_ms.is_some() => LinkState::Invalid,
        Some(i) if i.used_ms.is_some() => LinkState::Used,
        Some(_) => LinkState::Open,
        None => LinkState::Invalid,
    })
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|a| a.contains("text/html") || !a.contains("json"))
}

fn link_used(lang: Lang) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "link_used",
        questionnaire::texts(lang).ui("link_used").to_owned(),
    )
}

fn link_invalid(lang: Lang) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "link_invalid",
        questionnaire::texts(lang).ui("link_invalid").to_owned(),
    )
}

/// `GET /q/{token}?lang=`
#[utoipa::path(
    get,
    path = "/q/{token}",
    operation_id = "resident_page",
    tag = "resident",
    description = "The resident's questionnaire page of a one-time link (no sign-in): the 22 \
                   questions in the chosen language, review and send. A used link answers \
                   410 with the `link_used` text; an unknown or revoked one 404 with the \
                   `link_invalid` text (the same either way). HTML for browsers, the JSON \
                   error for clients asking for JSON.",
    params(
        ("token" = String, Path, description = "The link's token (64 hex digits)"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "`malformed_path`, `malformed_query`", body = ErrorAnswer),
        (status = 404, description = "`link_invalid`: no such link, or revoked", content(
            (ErrorAnswer = "application/json"),
            (String = "text/html"),
        )),
        (status = 410, description = "`link_used`: answered already", content(
            (ErrorAnswer = "application/json"),
            (String = "text/html"),
        )),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(()),
)]
pub(crate) async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let lang = q
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or(Lang::Ja);
    let state = link_state(&s, &token).await?;
    let (status, err) = match state {
        LinkState::Open => (StatusCode::OK, None),
        LinkState::Used => (StatusCode::GONE, Some(link_used(lang))),
        LinkState::Invalid => (StatusCode::NOT_FOUND, Some(link_invalid(lang))),
    };
    if let Some(e) = err
        && !wants_html(&headers)
    {
        return Err(e);
    }
    let html = render(&questionnaire::view(lang), &token, state);
    let mut resp = (status, axum::response::Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'",
        ),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(resp)
}

/// Body of `POST /api/q/{token}/answers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswersRequest {
    /// The language the resident read the questions in.
    lang: String,
    /// The answers: every required item, the others as the resident chose.
    answers: Vec<AnswerCode>,
}

/// Answers taken.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AnswersStored {
    /// Always true.
    stored: bool,
    /// Items answered.
    answered: usize,
}

/// Check a submission against the questionnaire: every item known and answered once with
/// one of its codes, every required item answered.
pub(crate) fn check_answers(answers: &[AnswerCode]) -> Result<Vec<AnswerCode>, ApiError> {
    let mut seen = std::collections::HashSet::new();
    for a in answers {
        let Some(q) = questionnaire::question(&a.item_code) else {
            return Err(bad(
                "unknown_item",
                format!(
                    "{:?} is not an item of the questionnaire",
                    a.item_code.chars().take(32).collect::<String>()
                ),
            ));
        };
        if !seen.insert(q.code) {
            return Err(bad(
                "duplicate_item",
                format!("item {} is answered twice", q.code),
            ));
        }
        if !q.answers.codes().contains(&a.code.as_str()) {
            return Err(bad(
                "unknown_answer",
                format!(
                    "{:?} is not an answer of item {} (question {})",
                    a.code.chars().take(16).collect::<String>(),
                    q.code,
                    q.number
                ),
            ));
        }
    }
    let missing: Vec<u8> = questionnaire::QUESTIONS
        .iter()
        .filter(|q| q.required && !seen.contains(q.code))
        .map(|q| q.number)
        .collect();
    if !missing.is_empty() {
        return Err(bad(
            "incomplete",
            format!("required questions not answered: {missing:?}"),
        ));
    }
    // Stored in the questionnaire's order.
    let mut out: Vec<AnswerCode> = answers.to_vec();
    out.sort_by_key(|a| questionnaire::question(&a.item_code).map_or(0, |q| q.number));
    Ok(out)
}

/// `POST /api/q/{token}/answers`
#[utoipa::path(
    post,
    path = "/api/q/{token}/answers",
    operation_id = "resident_answers",
    tag = "resident",
    description = "The resident sends their answers through a one-time link (no sign-in). \
                   The first complete submission is stored and uses the link up; the same \
                   answers sent again (a retry after a lost response) answer 200 and change \
                   nothing; other answers later are refused with 410 `link_used`. Every required question must be answered, \
                   each answer with a code of its item; otherwise 400 and nothing is stored.",
    params(("token" = String, Path, description = "The link's token (64 hex digits)")),
    request_body(content = AnswersRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored", body = AnswersStored),
        (status = 400, description = "`malformed_request`, `malformed_path`, `unknown_language`, `unknown_item`, `duplicate_item`, `unknown_answer`, `incomplete`", body = ErrorAnswer),
        (status = 404, description = "`link_invalid`: no such link, or revoked", body = ErrorAnswer),
        (status = 410, description = "`link_used`: answered already", body = ErrorAnswer),
        (status = 413, description = "`body_too_large`", body = ErrorAnswer),
        (status = 503, description = "`storage_unavailable`", body = ErrorAnswer),
    ),
    security(()),
)]
pub(crate) async fn answers(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let req: AnswersRequest =
        serde_json::from_slice(&body).map_err(|e| bad("malformed_request", e.to_string()))?;
    let lang = super::questionnaire::parse_lang(Some(&req.lang))?;
    // Bad answers are refused before the link is looked at: nothing is stored or used up.
    let answers = check_answers(&req.answers)?;
    if !is_token(&token) {
        return Err(link_invalid(lang));
    }
    let answered_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let n = answers.len();
    let pre = PreAnswer {
        // Filled from the link by the store.
        resident_id: String::new(),
        checkup: String::new(),
        lang,
        answered_ms,
        answers,
    };
    match s.owner.submit_answers(&token_digest(&token), pre).await? {
        Submission::Stored => {
            tracing::info!(answered = n, lang = %lang, "questionnaire answered through a link");
            Ok(Json(AnswersStored {
                stored: true,
                answered: n,
            })
            .into_response())
        }
        // A resend of the same answers (the first response was lost on the way back): the
        // resident is told they are stored, as they are; nothing changes.
        Submission::AlreadyStored => {
            tracing::info!(answered = n, lang = %lang, "questionnaire answers sent again through a used link");
            Ok(Json(AnswersStored {
                stored: true,
                answered: n,
            })
            .into_response())
        }
        Submission::Used => Err(link_used(lang)),
        Submission::Invalid => Err(link_invalid(lang)),
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page: for an open link the form, otherwise the link's message alone.
fn render(v: &QuestionnaireView, token: &str, state: LinkState) -> String {
    let ui = |k: &str| esc(v.ui.get(k).map_or("", String::as_str));
    let mut h = String::with_capacity(64 * 1024);
    h.push_str(&format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(&v.html_lang),
        ui("title")
    ));
    h.push_str(&format!("<header><h1>{}</h1></header><main>", ui("title")));
    // The chooser: each language named in itself, as links keeping the token.
    h.push_str(&format!(
        "<nav aria-labelledby=\"langs-h\"><h2 id=\"langs-h\">{}</h2><ul class=\"langs\">",
        ui("choose_language")
    ));
    for l in &v.languages {
        let html_lang = Lang::from_tag(&l.tag).map_or("ja", Lang::html_lang);
        let current = if l.tag == v.lang {
            " aria-current=\"page\""
        } else {
            ""
        };
        h.push_str(&format!(
            "<li><a href=\"?lang={}\" lang=\"{}\" hreflang=\"{}\"{current}>{}</a></li>",
            esc(&l.tag),
            html_lang,
            html_lang,
            esc(&l.name)
        ));
    }
    h.push_str("</ul></nav>");
    match state {
        LinkState::Used => h.push_str(&format!(
            "<p class=\"notice\" role=\"status\" data-testid=\"link-state\" data-state=\"used\">{}</p>",
            ui("link_used")
        )),
        LinkState::Invalid => h.push_str(&format!(
            "<p class=\"notice\" role=\"status\" data-testid=\"link-state\" data-state=\"invalid\">{}</p>",
            ui("link_invalid")
        )),
        LinkState::Open => render_form(&mut h, v, token, &ui),
    }
    h.push_str("</main></body></html>");
    h
}

fn render_form(h: &mut String, v: &QuestionnaireView, token: &str, ui: &dyn Fn(&str) -> String) {
    h.push_str(&format!(
        "<p class=\"intro\">{}</p><form id=\"qform\" novalidate data-token=\"{}\" data-lang=\"{}\">",
        ui("intro"),
        esc(token),
        esc(&v.lang)
    ));
    let total = v.items.len();
    for q in &v.items {
        let of = ui("question_of")
            .replace("{n}", &q.number.to_string())
            .replace("{total}", &total.to_string());
        let req = if q.required {
            format!(
                " <span class=\"req\" data-required=\"1\">{}</span>",
                ui("required")
            )
        } else {
            String::new()
        };
        h.push_str(&format!(
            "<fieldset class=\"q\" id=\"q{n}\" data-item=\"{code}\" data-required=\"{r}\">\
             <legend><span class=\"num\">{of}</span>{req}<span class=\"text\">{text}</span></legend>",
            n = q.number,
            code = esc(&q.code),
            r = q.required,
            text = esc(&q.question),
        ));
        for a in &q.answers {
            h.push_str(&format!(
                "<label class=\"ans\"><input type=\"radio\" name=\"i{code}\" value=\"{val}\" data-text=\"{t}\"{req}> <span>{t}</span></label>",
                req = if q.required { " required" } else { "" },
                code = esc(&q.code),
                val = esc(&a.code),
                t = esc(&a.text),
            ));
        }
        h.push_str("</fieldset>");
    }
    h.push_str(&format!(
        "<button type=\"button\" id=\"review-btn\" class=\"primary\">{}</button>\
         <section id=\"review\" hidden aria-labelledby=\"review-h\"><h2 id=\"review-h\" tabindex=\"-1\">{}</h2>\
         <p id=\"unanswered\" class=\"warn\" hidden>{}</p><ol id=\"summary\"></ol>\
         <button type=\"button\" id=\"back-btn\">{}</button> \
         <button type=\"button\" id=\"send-btn\" class=\"primary\">{}</button></section></form>\
         <p id=\"result\" role=\"status\" aria-live=\"polite\"></p>",
        ui("review"),
        ui("review"),
        ui("unanswered"),
        ui("back"),
        ui("submit"),
    ));
    let texts = serde_json::json!({
        "thanks": v.ui.get("thanks"),
        "link_used": v.ui.get("link_used"),
        "link_invalid": v.ui.get("link_invalid"),
        "send_failed": v.ui.get("send_failed"),
        "unanswered": v.ui.get("unanswered"),
    });
    // `</` cannot occur in the JSON of these texts' escaped form inside a script.
    let texts = texts.to_string().replace("</", "<\\/");
    h.push_str(&format!("<script>var T={texts};{SCRIPT}</script>"));
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font-family:\"Noto Sans CJK JP\",\"Noto Sans\",sans-serif;font-size:18px;line-height:1.6;background:#f5f7fa;color:#1b2430}\
header{background:#1f4e79;color:#fff;padding:12px 16px}\
h1{font-size:22px;margin:0}h2{font-size:19px;margin:8px 0}\
main{padding:12px 16px;max-width:720px;margin:0 auto}\
.langs{list-style:none;padding:0;margin:0 0 12px;display:flex;flex-wrap:wrap;gap:8px}\
.langs a{display:inline-flex;align-items:center;min-height:48px;min-width:48px;padding:6px 14px;border:2px solid #1f4e79;border-radius:24px;color:#1f4e79;background:#fff;text-decoration:none}\
.langs a[aria-current]{background:#1f4e79;color:#fff}\
fieldset.q{background:#fff;border:1px solid #c9d3de;border-radius:10px;margin:0 0 14px;padding:12px}\
legend{padding:0 4px;font-weight:bold}legend .num{display:block;color:#4a5868;font-weight:normal;font-size:16px}\
legend .text{display:block}\
.req{display:inline-block;background:#9b1c1c;color:#fff;border-radius:6px;padding:0 8px;font-size:15px;margin-left:6px}\
.ans{display:flex;align-items:center;gap:10px;min-height:52px;padding:8px 10px;margin:6px 0;border:1px solid #c9d3de;border-radius:8px;background:#fafcff}\
.ans input{width:28px;height:28px;flex:none;margin:0}\
.missing{border:3px solid #9b1c1c}\
button{font-size:19px;min-height:52px;padding:8px 20px;border-radius:10px;border:2px solid #1f4e79;background:#fff;color:#1f4e79;margin:8px 0}\
button.primary{background:#1f4e79;color:#fff;width:100%}\
.warn{color:#9b1c1c;font-weight:bold}\
.notice{background:#fff;border-left:6px solid #1f4e79;padding:12px}\
#summary li{margin:6px 0}";

const SCRIPT: &str = r#"
(function(){
var f=document.getElementById("qform");
var sets=Array.prototype.slice.call(f.querySelectorAll("fieldset.q"));
var rv=document.getElementById("review"),res=document.getElementById("result");
function chosen(fs){var c=fs.querySelector("input:checked");return c?c:null;}
function collect(){return sets.filter(chosen).map(function(fs){return{item_code:fs.getAttribute("data-item"),code:chosen(fs).value};});}
function missingRequired(){return sets.filter(function(fs){return fs.getAttribute("data-required")==="true"&&!chosen(fs);});}
document.getElementById("review-btn").addEventListener("click",function(){
 var s=document.getElementById("summary");s.textContent="";
 sets.forEach(function(fs){fs.classList.remove("missing");var li=document.createElement("li");
  var c=chosen(fs);li.textContent=fs.querySelector("legend .text").textContent+" — "+(c?c.getAttribute("data-text"):"—");
  if(!c){li.className="warn";}s.appendChild(li);});
 var miss=missingRequired();miss.forEach(function(fs){fs.classList.add("missing");});
 var un=document.getElementById("unanswered");un.hidden=sets.every(chosen);
 document.getElementById("send-btn").disabled=miss.length>0;
 rv.hidden=false;document.getElementById("review-h").focus();});
document.getElementById("back-btn").addEventListener("click",function(){rv.hidden=true;sets[0].scrollIntoView();});
document.getElementById("send-btn").addEventListener("click",async function(){
 var b=this;b.disabled=true;res.textContent="";
 try{var r=await fetch("/api/q/"+encodeURIComponent(f.getAttribute("data-token"))+"/answers",{method:"POST",
  headers:{"content-type":"application/json"},credentials:"omit",
  body:JSON.stringify({lang:f.getAttribute("data-lang"),answers:collect()})});
  if(r.ok){f.hidden=true;res.textContent=T.thanks;res.setAttribute("data-state","thanks");return;}
  if(r.status===410){f.hidden=true;res.textContent=T.link_used;res.setAttribute("data-state","used");return;}
  if(r.status===404){f.hidden=true;res.textContent=T.link_invalid;res.setAttribute("data-state","invalid");return;}
  res.textContent=T.send_failed;res.setAttribute("data-state","failed");}
 catch(e){res.textContent=T.send_failed;res.setAttribute("data-state","failed");}
 b.disabled=false;});
})();
"#;
