//! Central's web page for health-department staff: sign in, search a resident, read the
//! record (健康かるて) with each item's history (checkups imported from the municipality a
//! resident moved from marked 「転入前の記録（…から）」), the child-welfare intake queue
//! (welfare roles only), export a period's results as CSV, and the 特定健診 XML archive for
//! an insurer (choose the period and the insurer, check, see every failure, download when
//! it passes); the purpose of a read outside one's duties or across departments; high-risk
//! flags raised by health staff and shown live to child welfare; a resident's access report
//! and the reads a section chief reviews.
//! Japanese first, English beside it; served from the binary.

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
</style></head><body>
<header><h1>健診記録（健康かるて） <span class="muted" style="color:#cde">Central health records</span></h1></header>
<main>
<section id="signin"><h2>サインイン Sign in</h2>
<input id="sid" placeholder="職員ID Staff ID" autocomplete="username">
<input id="pin" type="password" inputmode="numeric" placeholder="PIN" autocomplete="current-password">
<button data-testid="signin" onclick="signIn()">サインイン</button> <span id="who" class="muted"></span></section>
<section><h2>住民検索 Find a resident</h2>
<input id="q" placeholder="住民番号・氏名・カナ ID, name or kana">
<input id="birth" type="date" aria-label="生年月日 birth date">
<button data-testid="search" onclick="find()">検索 Search</button>
<table id="found"></table></section>
<section id="record"><h2>健康かるて Record</h2>
<div class="row"><label for="purpose">閲覧の目的 <span class="muted">Purpose</span></label>
<input id="purpose" size="40" placeholder="担当外・部署をまたぐときに記入 When outside your duties"></div>
<p id="rec-status" role="status" aria-live="polite"></p>
<div id="rec" class="muted">住民を選んでください Choose a resident</div></section>
<section id="flags"><h2>気がかりフラグ <span class="muted">High-risk flags (health → child welfare)</span></h2>
<p class="muted">保健部門が付け、子ども家庭部門にすぐ届きます。Raised by health staff, shown at once to child welfare.</p>
<div class="row"><label for="fl-resident">住民番号 <span class="muted">Resident</span></label><input id="fl-resident" size="12">
<label for="fl-kind">種類 <span class="muted">Kind</span></label><select id="fl-kind">
<option value="specified_pregnancy">特定妊婦 Specified pregnancy</option><option value="missed_checkups">乳幼児健診未受診 Missed checkups</option>
<option value="other">その他の気がかり Other concern</option></select></div>
<div class="row"><label for="fl-note">所見 <span class="muted">What you saw</span></label><input id="fl-note" size="50">
<button data-testid="flag" onclick="raiseFlag()">フラグを付ける Raise</button></div>
<p id="fl-status" role="status" aria-live="polite"></p>
<table id="flag-list" data-testid="flag-list"></table></section>
<section id="cases"><h2>児童通告 受付一覧 <span class="muted">Child-welfare intake queue</span></h2>
<p class="muted">児童福祉の担当者だけが見られます Child-welfare staff only</p>
<button data-testid="cases" onclick="cases()">表示 Show</button>
<table id="case-list"></table><div id="case"></div></section>
<section><h2>CSV出力 Export</h2>
<input id="from" type="date" aria-label="開始日 from"> 〜 <input id="to" type="date" aria-label="終了日 to">
<button data-testid="export" onclick="exportCsv()">出力 Export</button></section>
<section id="tokutei"><h2>特定健診データ（XML） <span class="muted">Specific health checkup data (MHLW XML)</span></h2>
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
<section id="access"><h2>閲覧記録 <span class="muted">Access records</span></h2>
<div class="row"><label for="ar-resident">住民番号 <span class="muted">Resident</span></label><input id="ar-resident" size="12">
<button data-testid="access-report" onclick="accessReport()">閲覧記録（開示請求） Access report</button>
<button data-testid="flagged" onclick="flaggedReads()">担当外閲覧の確認（係長） Reads to review</button></div>
<table id="access-list"></table></section>
<p id="msg" class="err" role="alert"></p>
</main>
<script>
function msg(t){document.getElementById("msg").textContent=t||"";}
function esc(s){return String(s==null?"":s).replace(/[&<>"]/g,function(c){return{"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c];});}
async function call(url,opts){var r=await fetch(url,opts);var b=await r.json().catch(function(){return {};});
 if(!r.ok){var e=new Error((b.message||r.status));e.code=b.error;throw e;} return b;}
