//! 特定健診 claims (決済情報): what a municipality acting as 健診機関 bills the insurer for each
//! checkup, as cc08 `checkupClaim` files (`CLAIMS/c….xml`, one per examinee) and the su08
//! `summary` (`su08_V08.xml`) whose totals are the sums of the claims.
//!
//! The amounts follow from what was done and the configured prices ([`ClaimPricing`],
//! `[tokutei.claims]`):
//! - 基本的な健診 (unitPriceBasic) always;
//! - each 詳細な健診 (別表8: 1 貧血, 2 心電図, 3 眼底, 4 血清クレアチニン) only when one of its
//!   result items (status `2` and relation `COMP` in the item table's 一連検査グループ) is
//!   recorded with a value or as 測定不可 (done, no value) — not when 未実施 — so the claim
//!   matches the DATA file; 請求区分 is then 2 (基本＋詳細), else 1 (基本のみ);
//! - 窓口負担 (別表6: 1 負担なし, 2 定額, 3 定率) for the basic and the detailed part, a rate
//!   rounded down to the yen;
//! - the amount another program pays (paymentByOtherProgram, e.g. a jointly held がん検診);
//! - claimAmount = unitAmount − paymentAmount − paymentByOtherProgram, all whole yen.
//!
//! [`check_claim`] and [`check_summary`] recompute those sums on what is written (or read
//! back) and report every mismatch in Japanese.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::archive::MHLW_NS;
use super::cda::{
    OID_BRANCH, OID_INSTITUTION, OID_INSURER, OID_NUMBER, OID_SYMBOL, XSI_NS, Xml, yyyymmdd,
};
use super::items::{ItemStatus, ItemTable};
use super::model::{Examinee, ObsValue, Sender};

/// The summary file in the archive's root folder (only with claims).
pub const SUMMARY_FILE: &str = "su08_V08.xml";
/// A CLAIMS file's schemaLocation (the file sits in `CLAIMS/`, as DATA files in `DATA/`).
pub const CC08_SCHEMA_LOCATION: &str =
    "https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html ../XSD/cc08_V08.xsd";
/// The summary's schemaLocation (root folder, as the index).
pub const SU08_SCHEMA_LOCATION: &str =
    "https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html ./XSD/su08_V08.xsd";
/// 受診券整理番号 in cc08 (`checkupCardOid`).
pub const OID_CHECKUP_CARD: &str = "1.2.392.200119.6.209";
/// Largest 窓口負担 amount (`chargeMonetaryAmount`: 6 digits).
pub const MAX_CHARGE: u64 = 999_999;
/// Largest total (`totalMonetaryAmount`: 9 digits).
pub const MAX_TOTAL: u64 = 999_999_999;

/// 詳細な健診の項目 (別表8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DetailTest {
    /// 1 貧血検査.
    Anaemia,
    /// 2 心電図検査.
    Ecg,
    /// 3 眼底検査.
    Fundus,
    /// 4 血清クレアチニン検査 (with eGFR).
    Creatinine,
}

impl DetailTest {
    /// All four, in code order.
    pub const ALL: [DetailTest; 4] = [
        DetailTest::Anaemia,
        DetailTest::Ecg,
        DetailTest::Fundus,
        DetailTest::Creatinine,
    ];

    /// The code (別表8).
    pub fn code(self) -> &'static str {
        match self {
            DetailTest::Anaemia => "1",
            DetailTest::Ecg => "2",
            DetailTest::Fundus => "3",
            DetailTest::Creatinine => "4",
        }
    }

    /// The test of a code.
    pub fn from_code(code: &str) -> Option<DetailTest> {
        DetailTest::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The Japanese name.
    pub fn name_ja(self) -> &'static str {
        match self {
            DetailTest::Anaemia => "貧血検査",
            DetailTest::Ecg => "心電図検査",
            DetailTest::Fundus => "眼底検査",
            DetailTest::Creatinine => "血清クレアチニン検査",
        }
    }

    /// The configuration key of its price (`[tokutei.claims.detail_prices]`).
    pub fn config_key(self) -> &'static str {
        match self {
            DetailTest::Anaemia => "anaemia",
            DetailTest::Ecg => "ecg",
            DetailTest::Fundus => "fundus",
            DetailTest::Creatinine => "creatinine",
        }
    }

    /// The 一連検査グループ of its items in the item table.
    fn group(self) -> &'static str {
        match self {
            DetailTest::Anaemia => "2A020161001930149",
            DetailTest::Ecg => "9A110161000000049",
            DetailTest::Fundus => "9E100161000000049",
            DetailTest::Creatinine => "3C015161002399949",
        }
    }

    /// The test whose result item `code` is: a 詳細 item (status `2`) that is a member
    /// (`COMP`) of the test's group — not its 対象者 or 実施理由.
    pub fn of_item(table: &ItemTable, code: &str) -> Option<DetailTest> {
        let item = table.get(code)?;
        if item.status != ItemStatus::Detailed || item.group_relation.as_deref() != Some("COMP") {
            return None;
        }
        let group = item.group.as_deref()?;
        DetailTest::ALL.into_iter().find(|t| t.group() == group)
    }
}

