//! Central's web page for health-department staff: sign in, search a resident, read the
//! record (健康かるて) with each item's history (checkups imported from the municipality a
//! resident moved from marked 「転入前の記録（…から）」), the child-welfare intake queue
//! (welfare roles only) with a case's photos as thumbnails for those who may see them
//! (child-welfare 係長 and above, the case's caseworkers; each shown photo is an audited
//! view), export a period's results as CSV, and the 特定健診 XML archive for
//! an insurer (choose the period and the insurer, check, see every failure, download when
//! it passes); the purpose of a read outside one's duties or across departments; high-risk
//! flags raised by health staff and shown live to child welfare; a resident's access report
//! and the reads a section chief reviews.
//! After sign-in the page shows only the sections the staff member can use (the sign-in
//! answer says which; before it, every section, each refusing with a message); a read that needs a purpose is asked for beside the record, and the
//! purpose is used for that read only. Japanese first, English beside it; served from the
//! binary.

use axum::response::Html;

/// `GET /`
#[utoipa::path(
    get,
    path = "/",
    tag = "pages",
    description = "The staff page (sign-in, search, record, intake queue, export, 特定健診 XML).",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)),
    security(()),
)]
pub(crate) async fn page() -> Html<&'static str> {
    Html(PAGE)
}

const PAGE: &str = r#"<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>健診記録 central — Checkup Edge</title>
<style>
body{font-family:"Noto Sans CJK JP",sans-serif;margin:0;background:#f5f7fa;color:#1b2430}
header{background:#1f4e79;color:#fff;padding:12px 20px;font-size:20px}header h1{font-size:20px;margin:0;font-weight:normal}
main{padding:16px 20px;max-width:1100px}
section{background:#fff;border-radius:10px;padding:16px;margin-bottom:16px;box-shadow:0 1px 3px #0002}
input,button,select{font-size:18px;min-height:48px;padding:6px 12px;margin:4px;border-radius:8px;border:1px solid #8899aa}
button{background:#1f4e79;color:#fff;border:0;min-width:120px}
button:disabled{background:#5d6b7a;color:#fff}
.row{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;margin:6px 0}.row label{font-size:18px}
.ok{color:#1b5e20;font-weight:bold}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:6px;text-align:left}
.err{color:#b00020}.muted{color:#5a6270}
.origin{display:inline-block;background:#fff4d6;color:#5a3b00;border:1px solid #c99a2e;border-radius:6px;padding:2px 8px;font-size:16px;font-weight:normal}
.origin-en{color:#6b4a10}
.ask{background:#fff4d6;border:1px solid #c99a2e;border-radius:8px;padding:8px 12px;color:#5a3b00}
.photos{display:flex;flex-wrap:wrap;gap:12px}.photos figure{margin:0;max-width:200px}
.photos a{display:block;min-height:48px}.photos img{width:200px;height:150px;object-fit:cover;border-radius:8px;border:1px solid #8899aa}
button.secondary{background:#fff;color:#1f4e79;border:1px solid #1f4e79}
[hidden]{display:none!important}
</style></head><body>
<header><h1>健診記録（健康かるて） <span class="muted" style="color:#cde">Central health records</span></h1></header>
<main>
<section id="signin"><h2>サインイン Sign in</h2>
<input id="sid" placeholder="職員ID Staff ID" autocomplete="username">
<input id="pin" type="password" inputmode="numeric" placeholder="PIN" autocomplete="current-password">
<button data-testid="signin" onclick="signIn()">サインイン</button> <span id="who"></span>
<button data-testid="signout" id="signout" class="secondary" onclick="signOut()" hidden>サインアウト Sign out</button></section>
<section id="search" data-can="records"><h2>住民検索 Find a resident</h2>
<input id="q" placeholder="住民番号・氏名・カナ ID, name or kana">
<input id="birth" type="date" aria-label="生年月日 birth date">
<button data-testid="search" onclick="find()">検索 Search</button>
<table id="found"></table></section>
<section id="flags" data-can="raise_flags see_flags"><h2>気がかりフラグ <span class="muted">High-risk flags (health → child welfare)</span></h2>
<p class="muted">保健部門が付け、子ども家庭部門にすぐ届きます。Raised by health staff, shown at once to child welfare.</p>
<div data-can="raise_flags"><div class="row"><label for="fl-resident">住民番号 <span class="muted">Resident</span></label><input id="fl-resident" size="12">
<label for="fl-kind">種類 <span class="muted">Kind</span></label><select id="fl-kind">
<option value="specified_pregnancy">特定妊婦 Specified pregnancy</option><option value="missed_checkups">乳幼児健診未受診 Missed checkups</option>
<option value="other">その他の気がかり Other concern</option></select></div>
<div class="row"><label for="fl-note">所見 <span class="muted">What you saw</span></label><input id="fl-note" size="50">
<button data-testid="flag" onclick="raiseFlag()">フラグを付ける Raise</button></div></div>
<p id="fl-status" role="status" aria-live="polite"></p>
<table id="flag-list" data-testid="flag-list"></table></section>
<section id="record" data-can="records"><h2>健康かるて Record</h2>
<div class="row"><label for="purpose">閲覧の目的 <span class="muted">Purpose</span></label>
<input id="purpose" size="44" placeholder="担当外のときに記入 When outside your duties" aria-describedby="purpose-hint">
<button data-testid="purpose-read" id="purpose-read" onclick="show(recId)" hidden>目的を記入して表示 Read</button></div>
<p id="purpose-hint" class="muted">担当地区・担当ケース外の住民や部署をまたぐ閲覧は、目的を書くと読めます（目的とともに記録されます）。目的はその1回の閲覧だけに使います。<br>Outside your districts and caseload, or across departments, state why; it is recorded with the read. A purpose is used for one read only.</p>
<div id="rec-status" role="status" aria-live="polite"></div>
<div id="rec" class="muted">住民を選んでください Choose a resident</div></section>
<section id="cases" data-can="cases"><h2>児童通告 受付一覧 <span class="muted">Child-welfare intake queue</span></h2>
<p class="muted">児童福祉の担当者だけが見られます Child-welfare staff only</p>
<button data-testid="cases" onclick="cases()">表示 Show</button>
<table id="case-list"></table><div id="case"></div></section>
<section id="export" data-can="exports"><h2>CSV出力 Export</h2>
<input id="from" type="date" aria-label="開始日 from"> 〜 <input id="to" type="date" aria-label="終了日 to">
<button data-testid="export" onclick="exportCsv()">出力 Export</button></section>
<section id="tokutei" data-can="exports"><h2>特定健診データ（XML） <span class="muted">Specific health checkup data (MHLW XML)</span></h2>
<p class="muted">中央管理者のみ Central admin only ― 期間と保険者を選び、チェックしてからダウンロードします。Choose the period and the insurer, check, then download.</p>
<div class="row"><label for="tk-from">開始日 <span class="muted">From</span></label><input id="tk-from" type="date" onchange="tkReset()">
<label for="tk-to">終了日 <span class="muted">To</span></label><input id="tk-to" type="date" onchange="tkReset()">
<button data-testid="tk-insurers" onclick="tkInsurers()">保険者を表示 Find insurers</button></div>
<div class="row"><label for="tk-insurer">保険者 <span class="muted">Insurer</span></label>
<select id="tk-insurer" onchange="tkClear()"><option value="">（期間を選んでください Choose a period）</option></select></div>
<div class="row"><button data-testid="tk-check" onclick="tkCheck()">チェック Check</button>
<button data-testid="tk-download" id="tk-download" onclick="tkDownload()" disabled>ダウンロード Download</button></div>
<p id="tk-status" role="status" aria-live="polite"></p>
<table id="tk-failures"></table></section>
<section id="access" data-can="access_report review_reads"><h2>閲覧記録 <span class="muted">Access records</span></h2>
<div class="row" data-can="access_report"><label for="ar-resident">住民番号 <span class="muted">Resident</span></label><input id="ar-resident" size="12">
<button data-testid="access-report" onclick="accessReport()">閲覧記録（開示請求） Access report</button></div>
<div class="row" data-can="review_reads"><button data-testid="flagged" onclick="flaggedReads()">担当外閲覧の確認 Reads to review</button>
<span class="muted">担当地区・担当ケース外の閲覧と、その目的 Reads outside duty in your department, with their purposes</span></div>
<p id="ac-status" role="status" aria-live="polite"></p>
<table id="access-list"></table></section>
<p id="msg" class="err" role="alert"></p>
</main>
<script>
// Buttons in tables carry their id as data, never inside script text (an id is data from
// the register or a box: a quote in it must stay a character).
document.addEventListener("click",function(ev){var b=ev.target.closest&&ev.target.closest("button[data-open],button[data-case]");
 if(!b){return;}if(b.hasAttribute("data-open")){show(b.getAttribute("data-open"));}else{showCase(b.getAttribute("data-case"));}});
function msg(t){document.getElementById("msg").textContent=t||"";}
function esc(s){return String(s==null?"":s).replace(/[&<>"']/g,function(c){return{"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c];});}
async function call(url,opts){var r=await fetch(url,opts);var b=await r.json().catch(function(){return {};});
 if(!r.ok){var e=new Error((b.message||r.status));e.code=b.error;if(e.code==="sign_in_required"&&url!=="/v1/login"){signedOut("サインインし直してください Signed out: sign in again");}throw e;} return b;}
function purposeParam(){var p=document.getElementById("purpose").value.trim();return p?"?"+new URLSearchParams({purpose:p}):"";}
var can={},recId=null,recPurpose={};
function showSections(c){can=c||{};document.querySelectorAll("[data-can]").forEach(function(el){
 el.hidden=!!c&&!el.getAttribute("data-can").split(" ").some(function(k){return can[k];});});}
async function signIn(){try{var b=await call("/v1/login",{method:"POST",headers:{"content-type":"application/json"},
 body:JSON.stringify({staff_id:document.getElementById("sid").value,pin:document.getElementById("pin").value})});
 document.getElementById("pin").value="";
 var dept=b.role!=="central_admin"&&b.role!=="auditor";
 document.getElementById("who").innerHTML=esc(b.name)+"（"+esc(b.staff_id)+"・"+esc(b.role_ja)+(dept?"・"+esc(b.rank):"")+"） <span class=muted>"+esc(b.role)+"</span>";
 document.getElementById("signout").hidden=false;showSections(b.can);msg();if(can.see_flags){flagWatch();}}
 catch(e){msg("サインインできません Sign-in failed: "+e.message);}}
function signedOut(t){if(flagSource){flagSource.close();flagSource=null;}showSections(null);
 document.getElementById("who").textContent="";document.getElementById("signout").hidden=true;
 ["found","rec","rec-status","flag-list","fl-status","case-list","case","access-list","ac-status"].forEach(function(i){document.getElementById(i).innerHTML="";});
 document.getElementById("purpose").value="";recId=null;recPurpose={};msg(t);}
async function signOut(){try{await fetch("/v1/logout",{method:"POST"});}catch(e){}signedOut();}
async function find(){try{var p=new URLSearchParams({q:document.getElementById("q").value});
 var bd=document.getElementById("birth").value; if(bd){p.set("birth",bd);}
 var b=await call("/v1/residents?"+p);var t=document.getElementById("found");
 if(!b.residents.length){t.innerHTML="<caption>見つかりません No resident found</caption>";msg();return;}
 t.innerHTML="<tr><th scope=col>住民番号</th><th scope=col>氏名</th><th scope=col>カナ</th><th scope=col>生年月日</th><th scope=col>地区</th><th scope=col><span class=muted>開く Open</span></th></tr>"+b.residents.map(function(r){
 return "<tr><td>"+esc(r.resident_id)+"</td><td>"+esc(r.name)+"</td><td>"+esc(r.name_kana)+"</td><td>"+esc(r.birth_date)+"</td><td>"+esc(r.district)+
 "</td><td><button data-open=\""+esc(r.resident_id)+"\" aria-label=\""+esc(r.name)+" の記録を表示 Open\">表示 Open</button></td></tr>";}).join("");msg();}catch(e){msg(e.message);}}
async function show(id){var st=document.getElementById("rec-status"),ask=document.getElementById("purpose-read"),pf=document.getElementById("purpose");
 if(id!==recId){document.getElementById("rec").innerHTML="";}recId=id;st.textContent="読み込み中… Loading…";
 var p=pf.value.trim();
 try{var b=await call("/v1/residents/"+encodeURIComponent(id)+"/record"+purposeParam());
 ask.hidden=true;pf.value="";document.getElementById("fl-resident").value=id;
 if(p){recPurpose[id]=p;st.innerHTML="<span class=ok>目的「"+esc(p)+"」とともに閲覧を記録しました Read recorded with its purpose</span>";}else{st.textContent="";}
 
 var h="<h3>"+esc(b.resident?b.resident.name:id)+" "+esc(id)+"</h3>";
 b.checkups.forEach(function(c){h+="<h4>"+esc(c.date)+(c.origin?" <span class=\"origin\" data-testid=\"origin\">"+esc(c.origin.label_ja)+" <span class=\"origin-en\">"+esc(c.origin.label_en)+"</span></span>":"")+"</h4>"+(c.stratification?"<p data-testid=\"stratification\">階層化 Stratification: メタボ判定 <b>"+esc(c.stratification.metabolic_ja)+"</b> ・ 保健指導レベル <b>"+esc(c.stratification.guidance_ja)+"</b>"+(c.stratification.reasons.length?"<br><span class=muted>"+c.stratification.reasons.map(esc).join("／")+"</span>":"")+"</p>":"")+"<table><tr><th>項目 item</th><th>値 value</th><th>訂正履歴 corrections</th></tr>"+
 c.items.map(function(i){return "<tr><td>"+esc(i.name_ja||i.item_code)+(i.name_en?" <span class=muted>"+esc(i.name_en)+"</span>":"")+"<br><span class=muted>"+esc(i.item_code)+"</span></td><td>"+(i.value_ja?esc(i.value_ja)+" <span class=muted>("+esc(i.value)+")</span>":esc(i.value)+" "+esc(i.unit))+"</td><td>"+
 (i.history.length>1?i.history.map(function(x){return esc(x.value_ja||x.value)+(x.reason?"（"+esc(x.reason)+"）":"");}).join(" → "):"")+"</td></tr>";}).join("")+"</table>";});
 if(!b.checkups.length){h+="<p class=muted>健診の記録はありません No checkup recorded</p>";}
 document.getElementById("rec").innerHTML=h;msg();}catch(e){document.getElementById("rec").innerHTML="";
 if(e.code==="purpose_required"){st.innerHTML="<p class=ask>"+esc(e.message)+"</p>";ask.hidden=false;pf.focus();}
 else{ask.hidden=true;st.innerHTML="<span class=err>"+esc(e.message)+"</span>";msg(e.message);}}}
var ABUSE={physical:"身体的虐待",psychological:"心理的虐待",neglect:"ネグレクト",sexual:"性的虐待"};
async function cases(){try{var b=await call("/v1/notices");var t=document.getElementById("case-list");
 t.innerHTML="<tr><th>受付 saved</th><th>児童氏名 child</th><th>生年月日 born</th><th>種別 type</th><th>会場 venue</th><th><span class=muted>開く Open</span></th></tr>"+b.cases.map(function(c){
 return "<tr><td>"+esc(new Date(c.saved_ms).toLocaleString("ja-JP"))+"</td><td>"+esc(c.child_name)+"</td><td>"+esc(c.child_birth_date)+"</td><td>"+
 esc(ABUSE[c.abuse_type]||c.abuse_type)+"</td><td>"+esc(c.venue)+"</td><td><button data-case=\""+esc(c.case_id)+"\">開く Open</button></td></tr>";}).join("");msg();}
 catch(e){msg(e.message);}}
async function showCase(id){try{var b=await call("/v1/notices/"+encodeURIComponent(id)+purposeParam());var f=b.notice.fields;
 document.getElementById("case").innerHTML="<table>"+Object.keys(f).map(function(k){return "<tr><th>"+esc(k)+"</th><td>"+esc(f[k].value)+
 (f[k].corrected?" <span class=muted>（訂正 corrected）</span>":"")+"</td></tr>";}).join("")+"</table>"+
 "<h3>写真 <span class=muted>Photos</span></h3><div id=\"case-photos\" data-testid=\"case-photos\" class=muted>読み込み中… Loading…</div>";msg();casePhotos(id);}catch(e){msg(e.message);}}
// A case's photos: each thumbnail is the photo itself, so showing it is a view (audited).
async function casePhotos(id){var el=document.getElementById("case-photos");
 try{var b=await call("/v1/notices/"+encodeURIComponent(id)+"/photos");
 if(!b.photos.length){el.textContent="写真はありません No photos";return;}
 el.className="photos";el.innerHTML=b.photos.map(function(p){var when=new Date(p.taken_ms).toLocaleString("ja-JP");
 return "<figure data-testid=\"case-photo\"><a href=\""+esc(p.url)+"\" target=\"_blank\" rel=\"noopener\" aria-label=\"写真を開く Open the photo "+esc(p.note||when)+"\"><img src=\""+esc(p.url)+
 "\" alt=\""+esc(p.note||"ケースの写真 case photo")+"\" loading=\"lazy\"></a><figcaption>"+esc(p.note||"")+"<br><span class=muted>"+esc(when)+"・"+esc(p.taken_by)+
 "・"+esc(p.width)+"×"+esc(p.height)+"・"+esc(Math.max(1,Math.round(p.bytes/1024)))+" KB</span></figcaption></figure>";}).join("");}
 catch(e){el.className="muted";el.textContent=(e.code==="not_on_case"||e.code==="forbidden")?
 "写真は担当ケースワーカーと子ども家庭の係長以上が見られます Photos: the case's caseworkers and child-welfare 係長+ only":e.message;}}
var FLAG_KIND={specified_pregnancy:"特定妊婦",missed_checkups:"乳幼児健診未受診",other:"その他の気がかり"};
var flagSeen={},flagSource=null;
function flagRow(f){if(flagSeen[f.flag_id]){return;}flagSeen[f.flag_id]=1;var t=document.getElementById("flag-list");
 if(!t.rows.length){t.innerHTML="<tr><th scope=col>日時 when</th><th scope=col>住民 resident</th><th scope=col>種類 kind</th><th scope=col>所見 note</th><th scope=col>記入 by</th></tr>";}
 var r=t.insertRow(1);r.setAttribute("data-testid","flag-row");r.innerHTML="<td>"+esc(new Date(f.raised_ms).toLocaleString("ja-JP"))+"</td><td>"+esc(f.resident_id)+"</td><td>"+
 esc(FLAG_KIND[f.kind]||f.kind)+"</td><td>"+esc(f.note)+"</td><td>"+esc(f.raised_by)+"</td>";}
async function flagWatch(){if(flagSource){flagSource.close();flagSource=null;}flagSeen={};document.getElementById("flag-list").innerHTML="";
 var st=document.getElementById("fl-status");try{var b=await call("/v1/flags");b.flags.forEach(flagRow);
 var after=b.flags.reduce(function(m,f){return Math.max(m,f.raised_ms);},0);
 flagSource=new EventSource("/v1/flags/stream?"+new URLSearchParams({after:String(after)}));
 flagSource.addEventListener("flag",function(ev){try{flagRow(JSON.parse(ev.data));}catch(x){}});
 flagSource.addEventListener("signed_out",function(){signedOut("サインインし直してください Signed out: sign in again");});
 flagSource.onerror=function(){if(flagSource&&flagSource.readyState===2){st.innerHTML="<span class=err>フラグの自動表示が止まりました。再読み込みしてください Live flags stopped: reload the page</span>";}};
 st.innerHTML="<span class=ok>新しいフラグはすぐここに表示されます New flags appear here at once</span>";}
 catch(e){st.innerHTML="<span class=muted>"+esc(e.code==="forbidden"?"フラグ一覧は子ども家庭部門と係長以上が見られます Flags are shown to child welfare and 係長+":e.message)+"</span>";}}
async function raiseFlag(){var id=document.getElementById("fl-resident").value.trim(),st=document.getElementById("fl-status");
 var body={kind:document.getElementById("fl-kind").value,note:document.getElementById("fl-note").value};
 var p=document.getElementById("purpose").value.trim()||recPurpose[id];if(p){body.purpose=p;}
 try{await call("/v1/residents/"+encodeURIComponent(id)+"/flags",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify(body)});
 st.innerHTML="<span class=ok>フラグを付けました。子ども家庭部門に届きました Flag raised and shared</span>";msg();}
 catch(e){st.innerHTML="<span class=err>"+esc(e.message)+"</span>";if(e.code==="purpose_required"){document.getElementById("purpose").focus();}}}
function accessRows(b){var t=document.getElementById("access-list");
 t.innerHTML="<tr><th scope=col>日時 when</th><th scope=col>職員 staff</th><th scope=col>操作 action</th><th scope=col>対象 subject</th><th scope=col>目的 purpose</th></tr>"+b.entries.map(function(e){
 return "<tr><td>"+esc(new Date(e.at_ms).toLocaleString("ja-JP"))+"</td><td>"+esc(e.staff_name||"")+" "+esc(e.staff_id)+"</td><td>"+esc(ACTION[e.action]||e.action)+
 (e.flagged_for?" <span class=origin>担当外 outside duty</span>":"")+"</td><td>"+esc(e.subject)+"</td><td>"+esc(e.purpose||"")+"</td></tr>";}).join("");}
var ACTION={list_case_photos:"ケース写真の一覧 listed a case's photos",view_case_photo:"ケース写真の閲覧 viewed a case photo",refused_read:"閲覧の拒否 refused",view_record:"記録の閲覧 read the record",raise_flag:"フラグ raised a flag",case_member:"ケースに追加 named on a case",view_notice:"児童通告の閲覧 read a case"};
async function accessReport(){var id=document.getElementById("ar-resident").value.trim(),st=document.getElementById("ac-status");if(!id){msg("住民番号を入れてください Enter a resident");return;}
 try{var b=await call("/v1/residents/"+encodeURIComponent(id)+"/access-report");accessRows(b);
 st.textContent="住民 "+id+" の閲覧記録: "+b.entries.length+" 件 Access report of "+id+": "+b.entries.length+" entries";msg();}catch(e){msg(e.message);}}
async function flaggedReads(){var st=document.getElementById("ac-status");try{var b=await call("/v1/access/flagged");accessRows(b);
 st.textContent="確認が必要な担当外閲覧: "+b.entries.length+" 件 Reads outside duty to review: "+b.entries.length;msg();}catch(e){msg(e.message);}}
function exportCsv(){var f=document.getElementById("from").value,t=document.getElementById("to").value;
 if(!f||!t){msg("期間を入れてください Enter a period");return;} location.href="/v1/export.csv?"+new URLSearchParams({from:f,to:t});}
function tkPeriod(){return {from:document.getElementById("tk-from").value,to:document.getElementById("tk-to").value};}
function tkClear(){document.getElementById("tk-download").disabled=true;document.getElementById("tk-failures").innerHTML="";
 document.getElementById("tk-status").textContent="";}
function tkReset(){tkClear();document.getElementById("tk-insurer").innerHTML="<option value=\"\">（保険者を表示してください Find insurers）</option>";}
async function tkInsurers(){tkReset();var p=tkPeriod();if(!p.from||!p.to){msg("期間を入れてください Enter a period");return;}
 try{var b=await call("/v1/tokutei/insurers?"+new URLSearchParams(p));var sel=document.getElementById("tk-insurer");
 if(!b.insurers.length){sel.innerHTML="<option value=\"\">（この期間の健診はありません No checkups in the period）</option>";}
 else{sel.innerHTML=b.insurers.map(function(i){return "<option value=\""+esc(i.insurer_number)+"\">"+esc(i.insurer_number)+"（"+i.checkups+" 名 checkups）</option>";}).join("");}
 msg();}catch(e){msg("保険者を取得できません Cannot list insurers: "+e.message);}}
function tkRequest(){var p=tkPeriod();p.insurer=document.getElementById("tk-insurer").value;return p;}
function tkShow(b){var st=document.getElementById("tk-status"),t=document.getElementById("tk-failures");
 if(b.ok){st.innerHTML="<span class=ok>問題ありません（"+b.examinees+" 名） OK: "+b.examinees+" examinee(s), no failure</span>";t.innerHTML="";}
 else{st.innerHTML="<span class=err>"+b.failures.length+" 件の不備があります（"+b.examinees+" 名中）。直してからダウンロードしてください。"+
 b.failures.length+" failure(s) in "+b.examinees+" examinee(s): fix them before downloading.</span>";
 t.innerHTML="<caption>不備の一覧 Failures</caption><tr><th scope=col>住民 resident</th><th scope=col>項目 item</th><th scope=col>内容 problem</th></tr>"+b.failures.map(function(f){
 return "<tr><td>"+esc(f.resident_id)+(f.resident_name?"<br>"+esc(f.resident_name):"")+"</td><td>"+esc(f.item_name_ja)+
 (f.item_code?"<br><span class=muted>"+esc(f.item_code)+"</span>":"")+"</td><td>"+esc(f.message_ja)+"</td></tr>";}).join("");}
 document.getElementById("tk-download").disabled=!b.ok;}
async function tkCheck(){tkClear();var r=tkRequest();if(!r.from||!r.to||!r.insurer){msg("期間と保険者を選んでください Choose a period and an insurer");return;}
 document.getElementById("tk-status").textContent="チェック中… Checking…";
 try{var b=await call("/v1/tokutei/check",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify(r)});
 tkShow(b);msg();}catch(e){var t="チェックできません Cannot check: "+e.message;msg(t);
 document.getElementById("tk-status").innerHTML="<span class=err>"+esc(t)+"</span>";}}
async function tkDownload(){var r=tkRequest();try{var resp=await fetch("/v1/tokutei/archive?"+new URLSearchParams(r));
 if(resp.status===422){tkShow(await resp.json());return;}
 if(!resp.ok){var e=await resp.json().catch(function(){return {};});throw new Error(e.message||resp.status);}
 var cd=resp.headers.get("content-disposition")||"",m=/filename="([^"]+)"/.exec(cd),name=m?m[1]:"tokutei.zip";
 var url=URL.createObjectURL(await resp.blob()),a=document.createElement("a");a.href=url;a.download=name;
 document.body.appendChild(a);a.click();a.remove();setTimeout(function(){URL.revokeObjectURL(url);},60000);
 document.getElementById("tk-status").innerHTML="<span class=ok>"+esc(name)+" をダウンロードしました Downloaded</span>";msg();}
 catch(e){var t="ダウンロードできません。もう一度押してください Cannot download, press again: "+e.message;msg(t);
 document.getElementById("tk-status").innerHTML="<span class=err>"+esc(t)+"</span>";}}
</script></body></html>"#;