function purposeParam(){var p=document.getElementById("purpose").value.trim();return p?"?"+new URLSearchParams({purpose:p}):"";}
async function signIn(){try{var b=await call("/v1/login",{method:"POST",headers:{"content-type":"application/json"},
 body:JSON.stringify({staff_id:document.getElementById("sid").value,pin:document.getElementById("pin").value})});
 document.getElementById("who").textContent=b.name+"（"+b.role+"）";msg();flagWatch();}catch(e){msg("サインインできません Sign-in failed: "+e.message);}}
async function find(){try{var p=new URLSearchParams({q:document.getElementById("q").value});
 var bd=document.getElementById("birth").value; if(bd){p.set("birth",bd);}
 var b=await call("/v1/residents?"+p);var t=document.getElementById("found");
 t.innerHTML="<tr><th>住民番号</th><th>氏名</th><th>カナ</th><th>生年月日</th><th></th></tr>"+b.residents.map(function(r){
 return "<tr><td>"+esc(r.resident_id)+"</td><td>"+esc(r.name)+"</td><td>"+esc(r.name_kana)+"</td><td>"+esc(r.birth_date)+
 "</td><td><button onclick=\"show('"+esc(r.resident_id)+"')\">表示 Open</button></td></tr>";}).join("");msg();}catch(e){msg(e.message);}}
async function show(id){var st=document.getElementById("rec-status");st.textContent="";
 try{var b=await call("/v1/residents/"+encodeURIComponent(id)+"/record"+purposeParam());
 var h="<h3>"+esc(b.resident?b.resident.name:id)+" "+esc(id)+"</h3>";
 b.checkups.forEach(function(c){h+="<h4>"+esc(c.date)+(c.origin?" <span class=\"origin\" data-testid=\"origin\">"+esc(c.origin.label_ja)+" <span class=\"origin-en\">"+esc(c.origin.label_en)+"</span></span>":"")+"</h4>"+(c.stratification?"<p data-testid=\"stratification\">階層化 Stratification: メタボ判定 <b>"+esc(c.stratification.metabolic_ja)+"</b> ・ 保健指導レベル <b>"+esc(c.stratification.guidance_ja)+"</b>"+(c.stratification.reasons.length?"<br><span class=muted>"+c.stratification.reasons.map(esc).join("／")+"</span>":"")+"</p>":"")+"<table><tr><th>項目 item</th><th>値 value</th><th>訂正履歴 corrections</th></tr>"+
 c.items.map(function(i){return "<tr><td>"+esc(i.name_ja||i.item_code)+(i.name_en?" <span class=muted>"+esc(i.name_en)+"</span>":"")+"<br><span class=muted>"+esc(i.item_code)+"</span></td><td>"+(i.value_ja?esc(i.value_ja)+" <span class=muted>("+esc(i.value)+")</span>":esc(i.value)+" "+esc(i.unit))+"</td><td>"+
 (i.history.length>1?i.history.map(function(x){return esc(x.value_ja||x.value)+(x.reason?"（"+esc(x.reason)+"）":"");}).join(" → "):"")+"</td></tr>";}).join("")+"</table>";});
 document.getElementById("rec").innerHTML=h;msg();}catch(e){if(e.code==="purpose_required"){
 st.innerHTML="<span class=err>"+esc(e.message)+"</span>";document.getElementById("purpose").focus();}
 else{st.innerHTML="<span class=err>"+esc(e.message)+"</span>";msg(e.message);}}}