/// 委託料単価区分 (別表15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommissionType {
    /// 1 個別健診.
    Individual,
    /// 2 集団健診.
    Group,
}

impl CommissionType {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            CommissionType::Individual => "1",
            CommissionType::Group => "2",
        }
    }

    /// The type of a code.
    pub fn from_code(code: &str) -> Option<CommissionType> {
        match code {
            "1" => Some(CommissionType::Individual),
            "2" => Some(CommissionType::Group),
            _ => None,
        }
    }
}

/// 窓口負担 (別表6, codes 1–3): what the resident pays at the venue for a part of the
/// checkup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copayment {
    /// 1 負担なし.
    None,
    /// 2 定額負担: this many yen.
    Amount(u64),
    /// 3 定率負担: the rate in thousandths of a percent, as written (`030000` = 30 %).
    Rate(u64),
}

impl Copayment {
    /// The code (別表6).
    pub fn code(self) -> &'static str {
        match self {
            Copayment::None => "1",
            Copayment::Amount(_) => "2",
            Copayment::Rate(_) => "3",
        }
    }

    /// What the resident pays of `cost` yen: nothing, the fixed amount (never more than the
    /// cost) or the rate of the cost rounded down to the yen.
    pub fn charge(self, cost: u64) -> u64 {
        match self {
            Copayment::None => 0,
            Copayment::Amount(a) => a.min(cost),
            Copayment::Rate(r) => cost.saturating_mul(r) / 100_000,
        }
    }
}

/// What the municipality bills per checkup (`[tokutei.claims]`, checked by the
/// configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPricing {
    /// 委託料単価区分.
    pub commission_type: CommissionType,
    /// 単価（基本的な健診）, yen.
    pub basic_price: u64,
    /// 単価（詳細な健診） by test, yen; a test done without a price here is a failure.
    pub detail_prices: BTreeMap<DetailTest, u64>,
    /// 窓口負担（基本的な健診）.
    pub copayment_basic: Copayment,
    /// 窓口負担（詳細な健診）: once per checkup with any detailed test.
    pub copayment_detail: Copayment,
    /// 他制度負担額 per checkup (paymentByOtherProgram), yen; 0 writes none.
    pub paid_by_other_program: u64,
}

/// One examinee's claim: the settlement as written in cc08 (and read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// 請求区分 (別表7): 1 基本的な健診のみ, 2 基本的な健診＋詳細な健診.
    pub claim_type: u8,
    /// 委託料単価区分.
    pub commission_type: CommissionType,
    /// 単価（基本的な健診）.
    pub basic_price: u64,
    /// 単価（詳細な健診）, per test done.
    pub detail_prices: Vec<(DetailTest, u64)>,
    /// 窓口負担（基本的な健診） as charged.
    pub copayment_basic: Copayment,
    /// 窓口負担（詳細な健診）, with any detailed test.
    pub copayment_detail: Option<Copayment>,
    /// 窓口負担金額（基本的な健診）.
    pub payment_basic: u64,
    /// 窓口負担金額（詳細な健診）, with any detailed test.
    pub payment_detail: Option<u64>,
    /// 単価合計金額 (unitAmount): the cost.
    pub unit_amount: u64,
    /// 窓口負担金額 (paymentAmount).
    pub payment_amount: u64,
    /// 他制度負担額 (paymentByOtherProgram).
    pub paid_by_other_program: u64,
    /// 請求金額 (claimAmount).
    pub claim_amount: u64,
}

