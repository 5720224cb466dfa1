// Station page: residents due here in the order they checked in (read again on every board
// update), searchable by name, kana or resident number; item entry in the order measurements
// are taken, every write through the outbox (kept until the box answers), corrections with
// a reason and the station's completion with its missing items named, in in-page dialogs;
// the doctor also sees the whole record. At 問診 the 22 questions are listed with each
// answer, how and in which language it was given and its corrections; the nurse answers
// what is missing by asking (recorded as 聞き取り), amends with a reason, and completes.
// 紙の質問票: the nurse prints the resident's form in their language, reads the filled-in
// pages back (each file posted to /api/questionnaire/paper, which records the clear answers
// via paper; or the scanner's folder on the box does it) and resolves each item the reader
// sent to review with one of its answers as large buttons. The items to check are the
// session's own (`paper_review` of GET /api/sessions/{id}), so they are there after a
// reload and on every tablet; an item leaves the list once an answer is recorded after the
// read. That choice is the nurse's, after asking the resident: it goes through the
// one save below (outbox; a correction with its reason if the item already held an answer)
// as 聞き取り, in the form's language; only the reader's own answers are recorded via paper.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("station-config").dataset.config);
  var $ = function (id) { return document.getElementById(id); };
  var t = window.ceT, msg = window.ceMessage, outbox = window.ceOutbox, uuid7 = window.ceUuid7;
  var current = null;          // the selected session {session_id, resident_id, name}
  var record = null;           // the box's last answer for the selected session
  var lastYear = {};           // item code -> {value, unit, date}
  var itemOf = {};
  cfg.items.forEach(function (it) { itemOf[it.code] = it; });
  // 問診: the questions by item code (number, short name, full question, answers' texts).
  var quest = cfg.questionnaire || null, questionOf = {};
  if (quest) { quest.questions.forEach(function (q) { questionOf[q.code] = q; }); }
  function nameOf(it) {
    var q = questionOf[it.code];
    return (q ? t("問" + q.number + " ", "Q" + q.number + " ") : "") + t(it.name, it.name_en);
  }
  // An item whose value is taken as text, not as a number: a dipstick reading, an answer
  // code, a finding's code (既往歴, 採血時間 …) or a free text (所見, 診断).
  function chosen(it) { return !!(it.limits.values || it.limits.answers || it.limits.choices || it.limits.max_chars); }
  // An item whose same value saved again changes nothing.
  function coded(it) { return !!(it.limits.answers || it.limits.choices || it.limits.max_chars); }
  // A value as staff read it: an answer's text for a questionnaire item, a finding's label.
  function shown(code, v) {
    var q = questionOf[code];
    var own = itemOf[code] && itemOf[code].limits.choices;
    if (own) {
      var c = own.filter(function (x) { return x.code === String(v); })[0];
      return c ? t(c.text, c.text_en) : String(v);
    }
    if (!q) {
      var other = cfg.answer_texts && cfg.answer_texts[code] && cfg.answer_texts[code][String(v)];
      return other ? t(other[0], other[1]) : String(v);
    }
    var a = q.answers.filter(function (x) { return x.code === String(v); })[0];
    return a ? t(a.text, a.text_en) : String(v);
  }
  function nameOfCode(code) {
    if (itemOf[code]) { return nameOf(itemOf[code]); }
    var n = cfg.names[code] || (cfg.station_names || {})[code];
    if (!n) { return code; }
    var parts = n.split(" / ");
    return t(parts[0], parts[1] || parts[0]);
  }

  // Messages: each action clears the last one; 「保存しました」 only once the box answered.
  function message(text) { var m = $("entry-message"); m.textContent = text || ""; m.hidden = !text; }
  function status(text) { var m = $("entry-status"); m.textContent = text || ""; m.hidden = !text; }
  function clearFeedback() { message(""); status(""); }
  function refusal(a, it) {
    var b = a.body || {};
    var vars = { name: it ? nameOf(it) : "" };
    if (b.error === "incomplete_station" && b.required && b.required.length && !quest) {
      var names = b.required.map(nameOfCode).join(t("、", ", "));
      return t("必須の項目が未入力です（" + names + "）。記録してから完了してください",
        "Required items are missing (" + names + "): record them, then complete");
    }
    if (b.error === "incomplete_station" && b.required && b.required.length) {
      return msg("required_missing", { missing: b.required.map(nameOfCode).join(t("、", ", ")) });
    }
    if (b.error === "incomplete_station") { vars.missing = (b.missing || []).map(nameOfCode).join(t("、", ", ")); }
    return msg(b.error || "unknown", vars);
  }

  // Residents due: the box's list in arrival order; the search box filters it as typed.
  var due = [], dueAsked = 0, dueShown = 0;
  // Compared without spaces, case, width (ＡＢ１ → ab1) or hiragana/katakana difference.
  function fold(text) {
    var v = String(text || "");
    if (v.normalize) { v = v.normalize("NFKC"); }
    v = v.toLowerCase().replace(/[\s\u3000・･]/g, "");
    return v.replace(/[\u3041-\u3096]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) + 0x60); });
  }
  function clock(ms) {
    var d = new Date(ms), pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function renderDue() {
    var q = fold($("due-search").value);
    var ul = $("due"); ul.textContent = "";
    var shown = 0;
    due.forEach(function (s, n) {
      if (q && [s.name, s.name_kana, s.resident_id].map(fold).every(function (f) { return f.indexOf(q) < 0; })) { return; }
      shown += 1;
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button"; b.className = "pick due-row"; b.dataset.session = s.session_id;
      b.dataset.resident = s.resident_id;
      var part = function (cls, text, lang) {
        var e = document.createElement("span"); e.className = cls; e.textContent = text;
        if (lang) { e.lang = lang; }
        b.appendChild(e);
      };
      part("due-pos", (n + 1) + ".");
      part("due-name", s.name || s.resident_id, "ja");
      if (s.name_kana) { part("due-kana", s.name_kana, "ja"); }
      part("due-id", t("住民番号 ", "No. ") + s.resident_id);
      part("due-time", t("受付 ", "Checked in ") + clock(s.checked_in_ms));
      b.addEventListener("click", function () { select(s); });
      li.appendChild(b); ul.appendChild(li);
    });
    $("due-count").textContent = q
      ? t(due.length + "人中 " + shown + "人", shown + " of " + due.length + " residents")
      : t(due.length + "人", due.length + (due.length === 1 ? " resident" : " residents"));
    $("due-empty").hidden = shown > 0 || due.length === 0;
  }
  // Read the list again; an older answer arriving late never replaces a newer one. Offline,
  // the last list stays.
  function loadDue() {
    var n = ++dueAsked;
    fetch("/api/station/" + encodeURIComponent(cfg.station) + "/due").then(function (r) {
      if (!r.ok) { throw new Error("due " + r.status); }
      return r.json();
    }).then(function (j) {
      if (n < dueShown) { return; }
      dueShown = n; due = j.residents || []; renderDue();
    }).catch(function () {});
  }
  $("due-search").addEventListener("input", renderDue);
  function select(s) {
    current = s; record = null;
    $("entry").hidden = false;
    $("entry-title").textContent = s.name + " (" + s.resident_id + ")";
    clearFeedback();
    var form = $("items"); form.textContent = "";
    if (quest) { renderQuestions(form); }
    cfg.items.forEach(function (it) {
      if (quest) { return; }
      if (it.limits.choices || it.limits.max_chars) { form.appendChild(findingField(it)); return; }
      var label = document.createElement("label");
      var unit = it.unit ? " (" + it.unit + ")" : "";
      label.textContent = t(it.name + unit + " / " + it.name_en, it.name_en + unit);
      label.htmlFor = "item-" + it.code;
      var input;
      if (it.limits.values) {
        // Nothing is recorded by default: the result is chosen explicitly.
        input = document.createElement("select");
        var none = document.createElement("option"); none.value = ""; none.textContent = t("— 選択してください —", "— choose —");
        input.appendChild(none);
        it.limits.values.forEach(function (v) { var o = document.createElement("option"); o.value = v; o.textContent = v; input.appendChild(o); });
      } else {
        input = document.createElement("input");
        input.type = "number"; input.step = "any"; input.inputMode = "decimal";
        input.min = it.limits.min; input.max = it.limits.max;
      }
      input.id = "item-" + it.code; input.dataset.code = it.code;
      input.addEventListener("input", bmi);
      var prev = document.createElement("span");
      prev.className = "last-year"; prev.id = "last-" + it.code;
      var field = document.createElement("div"); field.className = "field";
      field.appendChild(label); field.appendChild(prev); field.appendChild(input);
      form.appendChild(field);
    });
    lastYear = {};
    fetch("/api/residents/" + encodeURIComponent(s.resident_id) + "/history").then(function (r) { return r.json(); }).then(function (j) {
      (j.values || []).forEach(function (h) {
        lastYear[h.item_code] = h;
        var el = $("last-" + h.item_code);
        if (el) { el.textContent = t("前年", "Last year") + ": " + h.value + " " + h.unit + "（" + h.date + "）"; }
      });
    }).catch(function () {});
    bmi();
    $("record").textContent = "";
    if (quest) { paperReset(s); }
    loadRecord();
  }
  // 診察・採血: a finding's code as large answer buttons, a free text as a text area; the
  // item's name in Japanese with English, 必須 when the report requires it, and for a
  // finding's text when it is asked for (「特記すべきことあり」).
  function findingField(it) {
    var field = document.createElement("div"); field.className = "field finding"; field.id = "field-" + it.code;
    var name = t(it.name + " / " + it.name_en, it.name_en);
    var req = it.required ? t("必須", "Required") : "";
    if (it.detail_of) {
      var of = itemOf[it.detail_of.item], when = of && of.limits.choices.filter(function (c) { return c.code === it.detail_of.when; })[0];
      req = t("「" + (when ? when.text : it.detail_of.when) + "」のとき必須", "Required when “" + (when ? when.text_en : it.detail_of.when) + "”");
    }
    if (it.limits.choices) {
      var fs = document.createElement("fieldset");
      var lg = document.createElement("legend");
      lg.appendChild(el("span", "q-name", name));
      if (req) { lg.appendChild(el("span", "q-required", req)); }
      fs.appendChild(lg);
      var group = el("div", "q-choices"); group.id = "choices-" + it.code;
      it.limits.choices.forEach(function (c) {
        var id = "item-" + it.code + "-" + c.code;
        var r = document.createElement("input"); r.type = "radio"; r.name = "item-" + it.code; r.value = c.code; r.id = id;
        var l = el("label", "choice", t(c.text + " / " + c.text_en, c.text_en)); l.htmlFor = id;
        group.appendChild(r); group.appendChild(l);
      });
      fs.appendChild(group);
      field.appendChild(fs);
      return field;
    }
    var label = document.createElement("label"); label.htmlFor = "item-" + it.code;
    label.appendChild(el("span", "q-name", name));
    if (req) { label.appendChild(el("span", "q-required", req)); }
    var hint = el("span", "hint", t("最大" + it.limits.max_chars + "文字", "Up to " + it.limits.max_chars + " characters"));
    hint.id = "hint-" + it.code;
    var area = document.createElement("textarea"); area.id = "item-" + it.code; area.dataset.code = it.code;
    area.rows = 3; area.maxLength = it.limits.max_chars; area.setAttribute("aria-describedby", hint.id);
    field.appendChild(label); field.appendChild(hint); field.appendChild(area);
    return field;
  }
  // Put a saved value back in its field (to correct it): a text or number, or the answer button.
  function putValue(code, v) {
    var input = $("item-" + code);
    if (input) { input.value = v; input.focus(); return; }
    var r = $("item-" + code + "-" + v);
    if (r) { r.checked = true; r.focus(); }
  }
  // Unsent writes of the selected session, from the outbox.
  function unsent() {
    return outbox.pending(function (e) { return current && e.meta && e.meta.session === current.session_id; });
  }
  function loadRecord() {
    var s = current;
    if (!s) { return Promise.resolve(); }
    // Reading the record is audited on the box (record_viewed). Offline, the last record
    // stays on screen with the unsent values beside it.
    return fetch("/api/sessions/" + s.session_id).then(function (r) { return r.json(); }).then(function (j) {
      if (current !== s || !j.session) { return; }
      record = j; renderRecord(); bmi();
    }).catch(function () { renderRecord(); });
  }
  function savedEntry(code) {
    var entries = record && record.session && record.session.results && record.session.results[code];
    return entries && entries.length ? entries[entries.length - 1] : null;
  }
  function renderRecord() {
    var rec = $("record"); rec.textContent = "";
    if (quest) { renderAnswers(); return; }
    var cur = (record && record.current) || {};
    var results = (record && record.session && record.session.results) || {};
    var dl = document.createElement("dl"); dl.id = "record-fields";
    var codes = cfg.doctor ? Object.keys(cur) : cfg.items.map(function (it) { return it.code; }).filter(function (c) { return cur[c]; });
    codes.forEach(function (code) {
      var dt = document.createElement("dt"); dt.textContent = cfg.names[code] || code;
      var dd = document.createElement("dd"); dd.textContent = shown(code, cur[code].value) + " " + cur[code].unit + " ";
      var entries = results[code] || [];
      if (entries.length > 1) { dd.appendChild(document.createTextNode(t("（訂正あり）", "(corrected)") + " ")); }
      var item = itemOf[code];
      if (item && entries.length) {
        var fix = document.createElement("button");
        fix.type = "button"; fix.className = "correct secondary"; fix.dataset.code = code;
        fix.textContent = t("訂正", "Correct");
        fix.addEventListener("click", function () {
          putValue(code, cur[code].value);
          status(""); message(t("新しい値を入力して「保存」を押すと訂正になります（理由が必要です）", "Enter the new value and press Save: it is a correction (a reason is needed)"));
        });
        dd.appendChild(fix);
      }
      dl.appendChild(dt); dl.appendChild(dd);
    });
    unsent().forEach(function (e) {
      var p = e.body.body.payload;
      if (!p.item_code) { return; }
      var dt = document.createElement("dt"); dt.textContent = cfg.names[p.item_code] || p.item_code;
      var dd = document.createElement("dd"); dd.className = "unsent";
      dd.textContent = shown(p.item_code, p.value) + " " + p.unit + " " + t("（未送信）", "(unsent)");
      dl.appendChild(dt); dl.appendChild(dd);
    });
    var h = cur["9N001000000000001"], w = cur["9N006000000000001"];
    if (h && w && (cfg.doctor || itemOf["9N001000000000001"])) {
      var dt = document.createElement("dt"); dt.textContent = t("BMI（自動計算）", "BMI (derived)");
      var dd = document.createElement("dd"); dd.textContent = Math.round(w.value / Math.pow(h.value / 100, 2) * 10) / 10;
      dl.appendChild(dt); dl.appendChild(dd);
    }
    rec.appendChild(dl);
    // A finding's saved answer is marked among its buttons.
    cfg.items.forEach(function (it) {
      if (!it.limits.choices || quest) { return; }
      it.limits.choices.forEach(function (c) {
        var l = document.querySelector("label[for='item-" + it.code + "-" + c.code + "']");
        if (!l) { return; }
        var now = !!cur[it.code] && String(cur[it.code].value) === c.code;
        l.classList.toggle("current", now);
        l.textContent = t(c.text + " / " + c.text_en, c.text_en) + (now ? t("（保存済み）", " (saved)") : "");
      });
    });
  }
  // ---- 問診 ---------------------------------------------------------------------------
  function channelLabel(answered) {
    if (!answered) { return t("職員が入力", "Entered by staff"); }
    var c = quest.channels[answered.via] || [answered.via, answered.via];
    var l = quest.languages[answered.lang] || [answered.lang, answered.lang];
    return t(c[0] + "・" + l[0], c[1] + ", " + l[1]);
  }
  function interviewLang() { var el = $("q-lang"); return el && el.value ? el.value : "ja"; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  // The 22 questions: number, short name, 必須, the full question on demand, the answer
  // line (filled by renderAnswers) and the answers to choose from, as large buttons.
  function renderQuestions(form) {
    var top = el("div", "q-top");
    top.appendChild(el("p", "q-summary", "")).id = "q-summary";
    var langRow = el("div", "q-lang-row");
    var lab = el("label", "", t("聞き取りの言語", "Language asked in")); lab.htmlFor = "q-lang";
    var sel = document.createElement("select"); sel.id = "q-lang";
    (quest.language_order || Object.keys(quest.languages)).forEach(function (tag) {
      var o = document.createElement("option"); o.value = tag;
      o.textContent = t(quest.languages[tag][0], quest.languages[tag][1]); sel.appendChild(o);
    });
    sel.value = "ja";
    langRow.appendChild(lab); langRow.appendChild(sel); top.appendChild(langRow);
    form.appendChild(top);
    var list = el("ol", "q-list"); list.id = "q-list";
    quest.questions.forEach(function (q) {
      var li = el("li", "q unanswered"); li.id = "q-" + q.code; li.dataset.code = q.code;
      var fs = document.createElement("fieldset");
      var lg = document.createElement("legend");
      lg.appendChild(el("span", "q-num", t("問" + q.number, "Q" + q.number)));
      lg.appendChild(el("span", "q-name", t(q.name, q.name_en)));
      if (q.required) { lg.appendChild(el("span", "q-required", t("必須", "Required"))); }
      fs.appendChild(lg);
      // One row to scan: the answer, then the full question on demand and 訂正.
      var row = el("div", "q-row");
      var ans = el("p", "q-answer"); ans.id = "ans-" + q.code; row.appendChild(ans);
      var full = el("p", "q-full", t(q.question, q.question_en)); full.id = "full-" + q.code; full.hidden = true;
      var show = el("button", "q-show secondary", t("質問文", "Question"));
      show.type = "button"; show.setAttribute("aria-expanded", "false"); show.setAttribute("aria-controls", full.id);
      show.addEventListener("click", function () {
        full.hidden = !full.hidden; show.setAttribute("aria-expanded", full.hidden ? "false" : "true");
      });
      row.appendChild(show);
      var fix = el("button", "correct secondary", t("訂正", "Amend"));
      fix.type = "button"; fix.id = "amend-" + q.code; fix.hidden = true;
      fix.addEventListener("click", function () { toggleAmend(q.code); });
      row.appendChild(fix);
      fs.appendChild(row); fs.appendChild(full);
      var hist = el("ol", "q-history"); hist.id = "hist-" + q.code; hist.hidden = true; fs.appendChild(hist);
      var choices = el("div", "q-choices"); choices.id = "choices-" + q.code;
      choices.setAttribute("role", "radiogroup");
      choices.setAttribute("aria-label", t("問" + q.number + " の回答", "Answer to Q" + q.number));
      q.answers.forEach(function (a) {
        var id = "item-" + q.code + "-" + a.code;
        var r = document.createElement("input"); r.type = "radio"; r.name = "item-" + q.code; r.value = a.code; r.id = id;
        var l = el("label", "choice", t(a.text, a.text_en)); l.htmlFor = id;
        choices.appendChild(r); choices.appendChild(l);
      });
      fs.appendChild(choices);
      li.appendChild(fs); list.appendChild(li);
    });
    form.appendChild(list);
  }
  function toggleAmend(code) {
    var li = $("q-" + code), open = !li.classList.contains("amending");
    li.classList.toggle("amending", open);
    $("choices-" + code).hidden = !open;
    $("amend-" + code).textContent = open ? t("訂正をやめる", "Cancel amending") : t("訂正", "Amend");
    if (!open) { clearValue(code); return; }
    clearFeedback();
    message(t("新しい回答を選んで「保存」を押すと訂正になります（理由が必要です）", "Choose the new answer and press Save: it is a correction (a reason is needed)"));
    var first = $("choices-" + code).querySelector("input"); if (first) { first.focus(); }
  }
  function closeAmends() {
    quest.questions.forEach(function (q) {
      var li = $("q-" + q.code);
      if (li && li.classList.contains("amending") && value(q.code) === "") { toggleAmend(q.code); }
    });
  }
  // Each question's answer (saved or unsent), how and in which language it was given, and
  // its earlier answers with the reasons they were corrected.
  function renderAnswers() {
    var results = (record && record.session && record.session.results) || {};
    var pending = {};
    unsent().forEach(function (e) { var p = e.body.body.payload; if (p.item_code) { pending[p.item_code] = p; } });
    var answered = 0, requiredOpen = 0;
    quest.questions.forEach(function (q) {
      var li = $("q-" + q.code);
      if (!li) { return; }
      var entries = results[q.code] || [], cur = entries[entries.length - 1], p = pending[q.code];
      var line = $("ans-" + q.code); line.textContent = "";
      var hist = $("hist-" + q.code); hist.textContent = "";
      var has = !!(cur || p);
      if (has) { answered += 1; } else if (q.required) { requiredOpen += 1; }
      li.classList.toggle("unanswered", !has);
      li.classList.toggle("answered", has);
      if (has) { li.classList.remove("needed"); }
      if (p) {
        line.appendChild(el("b", "q-value", shown(q.code, p.value)));
        line.appendChild(el("span", "q-via", channelLabel(p.answered)));
        line.appendChild(el("span", "unsent", t("（未送信）", "(unsent)")));
      } else if (cur) {
        line.appendChild(el("b", "q-value", shown(q.code, cur.value.toString())));
        line.appendChild(el("span", "q-via", channelLabel(cur.answered)));
        if (entries.length > 1) { line.appendChild(el("span", "q-corrected", t("訂正あり", "Corrected"))); }
      } else {
        line.appendChild(el("b", "q-none", t("未回答", "Unanswered")));
      }
      if (entries.length > 1) {
        entries.forEach(function (r, n) {
          var h = el("li", "");
          h.textContent = shown(q.code, r.value.toString()) + " — " + channelLabel(r.answered) +
            (n > 0 && r.reason ? t("　理由: ", " — reason: ") + r.reason : "") +
            (n === entries.length - 1 ? t("（現在）", " (current)") : "");
          hist.appendChild(h);
        });
      }
      hist.hidden = entries.length < 2;
      // The current answer is marked among the choices; choosing another amends it.
      q.answers.forEach(function (a) {
        var l = $("choices-" + q.code).querySelector("label[for='item-" + q.code + "-" + a.code + "']");
        var now = !!cur && cur.value.toString() === a.code;
        l.classList.toggle("current", now);
        l.textContent = t(a.text, a.text_en) + (now ? t("（現在）", " (current)") : "");
      });
      var amending = li.classList.contains("amending");
      if (!has) { li.classList.remove("amending"); }
      $("choices-" + q.code).hidden = has && !amending;
      $("amend-" + q.code).hidden = !cur || !!p;
    });
    renderPaper();
    var total = quest.questions.length;
    $("q-summary").textContent = t("回答 " + answered + " / " + total + "問", answered + " of " + total + " answered") +
      (requiredOpen ? t("　必須の未回答 " + requiredOpen + "問", " — " + requiredOpen + " required unanswered") : "");
  }
  // ---- 紙の質問票 -----------------------------------------------------------------------
  // `paper`: what this page's last upload gave (answers taken, errors), for its summary.
  // The items to check come from the session on the box (`paper_review`, by item code);
  // `reviewShown` keeps those seen in this view, so an item the nurse resolved stays on the
  // list as saved instead of vanishing.
  var paper = null, reviewShown = {}, reviewLangSet = false;
  function pendingReview() { return (record && record.session && record.session.paper_review) || {}; }
  var REASONS = {
    several_ticked: ["複数の□に✓があります", "More than one box is ticked"],
    faint: ["薄い記入があります", "A faint mark"],
    unclear: ["判読できない記入があります", "A mark that cannot be read"],
    box_not_found: ["□の位置を確認できません", "A box could not be found on the page"]
  };
  var MARKS = {
    ticked: ["✓", "✓"], filled: ["塗りつぶし（取消）", "filled in (cancelled)"], faint: ["薄い記入", "faint mark"],
    unclear: ["判読不能", "unreadable"], not_found: ["□が見つからない", "box not found"]
  };
  function paperStatus(text) { $("paper-status").textContent = text || ""; }
  function paperLink() {
    if (!current) { return; }
    $("paper-print").href = "/questionnaire/paper/" + encodeURIComponent(current.session_id) + "?lang=" + encodeURIComponent($("paper-lang").value);
  }
  function paperReset(s) {
    paper = null; reviewShown = {}; reviewLangSet = false;
    var sel = $("paper-lang");
    if (!sel.options.length) {
      (quest.language_order || Object.keys(quest.languages)).forEach(function (tag) {
        var o = document.createElement("option"); o.value = tag;
        o.textContent = t(quest.languages[tag][0], quest.languages[tag][1]); sel.appendChild(o);
      });
    }
    sel.value = "ja";
    paperLink();
    paperStatus("");
    $("paper-result").hidden = true; $("paper-result").textContent = "";
    $("paper-file").value = "";
    return s;
  }
  // One file posted; its pages merged into `acc`.
  function paperPost(s, file, n, acc) {
    var url = "/api/questionnaire/paper?session=" + encodeURIComponent(s.session_id) +
      "&name=" + encodeURIComponent(file.name || ("page-" + n));
    return fetch(url, { method: "POST", body: file }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return [r.ok, j]; });
    }).then(function (res) {
      var j = res[1];
      if (!res[0]) {
        var m = String(j.message || "").split(" / ");
        // The page's own message for a code it knows, else the box's (Japanese / English).
        var known = j.error && msg(j.error) !== msg("unknown", { code: j.error });
        acc.errors.push((file.name || n) + ": " + (known ? msg(j.error) : (t(m[0], m[1] || m[0]) || msg("unknown", { code: j.error }))));
        return;
      }
      acc.lang = j.lang;
      acc.recorded += j.submitted.recorded; acc.corrected += j.submitted.corrected; acc.unchanged += j.submitted.unchanged;
      j.pages.forEach(function (p) {
        if (p.error) {
          var m = String(p.message || "").split(" / ");
          acc.errors.push((file.name || n) + t(" の " + p.file_page + "ページ: ", ", page " + p.file_page + ": ") + t(m[0], m[1] || m[0]));
          return;
        }
        p.answers.forEach(function (a) { acc.taken[a.item_code] = a.code; });
        p.unanswered.forEach(function (num) { acc.unanswered[num] = true; });
      });
    }, function () { acc.errors.push((file.name || n) + ": " + msg("offline")); });
  }
  function paperUpload(files) {
    var s = current;
    if (!s || !files.length) { return Promise.resolve(); }
    clearFeedback();
    paperStatus(t("読み取り中…", "Reading…"));
    var acc = { lang: null, taken: {}, unanswered: {}, errors: [], recorded: 0, corrected: 0, unchanged: 0 };
    var chain = Promise.resolve();
    files.forEach(function (f, i) { chain = chain.then(function () { return paperPost(s, f, i + 1, acc); }); });
    return chain.then(function () {
      if (current !== s) { return; }
      paper = acc;
      // The nurse confirms the items for review with the resident, in the form's language.
      if (acc.lang && quest.languages[acc.lang]) { $("q-lang").value = acc.lang; $("paper-lang").value = acc.lang; paperLink(); }
      paperStatus(acc.lang ? t("読み取りました", "Read") : t("読み取れませんでした", "Nothing could be read"));
      // The summary and the items to check are shown with the session as the box now holds it.
      return loadRecord();
    });
  }
  // The marks the reader saw in the item's boxes (`marked` of the box's review).
  function reviewLine(v) {
    var q = questionOf[v.item_code];
    var marks = (v.marked || []).map(function (b) {
      var m = MARKS[b.mark];
      return m ? shown(v.item_code, b.code) + " " + t(m[0], m[1]) : null;
    }).filter(function (x) { return x; });
    return { q: q, marks: marks };
  }
  function renderPaper() {
    var box = $("paper-result");
    if (!box || !quest) { return; }
    var waiting = pendingReview();
    Object.keys(waiting).forEach(function (c) { reviewShown[c] = waiting[c]; });
    var codes = quest.questions.map(function (q) { return q.code; }).filter(function (c) { return reviewShown[c]; });
    if (!paper && !codes.length) { box.hidden = true; box.textContent = ""; return; }
    // After a reload the nurse asks in the language of the form, as after the upload.
    var first = waiting[codes.filter(function (c) { return waiting[c]; })[0]];
    if (!paper && first && !reviewLangSet && quest.languages[first.lang]) {
      reviewLangSet = true;
      $("q-lang").value = first.lang; $("paper-lang").value = first.lang; paperLink();
    }
    box.hidden = false; box.textContent = "";
    if (paper) {
      var taken = Object.keys(paper.taken).length, unanswered = Object.keys(paper.unanswered).length;
      var summary = el("p", "paper-summary"); summary.id = "paper-summary";
      summary.textContent = t("紙から " + taken + "問の回答を記録しました", "Answers taken from paper: " + taken) +
        t("（新規 " + paper.recorded + "・変更 " + paper.corrected + "・同じ回答 " + paper.unchanged + "）",
          " (new " + paper.recorded + ", changed " + paper.corrected + ", same " + paper.unchanged + ")") +
        (unanswered ? t("　未記入 " + unanswered + "問", " — left blank: " + unanswered) : "");
      box.appendChild(summary);
      if (paper.errors.length) {
        var errs = el("ul", "paper-errors error"); errs.id = "paper-errors";
        paper.errors.forEach(function (e) { errs.appendChild(el("li", "", e)); });
        box.appendChild(errs);
      }
    }
    var open = 0;
    var list = el("ol", "paper-review"); list.id = "paper-review";
    codes.forEach(function (code) {
      var v = reviewShown[code];
      var q = questionOf[v.item_code];
      if (!q) { return; }
      var cur = savedEntry(v.item_code);
      var done = !waiting[v.item_code] && !!cur;
      var pending = unsent().some(function (e) { return e.body.body.payload.item_code === v.item_code; });
      if (!done && !pending) { open += 1; }
      var li = el("li", "paper-item" + (done ? " resolved" : "")); li.id = "pr-" + v.item_code; li.dataset.code = v.item_code;
      var head = el("h4", "paper-q");
      head.appendChild(el("span", "q-num", t("問" + q.number, "Q" + q.number)));
      head.appendChild(el("span", "q-name", t(q.name, q.name_en)));
      li.appendChild(head);
      var r = REASONS[v.reason];
      li.appendChild(el("p", "paper-reason", r ? t(r[0], r[1]) : v.reason));
      var info = reviewLine(v);
      if (info.marks.length) { li.appendChild(el("p", "paper-marks", t("用紙の記入: ", "On the form: ") + info.marks.join(t("、", ", ")))); }
      if (done) {
        var res = el("p", "paper-resolved");
        res.appendChild(el("b", "q-value", shown(v.item_code, cur.value.toString())));
        res.appendChild(el("span", "q-via", channelLabel(cur.answered)));
        res.appendChild(el("span", "", t("保存しました", "Saved")));
        li.appendChild(res);
      } else if (pending) {
        li.appendChild(el("p", "unsent", t("（未送信）", "(unsent)")));
      } else {
        li.appendChild(el("p", "hint", t("本人に確かめて、意図した回答を選んでください", "Ask the resident and choose the answer they meant")));
        var group = el("div", "paper-choices");
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", t("問" + q.number + " の回答を選ぶ", "Choose the answer to Q" + q.number));
        q.answers.forEach(function (a) {
          var b = el("button", "paper-choice", t(a.text, a.text_en));
          b.type = "button"; b.dataset.answer = a.code;
          b.addEventListener("click", function () { paperResolve(v.item_code, a.code); });
          group.appendChild(b);
        });
        li.appendChild(group);
      }
      list.appendChild(li);
    });
    if (codes.length) {
      var h = el("p", "paper-review-title", t("確認が必要な質問 " + codes.length + "問（残り " + open + "問）",
        "Questions to check: " + codes.length + " (" + open + " left)"));
      h.id = "paper-review-title";
      box.appendChild(h);
      box.appendChild(list);
    } else if (paper && paper.lang) {
      box.appendChild(el("p", "saved", t("確認が必要な質問はありません", "Nothing to check")));
    }
  }
  // The nurse's choice for an item in review: the station's save, for this item only.
  function paperResolve(code, answer) {
    var r = $("item-" + code + "-" + answer);
    if (!r) { return; }
    r.checked = true;
    return save([code]);
  }
  $("paper-lang") && $("paper-lang").addEventListener("change", paperLink);
  $("paper-file") && $("paper-file").addEventListener("change", function () {
    var files = Array.prototype.slice.call(this.files || []);
    var input = this;
    paperUpload(files).then(function () { input.value = ""; });
  });

  // The required questions the box named: marked, the first one shown.
  function markNeeded(codes) {
    codes.forEach(function (c) { var li = $("q-" + c); if (li) { li.classList.add("needed"); } });
    var first = $("q-" + codes[0]);
    if (first) { first.scrollIntoView({ block: "center" }); }
  }

  // The required items the box named (診察): marked, the first one shown.
  function markNeededFields(codes) {
    codes.forEach(function (c) { var f = $("field-" + c); if (f) { f.classList.add("needed"); } });
    var first = $("field-" + codes[0]);
    if (first) { first.scrollIntoView({ block: "center" }); }
  }

  // A typed value the page refused, marked in its field until it is changed.
  function markInvalid(code) {
    var input = $("item-" + code), f = input && input.parentNode;
    if (!f) { return; }
    f.classList.add("invalid"); input.setAttribute("aria-invalid", "true"); input.focus();
    input.addEventListener("input", function again() {
      f.classList.remove("invalid"); input.removeAttribute("aria-invalid");
      input.removeEventListener("input", again);
    });
  }
  // Items with a value typed or picked but not saved yet (a save clears its fields).
  function typedUnsaved() {
    return cfg.items.filter(function (it) { return value(it.code).trim() !== ""; });
  }

  // What is entered for an item: a field's value, or the answer picked in its group.
  function value(code) {
    var el = $("item-" + code);
    if (el) { return el.value; }
    var group = $("items").elements["item-" + code];
    return group ? group.value : "";
  }
  function clearValue(code) {
    var el = $("item-" + code);
    if (el) { el.value = ""; return; }
    var group = $("items").elements["item-" + code];
    if (group) { Array.prototype.forEach.call(group, function (r) { r.checked = false; }); }
  }
  // BMI from the values typed, else the values the session holds.
  function bmi() {
    var num = function (code) {
      var v = parseFloat(value(code));
      if (!isNaN(v)) { return v; }
      var h0 = held(code); return h0 ? parseFloat(h0.value) : NaN;
    };
    // Only where height and weight are measured.
    if (!itemOf["9N001000000000001"]) { return; }
    var h = num("9N001000000000001"), w = num("9N006000000000001");
    $("bmi").textContent = (h > 0 && w > 0) ? t("BMI（自動計算）", "BMI (derived)") + ": " + (Math.round(w / Math.pow(h / 100, 2) * 10) / 10) : "";
  }
  // The value the session holds (saved, or unsent) for an item, if any.
  function held(code) {
    var u = unsent().filter(function (e) { return e.body.body.payload.item_code === code; });
    if (u.length) { return { value: u[u.length - 1].body.body.payload.value, unsent: true, id: u[u.length - 1].id }; }
    var s = savedEntry(code);
    return s ? { value: s.value, unsent: false, id: s.event_id } : null;
  }
  // Save what is entered (only the items `only` names, when given).
  function save(only) {
    if (!current) { return; }
    clearFeedback();
    var s = current;
    var filled = cfg.items.filter(function (it) { return value(it.code).trim() !== "" && (!only || only.indexOf(it.code) >= 0); });
    if (!filled.length) { message(msg("nothing_to_save")); return; }
    if (quest) { closeAmends(); }
    var entries = [];
    for (var i = 0; i < filled.length; i++) {
      var it = filled[i], raw = value(it.code);
      // A free text is saved trimmed, within its length and without control characters.
      if (it.limits.max_chars) {
        raw = raw.trim();
        if (Array.from(raw).length > it.limits.max_chars) {
          message(t(nameOf(it) + ": " + it.limits.max_chars + "文字までです（" + Array.from(raw).length + "文字）",
            nameOf(it) + ": at most " + it.limits.max_chars + " characters (" + Array.from(raw).length + ")")); return;
        }
        if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(raw)) {
          message(t(nameOf(it) + ": 制御文字（タブなど）は使えません", nameOf(it) + ": control characters (such as tabs) are not allowed")); return;
        }
      }
      var v = chosen(it) ? raw : parseFloat(raw);
      // Refused: nothing of this save is sent, every typed value stays in its field and the
      // refused one is marked, so the nurse corrects it and saves them all again.
      if (!chosen(it) && (isNaN(v) || v < it.limits.min || v > it.limits.max)) {
        markInvalid(it.code);
        message(msg("out_of_range", { name: nameOf(it), value: raw, min: it.limits.min, max: it.limits.max })); return;
      }
      var h = held(it.code);
      if (h && h.unsent) { message(msg("unsent_item", { name: nameOf(it) })); return; }
      // The same answer again changes nothing.
      if (h && coded(it) && String(h.value) === v) { clearValue(it.code); continue; }
      entries.push({ item: it, value: v, previous: h });
    }
    if (!entries.length) { message(msg("nothing_to_save")); return; }
    // Paired values are checked together: each reading's systolic above its diastolic.
    var pairs = cfg.pairs || [];
    for (var k = 0; k < pairs.length; k++) {
      var get = function (code) {
        var e = entries.filter(function (x) { return x.item.code === code; })[0];
        if (e) { return e.value; }
        var h2 = held(code); return h2 ? h2.value : null;
      };
      var sys = get(pairs[k][0]), dia = get(pairs[k][1]);
      var touched = entries.some(function (x) { return x.item.code === pairs[k][0] || x.item.code === pairs[k][1]; });
      if (touched && typeof sys === "number" && typeof dia === "number" && sys <= dia) {
        message(msg("systolic_not_above_diastolic", { systolic: sys, diastolic: dia })); return;
      }
    }
    var unusual = entries.filter(function (e) {
      var it = e.item;
      if (chosen(it)) { return false; }
      var prev = lastYear[it.code] && parseFloat(lastYear[it.code].value);
      var far = it.code === "9N006000000000001" && prev > 0 && Math.abs(e.value - prev) / prev > 0.2;
      return e.value < it.limits.soft_min || e.value >= it.limits.soft_max || far;
    });
    var corrections = entries.filter(function (e) { return e.previous; });
    var step = Promise.resolve({ ok: true });
    if (unusual.length) {
      step = window.ceDialog({
        title: t("通常と大きく異なる値です", "Unusual values"),
        lines: [t("測り直して確かめましたか？", "Did you measure again to make sure?")],
        list: unusual.map(function (e) { return nameOf(e.item) + ": " + e.value + " " + e.item.unit; }),
        ok: t("確認して保存", "Confirmed: save")
      }).then(function (a) { unusual.forEach(function (e) { e.confirmed = a.ok; }); return a.ok ? a : { ok: false, why: "not_confirmed" }; });
    }
    var reason = "";
    step = step.then(function (a) {
      if (!a.ok || !corrections.length) { return a; }
      return window.ceDialog({
        title: t("保存済みの値の訂正", "Correcting a saved value"),
        list: corrections.map(function (e) { return nameOf(e.item) + ": " + shown(e.item.code, e.previous.value) + " → " + shown(e.item.code, e.value); }),
        reason: t("訂正の理由（必須）", "Reason (required)"),
        ok: t("訂正を保存", "Save correction")
      }).then(function (b) { reason = b.text; return b.ok ? b : { ok: false, why: "correction_cancelled" }; });
    });
    return step.then(function (a) {
      if (!a.ok) { message(msg(a.why)); return false; }
      var sends = entries.map(function (e) {
        var it = e.item, body;
        if (e.previous) {
          body = { id: uuid7(), body: { kind: "measurement_corrected", payload: {
            session_id: s.session_id, resident_id: s.resident_id, corrects: e.previous.id,
            item_code: it.code, value: e.value, unit: it.unit, reason: reason, confirmed: !!e.confirmed } } };
        } else {
          body = { id: uuid7(), body: { kind: "measurement_recorded", payload: {
            session_id: s.session_id, resident_id: s.resident_id, station: cfg.station,
            item_code: it.code, value: e.value, unit: it.unit, confirmed: !!e.confirmed } } };
        }
        // An answer the nurse records or amends was given by asking the resident (聞き取り),
        // in the language the nurse asked in.
        if (it.limits.answers) { body.body.payload.answered = { via: "interview", lang: interviewLang() }; }
        clearValue(it.code);
        if (quest && $("q-" + it.code).classList.contains("amending")) { toggleAmend(it.code); }
        return outbox.send("/api/events", body, { session: s.session_id }).then(function (r) { r.item = it; return r; });
      });
      bmi();
      renderRecord();
      if (!outbox.online()) { message(msg("offline")); }
      return Promise.all(sends).then(function (results) {
        if (current !== s) { return false; }
        var failed = results.filter(function (r) { return !r.ok; });
        clearFeedback();
        if (failed.length) { message(failed.map(function (r) { return refusal(r, r.item); }).join(" / ")); }
        else { status(t("保存しました", "Saved") + ": " + s.name); }
        loadRecord();
        return failed.length === 0;
      });
    });
  }
  function complete(missing) {
    if (!current) { return; }
    clearFeedback();
    var s = current;
    // Values typed but not saved are never dropped by a completion: the nurse saves them
    // first (the highlighted choice) or goes back.
    var typed = missing ? [] : typedUnsaved();
    if (typed.length) {
      var names = typed.map(nameOf);
      return window.ceDialog({
        title: t("入力したが保存されていない項目があります", "Typed but not saved"),
        lines: [t("次の項目は入力されていますが、まだ保存されていません。先に保存してください:",
          "These items are typed but not saved yet: save them first:")],
        list: names,
        ok: t("保存する", "Save them"),
        cancel: t("戻って入力する", "Back to entry"),
        safe: "ok"
      }).then(function (a) {
        if (!a.ok || current !== s) { return; }
        return Promise.resolve(save(typed.map(function (it) { return it.code; }))).then(function (saved) {
          if (saved && current === s && !typedUnsaved().length) { return complete(null); }
        });
      });
    }
    var payload = { session_id: s.session_id, resident_id: s.resident_id, station: cfg.station };
    if (missing) { payload.confirmed = true; payload.missing = missing; }
    var sent = outbox.send("/api/events", { id: uuid7(), body: { kind: "station_visited", payload: payload } }, { session: s.session_id });
    if (!outbox.online()) { message(msg("offline")); }
    return sent.then(function (r) {
      if (r.ok) {
        if (current === s) { $("entry").hidden = true; current = null; }
        clearFeedback();
        $("done-status").textContent = t("完了しました", "Completed") + ": " + s.name;
        return;
      }
      if (current !== s) { return; }
      clearFeedback();
      // A required answer is missing (問診): no confirmation covers it; the nurse asks first.
      if (r.body.error === "incomplete_station" && r.body.required && r.body.required.length) {
        if (quest) { markNeeded(r.body.required); } else { markNeededFields(r.body.required); }
        message(refusal(r));
        return;
      }
      // Something is missing: the box names it; staff confirm explicitly or go back.
      if (r.body.error === "incomplete_station" && !missing && r.body.missing) {
        return window.ceDialog({
          title: quest ? t("未回答の質問があります", "Questions are unanswered") : t("未入力の項目があります", "Items are missing"),
          lines: [quest ? t("次の質問が未回答のまま完了します:", "This completes 問診 without:") : t("次の項目が未入力のまま完了します:", "This completes the station without:")],
          list: r.body.missing.map(nameOfCode),
          ok: quest ? t("未回答のまま完了する", "Complete without these answers") : t("これらの値なしで完了する", "Complete without these values"),
          cancel: quest ? t("戻って聞き取る", "Back to the questions") : t("戻って入力する", "Back to entry"),
          safe: "cancel"
        }).then(function (a) { if (a.ok) { return complete(r.body.missing); } });
      }
      message(refusal(r));
    });
  }
  window.addEventListener("ce-outbox", function (e) {
    // A write answered after a reload (nobody on this page waited for it).
    if (e.detail.waited) { return; }
    if (!e.detail.answer.ok) { message(t("未送信だった記録が断られました: ", "An unsent record was refused: ") + refusal(e.detail.answer)); }
    if (current) { loadRecord(); }
  });
  window.addEventListener("ce-outbox-held", function () { if (current && !$("entry-status").textContent) { message(msg("offline")); } });
  $("save").hidden = cfg.items.length === 0;
  $("save").addEventListener("click", function () { save(null); });
  $("done").addEventListener("click", function () { complete(null); });
  // A venue card tapped on this box's reader selects its resident.
  var cards = new EventSource("/api/card/events");
  cards.onmessage = function (m) {
    var e = JSON.parse(m.data);
    if (e.type !== "card_present") { return; }
    fetch("/api/station/tap", { method: "POST" }).then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) { if (res[0]) { select(res[1]); } else { $("entry").hidden = false; message(msg(res[1].error || "unknown")); } })
      .catch(function () { message(msg("offline")); });
  };
  var es = new EventSource("/api/board/events");
  // Every board update (a check-in, a completion, anywhere in the venue) reads the list again.
  es.onmessage = function () { loadDue(); };
})();