var ABUSE={physical:"身体的虐待",psychological:"心理的虐待",neglect:"ネグレクト",sexual:"性的虐待"};
async function cases(){try{var b=await call("/v1/notices");var t=document.getElementById("case-list");
 t.innerHTML="<tr><th>受付 saved</th><th>児童氏名 child</th><th>生年月日 born</th><th>種別 type</th><th>会場 venue</th><th></th></tr>"+b.cases.map(function(c){
 return "<tr><td>"+esc(new Date(c.saved_ms).toLocaleString("ja-JP"))+"</td><td>"+esc(c.child_name)+"</td><td>"+esc(c.child_birth_date)+"</td><td>"+
 esc(ABUSE[c.abuse_type]||c.abuse_type)+"</td><td>"+esc(c.venue)+"</td><td><button onclick=\"showCase('"+esc(c.case_id)+"')\">開く Open</button></td></tr>";}).join("");msg();}
 catch(e){msg(e.message);}}
async function showCase(id){try{var b=await call("/v1/notices/"+encodeURIComponent(id)+purposeParam());var f=b.notice.fields;
 document.getElementById("case").innerHTML="<table>"+Object.keys(f).map(function(k){return "<tr><th>"+esc(k)+"</th><td>"+esc(f[k].value)+
 (f[k].corrected?" <span class=muted>（訂正 corrected）</span>":"")+"</td></tr>";}).join("")+"</table>";msg();}catch(e){msg(e.message);}}
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
 st.innerHTML="<span class=ok>新しいフラグはすぐここに表示されます New flags appear here at once</span>";}
 catch(e){st.innerHTML="<span class=muted>"+esc(e.code==="forbidden"?"フラグ一覧は子ども家庭部門と係長以上が見られます Flags are shown to child welfare and 係長+":e.message)+"</span>";}}
async function raiseFlag(){var id=document.getElementById("fl-resident").value.trim(),st=document.getElementById("fl-status");
 var body={kind:document.getElementById("fl-kind").value,note:document.getElementById("fl-note").value};
 var p=document.getElementById("purpose").value.trim();if(p){body.purpose=p;}
 try{await call("/v1/residents/"+encodeURIComponent(id)+"/flags",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify(body)});
 st.innerHTML="<span class=ok>フラグを付けました。子ども家庭部門に届きました Flag raised and shared</span>";msg();}
 catch(e){st.innerHTML="<span class=err>"+esc(e.message)+"</span>";if(e.code==="purpose_required"){document.getElementById("purpose").focus();}}}
function accessRows(b){var t=document.getElementById("access-list");
 t.innerHTML="<tr><th scope=col>日時 when</th><th scope=col>職員 staff</th><th scope=col>操作 action</th><th scope=col>対象 subject</th><th scope=col>目的 purpose</th></tr>"+b.entries.map(function(e){
 return "<tr><td>"+esc(new Date(e.at_ms).toLocaleString("ja-JP"))+"</td><td>"+esc(e.staff_name||"")+" "+esc(e.staff_id)+"</td><td>"+esc(e.action)+
 (e.flagged_for?" <span class=origin>担当外 outside duty</span>":"")+"</td><td>"+esc(e.subject)+"</td><td>"+esc(e.purpose||"")+"</td></tr>";}).join("");}
async function accessReport(){var id=document.getElementById("ar-resident").value.trim();if(!id){msg("住民番号を入れてください Enter a resident");return;}
 try{accessRows(await call("/v1/residents/"+encodeURIComponent(id)+"/access-report"));msg();}catch(e){msg(e.message);}}
async function flaggedReads(){try{accessRows(await call("/v1/access/flagged"));msg();}catch(e){msg(e.message);}}
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