/// The summary (su08): totals over the claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// 実施区分 (1 特定健診).
    pub service_event_type: u8,
    /// 対象者数合計.
    pub subject_count: u64,
    /// 単価合計金額の総計.
    pub total_cost: u64,
    /// 窓口負担金額の総計.
    pub total_payment: u64,
    /// 他制度負担額の総計 (written when not 0).
    pub total_paid_by_other_program: u64,
    /// 請求金額の総計.
    pub total_claim: u64,
}

impl Summary {
    /// The totals of `claims`.
    pub fn of(service_event_type: u8, claims: &[Claim]) -> Summary {
        let sum = |f: fn(&Claim) -> u64| claims.iter().map(f).sum();
        Summary {
            service_event_type,
            subject_count: claims.len() as u64,
            total_cost: sum(|c| c.unit_amount),
            total_payment: sum(|c| c.payment_amount),
            total_paid_by_other_program: sum(|c| c.paid_by_other_program),
            total_claim: sum(|c| c.claim_amount),
        }
    }
}

/// The detailed tests done for an examinee: a result item recorded with a value or as
/// 測定不可, not as 未実施.
pub fn detail_tests_done(ex: &Examinee, table: &ItemTable) -> Vec<DetailTest> {
    let mut done: Vec<DetailTest> = ex
        .observations
        .iter()
        .filter(|o| o.value != ObsValue::NotDone)
        .filter_map(|o| DetailTest::of_item(table, &o.code17))
        .collect();
    done.sort();
    done.dedup();
    done
}

/// One examinee's claim from what was done, or why it cannot be made (a detailed test
/// without a configured price), in Japanese with the item's code.
pub fn compute_claim(
    ex: &Examinee,
    table: &ItemTable,
    pricing: &ClaimPricing,
) -> Result<Claim, Vec<(DetailTest, String)>> {
    let done = detail_tests_done(ex, table);
    let mut missing = Vec::new();
    let mut detail_prices = Vec::new();
    for t in &done {
        match pricing.detail_prices.get(t) {
            Some(p) => detail_prices.push((*t, *p)),
            None => missing.push((
                *t,
                format!(
                    "{}を実施していますが単価が設定（tokutei.claims.detail_prices.{}）にありません",
                    t.name_ja(),
                    t.config_key()
                ),
            )),
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let detail_cost: u64 = detail_prices.iter().map(|(_, p)| p).sum();
    let payment_basic = pricing.copayment_basic.charge(pricing.basic_price);
    let (copayment_detail, payment_detail) = if detail_prices.is_empty() {
        (None, None)
    } else {
        (
            Some(pricing.copayment_detail),
            Some(pricing.copayment_detail.charge(detail_cost)),
        )
    };
    let unit_amount = pricing.basic_price + detail_cost;
    let payment_amount = payment_basic + payment_detail.unwrap_or(0);
    let other = pricing
        .paid_by_other_program
        .min(unit_amount.saturating_sub(payment_amount));
    Ok(Claim {
        claim_type: if detail_prices.is_empty() { 1 } else { 2 },
        commission_type: pricing.commission_type,
        basic_price: pricing.basic_price,
        detail_prices,
        copayment_basic: pricing.copayment_basic,
        copayment_detail,
        payment_basic,
        payment_detail,
        unit_amount,
        payment_amount,
        paid_by_other_program: other,
        claim_amount: unit_amount - payment_amount - other,
    })
}

/// Every inconsistency of a claim, in Japanese (none: it adds up).
pub fn check_claim(c: &Claim) -> Vec<String> {
    let mut out = Vec::new();
    let cost = c.basic_price + c.detail_prices.iter().map(|(_, p)| p).sum::<u64>();
    if c.unit_amount != cost {
        out.push(format!(
            "単価合計金額 {} 円が単価の合計 {cost} 円と一致しません",
            c.unit_amount
        ));
    }
    let paid = c.payment_basic + c.payment_detail.unwrap_or(0);
    if c.payment_amount != paid {
        out.push(format!(
            "窓口負担金額 {} 円が基本的な健診と詳細な健診の窓口負担の合計 {paid} 円と一致しません",
            c.payment_amount
        ));
    }
    if c.payment_amount > c.unit_amount {
        out.push(format!(
            "窓口負担金額 {} 円が単価合計金額 {} 円を超えています",
            c.payment_amount, c.unit_amount
        ));
    }
    let rest = c
        .unit_amount
        .checked_sub(c.payment_amount)
        .and_then(|r| r.checked_sub(c.paid_by_other_program));
    match rest {
        Some(r) if r == c.claim_amount => {}
        Some(r) => out.push(format!(
            "請求金額 {} 円が単価合計金額 − 窓口負担金額 − 他制度負担額（{r} 円）と一致しません",
            c.claim_amount
        )),
        None => out.push(format!(
            "窓口負担金額 {} 円と他制度負担額 {} 円の合計が単価合計金額 {} 円を超えています",
            c.payment_amount, c.paid_by_other_program, c.unit_amount
        )),
    }
    let has_detail = !c.detail_prices.is_empty();
    if (c.claim_type == 2) != has_detail || !(1..=2).contains(&c.claim_type) {
        out.push(format!(
            "請求区分 {} が実施した健診（詳細な健診{}）と合いません",
            c.claim_type,
            if has_detail { "あり" } else { "なし" }
        ));
    }
    if has_detail != c.payment_detail.is_some() {
        out.push("詳細な健診の窓口負担金額の有無が詳細な健診の単価と合いません".into());
    }
    for (name, v) in [
        ("窓口負担金額（基本的な健診）", c.payment_basic),
        ("窓口負担金額（詳細な健診）", c.payment_detail.unwrap_or(0)),
    ] {
        if v > MAX_CHARGE {
            out.push(format!("{name} {v} 円が6桁を超えています"));
        }
    }
    for (name, v) in [
        ("単価合計金額", c.unit_amount),
        ("請求金額", c.claim_amount),
    ] {
        if v > MAX_TOTAL {
            out.push(format!("{name} {v} 円が9桁を超えています"));
        }
    }
    out
}

/// Every total of `summary` that is not the sum over `claims`, in Japanese.
pub fn check_summary(summary: &Summary, claims: &[Claim]) -> Vec<String> {
    let want = Summary::of(summary.service_event_type, claims);
    let mut out = Vec::new();
    for (name, got, sum, unit) in [
        ("対象者数", summary.subject_count, want.subject_count, "名"),
        (
            "単価合計金額の総計",
            summary.total_cost,
            want.total_cost,
            "円",
        ),
        (
            "窓口負担金額の総計",
            summary.total_payment,
            want.total_payment,
            "円",
        ),
        (
            "他制度負担額の総計",
            summary.total_paid_by_other_program,
            want.total_paid_by_other_program,
            "円",
        ),
        (
            "請求金額の総計",
            summary.total_claim,
            want.total_claim,
            "円",
        ),
    ] {
        if got != sum {
            out.push(format!(
                "集計情報の{name} {got} {unit}が請求ファイルの合計 {sum} {unit}と一致しません"
            ));
        }
    }
    for (name, v) in [
        ("単価合計金額の総計", summary.total_cost),
        ("請求金額の総計", summary.total_claim),
    ] {
        if v > MAX_TOTAL {
            out.push(format!("集計情報の{name} {v} 円が9桁を超えています"));
        }
    }
    out
}

fn charge6(v: u64) -> String {
    format!("{v:06}")
}

fn charge_type(x: &mut Xml, tag: &str, c: Copayment) -> std::io::Result<()> {
    match c {
        Copayment::None => x.empty(tag, &[("code", c.code())]),
        Copayment::Amount(a) => {
            x.start(tag, &[("code", c.code())])?;
            x.empty("amount", &[("value", &charge6(a)), ("currency", "JPY")])?;
            x.end(tag)
        }
        Copayment::Rate(r) => {
            x.start(tag, &[("code", c.code())])?;
            x.empty("rate", &[("value", &charge6(r)), ("unit", "%")])?;
            x.end(tag)
        }
    }
}

fn total(x: &mut Xml, tag: &str, v: u64) -> std::io::Result<()> {
    x.empty(tag, &[("value", &v.to_string()), ("currency", "JPY")])
}

/// Why a claim file cannot be written for an examinee (fields cc08 requires).
#[derive(Debug, thiserror::Error)]
pub enum ClaimWriteError {
    /// cc08 requires the examinee's postal code (addr/postalCode).
    #[error("郵便番号がありません（請求ファイルの住所には郵便番号が必須です）")]
    NoPostalCode,
    /// Writing the XML failed.
    #[error("writing XML: {0}")]
    Xml(#[from] std::io::Error),
}

/// One examinee's cc08 `checkupClaim`.
pub fn write_claim(
    ex: &Examinee,
    sender: &Sender,
    service_event_type: u8,
    claim: &Claim,
) -> Result<Vec<u8>, ClaimWriteError> {
    let postal = ex
        .postal_code
        .as_deref()
        .ok_or(ClaimWriteError::NoPostalCode)?;
    let mut x = Xml::new()?;
    x.start(
        "checkupClaim",
        &[
            ("xmlns", MHLW_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", CC08_SCHEMA_LOCATION),
        ],
    )?;
    let set = service_event_type.to_string();
    x.start("encounter", &[])?;
    x.empty("serviceEventType", &[("code", &set)])?;
    x.end("encounter")?;

    x.start("subjectPerson", &[])?;
    x.start("performerOrganization", &[])?;
    x.empty(
        "id",
        &[
            ("root", OID_INSTITUTION),
            ("extension", &sender.institution_number),
        ],
    )?;
    x.end("performerOrganization")?;
    x.start("insuranceCard", &[])?;
    x.empty(
        "insurerNumber",
        &[
            ("root", OID_INSURER),
            ("extension", &ex.insurer.padded_insurer_number()),
        ],
    )?;
    if let Some(s) = &ex.insurer.symbol {
        x.empty("symbol", &[("root", OID_SYMBOL), ("extension", s)])?;
    }
    x.empty(
        "number",
        &[("root", OID_NUMBER), ("extension", &ex.insurer.number)],
    )?;
    if let Some(b) = &ex.insurer.branch {
        x.empty("branchCode", &[("root", OID_BRANCH), ("extension", b)])?;
    }
    x.end("insuranceCard")?;
    x.text_element("name", &[], &ex.name_kana)?;
    x.start("addr", &[])?;
    x.text_element("postalCode", &[], postal)?;
    if let Some(a) = &ex.address {
        x.text(a)?;
    }
    x.end("addr")?;
    x.empty("birthTime", &[("value", &yyyymmdd(ex.birth_date))])?;
    x.empty("administrativeGender", &[("code", ex.sex.code())])?;
    x.end("subjectPerson")?;

    x.start("checkupCard", &[])?;
    if let Some(t) = &ex.insurer.ticket_number {
        x.empty("id", &[("root", OID_CHECKUP_CARD), ("extension", t)])?;
    }
    if let Some(d) = ex.insurer.ticket_expiry {
        x.start("effectiveTime", &[])?;
        x.empty("high", &[("value", &yyyymmdd(d))])?;
        x.end("effectiveTime")?;
    }
    charge_type(&mut x, "chargeTypeBasic", claim.copayment_basic)?;
    if let Some(c) = claim.copayment_detail {
        charge_type(&mut x, "chargeTypeDetail", c)?;
    }
    x.end("checkupCard")?;

    x.start("settlement", &[])?;
    x.empty("claimType", &[("code", &claim.claim_type.to_string())])?;
    x.empty("commissionType", &[("code", claim.commission_type.code())])?;
    x.start("unitPriceBasic", &[])?;
    total(&mut x, "amount", claim.basic_price)?;
    x.end("unitPriceBasic")?;
    for (t, p) in &claim.detail_prices {
        x.start("unitPriceDetail", &[])?;
        total(&mut x, "amount", *p)?;
        x.empty("observation", &[("code", t.code())])?;
        x.end("unitPriceDetail")?;
    }
    x.start("paymentForBasic", &[])?;
    x.empty(
        "amount",
        &[
            ("value", &charge6(claim.payment_basic)),
            ("currency", "JPY"),
        ],
    )?;
    x.end("paymentForBasic")?;
    if let Some(p) = claim.payment_detail {
        x.start("paymentForDetail", &[])?;
        x.empty("amount", &[("value", &charge6(p)), ("currency", "JPY")])?;
        x.end("paymentForDetail")?;
    }
    total(&mut x, "unitAmount", claim.unit_amount)?;
    total(&mut x, "paymentAmount", claim.payment_amount)?;
    if claim.paid_by_other_program > 0 {
        total(&mut x, "paymentByOtherProgram", claim.paid_by_other_program)?;
    }
    total(&mut x, "claimAmount", claim.claim_amount)?;
    x.end("settlement")?;
    x.end("checkupClaim")?;
    Ok(x.finish())
}

/// The su08 `summary`.
pub fn write_summary(s: &Summary) -> Result<Vec<u8>, std::io::Error> {
    let mut x = Xml::new()?;
    x.start(
        "summary",
        &[
            ("xmlns", MHLW_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", SU08_SCHEMA_LOCATION),
        ],
    )?;
    x.empty(
        "serviceEventType",
        &[("code", &s.service_event_type.to_string())],
    )?;
    x.empty(
        "totalSubjectCount",
        &[("value", &s.subject_count.to_string())],
    )?;
    total(&mut x, "totalCostAmount", s.total_cost)?;
    total(&mut x, "totalPaymentAmount", s.total_payment)?;
    if s.total_paid_by_other_program > 0 {
        total(
            &mut x,
            "totalPaymentByOtherProgram",
            s.total_paid_by_other_program,
        )?;
    }
    total(&mut x, "totalClaimAmount", s.total_claim)?;
    x.end("summary")?;
    Ok(x.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(pricing: &ClaimPricing, details: &[(DetailTest, u64)]) -> Claim {
        let detail_cost: u64 = details.iter().map(|(_, p)| p).sum();
        let payment_basic = pricing.copayment_basic.charge(pricing.basic_price);
        let payment_detail =
            (!details.is_empty()).then(|| pricing.copayment_detail.charge(detail_cost));
        let unit = pricing.basic_price + detail_cost;
        let paid = payment_basic + payment_detail.unwrap_or(0);
        Claim {
            claim_type: if details.is_empty() { 1 } else { 2 },
            commission_type: pricing.commission_type,
            basic_price: pricing.basic_price,
            detail_prices: details.to_vec(),
            copayment_basic: pricing.copayment_basic,
            copayment_detail: (!details.is_empty()).then_some(pricing.copayment_detail),
            payment_basic,
            payment_detail,
            unit_amount: unit,
            payment_amount: paid,
            paid_by_other_program: pricing.paid_by_other_program,
            claim_amount: unit - paid - pricing.paid_by_other_program,
        }
    }

    fn pricing() -> ClaimPricing {
        ClaimPricing {
            commission_type: CommissionType::Group,
            basic_price: 7_150,
            detail_prices: BTreeMap::new(),
            copayment_basic: Copayment::Rate(30_000),
            copayment_detail: Copayment::Amount(500),
            paid_by_other_program: 100,
        }
    }

    #[test]
    fn rates_round_down_to_the_yen_and_amounts_never_exceed_the_cost() {
        assert_eq!(Copayment::Rate(30_000).charge(7_150), 2_145);
        assert_eq!(Copayment::Rate(33_333).charge(1_000), 333);
        assert_eq!(Copayment::Rate(100_000).charge(1_000), 1_000);
        assert_eq!(Copayment::Amount(500).charge(300), 300);
        assert_eq!(Copayment::None.charge(300), 0);
    }

    #[test]
    fn a_consistent_claim_passes_and_each_wrong_sum_is_named() {
        let p = pricing();
        let ok = claim(&p, &[(DetailTest::Ecg, 1_300)]);
        assert_eq!(check_claim(&ok), Vec::<String>::new());
        assert_eq!(ok.claim_amount, 8_450 - 2_145 - 500 - 100);

        let mut bad = ok.clone();
        bad.claim_amount += 1;
        assert!(check_claim(&bad).iter().any(|m| m.contains("請求金額")));
        let mut bad = ok.clone();
        bad.unit_amount -= 1;
        assert!(check_claim(&bad).iter().any(|m| m.contains("単価合計金額")));
        let mut bad = ok.clone();
        bad.claim_type = 1;
        assert!(check_claim(&bad).iter().any(|m| m.contains("請求区分")));
        let mut bad = ok;
        bad.payment_basic = 9_000;
        bad.payment_amount = 9_500;
        assert!(check_claim(&bad).iter().any(|m| m.contains("超えています")));
    }

    #[test]
    fn summary_totals_must_equal_the_sums() {
        let p = pricing();
        let claims = vec![claim(&p, &[]), claim(&p, &[(DetailTest::Fundus, 1_100)])];
        let s = Summary::of(1, &claims);
        assert_eq!(s.subject_count, 2);
        assert_eq!(s.total_cost, 7_150 * 2 + 1_100);
        assert!(check_summary(&s, &claims).is_empty());
        let mut wrong = s;
        wrong.total_claim += 10;
        let m = check_summary(&wrong, &claims);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("請求金額の総計"), "{m:?}");
    }
}
