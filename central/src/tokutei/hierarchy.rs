//! 階層化: the メタボリックシンドローム判定 (item 9N501, OID .1008) and the 保健指導レベル
//! (item 9N506, OID .3001) of one checkup, derived from its values by the 第4期 (FY2024–)
//! rules. Pure: no I/O; the caller gathers the [`Facts`] and writes the codes.
//!
//! # Sources
//!
//! - **[P]** MHLW, 標準的な健診・保健指導プログラム（令和6年度版）, 第2編 第3章
//!   「保健指導対象者の選定と階層化」, ステップ1–4 (the text put to the revision working group
//!   on 2023-03-07, pp. 47–48, <https://www.mhlw.go.jp/stf/newpage_31652.html>).
//! - **[W]** 第4期特定健診・特定保健指導の見直しに関する検討会 技術的事項WG (2022-05-31),
//!   資料3-2 p. 2, the footnote on blood sugar: when both 空腹時血糖 and HbA1c were measured the
//!   空腹時血糖 decides; 随時血糖 only when not fasting and no HbA1c was measured.
//! - **[M]** メタボリックシンドローム判定 as 特定健診 reports it (日本内科学会等8学会, 2005):
//!   waist over the threshold and two or more of 血圧・脂質・血糖, each also met by taking
//!   medication for it; blood sugar 110 mg/dL (空腹時又は随時), HbA1c 6.0 % only when no
//!   blood sugar was measured (as stated by 特定健診 providers: 日本予防医学協会
//!   jpm1960.org/exam/exam15.html, 東京大学保健センター hc.u-tokyo.ac.jp).
//! - **[Q]** 標準的な質問票 #8 喫煙 (9N736, OID .24060): 1 はい, 2 以前は吸っていたが最近1ヶ月間は
//!   吸っていない, 3 いいえ. Only 1 is 喫煙歴あり (`../shared/standards/FACTS.md`).
//!
//! # 判定不能
//!
//! Each rule is written once over facts known to be yes or no ([`metabolic_rule`],
//! [`guidance_rule`]). A missing value (or one that is not a finite number) leaves its fact
//! unknown; [`stratify`] tries every yes/no combination of the unknown facts and gives the
//! judgement only when all of them agree, otherwise 判定不能 naming the facts that matter.
//! So missing data never changes a judgement it does not affect: waist under the threshold
//! and BMI under 25 is なし whatever the blood tests; someone on medication is なし
//! whatever is missing; no waist with any risk present is 判定不能.
//!
//! Not covered: 内臓脂肪面積 in place of the waist (the standard's alternative, 100 cm²).

/// 特定健診項目コード of メタボリックシンドローム判定.
pub const METABOLIC_ITEM_CODE: &str = "9N501000000000011";
/// Result code system of メタボリックシンドローム判定.
pub const METABOLIC_CODE_SYSTEM: &str = "1.2.392.200119.6.1008";
/// 特定健診項目コード of 保健指導レベル.
pub const GUIDANCE_ITEM_CODE: &str = "9N506000000000011";
/// Result code system of 保健指導レベル.
pub const GUIDANCE_CODE_SYSTEM: &str = "1.2.392.200119.6.3001";

// Thresholds. [P] ステップ1: 腹囲 男性85cm以上、女性90cm以上 → (1); (1)以外 かつ BMI≧25 → (2).
const WAIST_MALE_CM: f64 = 85.0;
const WAIST_FEMALE_CM: f64 = 90.0;
const BMI_MIN: f64 = 25.0;
// [P] ステップ2 ① 血圧高: 収縮期血圧130mmHg以上 又は 拡張期血圧85mmHg以上 (and [M], the same).
const SYSTOLIC_MIN: f64 = 130.0;
const DIASTOLIC_MIN: f64 = 85.0;
// [P] ② 脂質異常: 空腹時中性脂肪150mg/dl以上（やむを得ない場合は随時中性脂肪175mg/dl以上）
// 又は HDLコレステロール40mg/dl未満. 空腹時 = 絶食10時間以上 (9N141 code 2).
// [M] uses the same lipid thresholds; the casual 175 is applied there too (第4期).
const TG_FASTING_MIN: f64 = 150.0;
const TG_CASUAL_MIN: f64 = 175.0;
const HDL_BELOW: f64 = 40.0;
// [P] ③ 血糖高値: 空腹時血糖（やむを得ない場合は随時血糖）100mg/dl以上 又は HbA1c(NGSP)5.6%以上;
// [W] 空腹時血糖 first, then HbA1c, then 随時血糖.
const GLUCOSE_GUIDANCE_MIN: f64 = 100.0;
const HBA1C_GUIDANCE_MIN: f64 = 5.6;
// [M] 血糖 110mg/dL以上 (空腹時, else 随時), HbA1c(NGSP) 6.0%以上 only without either.
const GLUCOSE_METABOLIC_MIN: f64 = 110.0;
const HBA1C_METABOLIC_MIN: f64 = 6.0;
// [P] ステップ4: 65歳以上75歳未満の者については「積極的支援」の対象となった場合でも
// 「動機付け支援」とする. The age is the one reached by the end of the fiscal year (March 31).
const AGE_CAP: u32 = 65;

/// Sex as the standard records it (administrativeGenderCode, OID .1104: 1 男, 2 女).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// 男性: waist threshold 85 cm.
    Male,
    /// 女性: waist threshold 90 cm.
    Female,
}

/// The answer to 標準的な質問票 #8 (9N736, OID .24060).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Smoking {
    /// 1 はい: smokes now (最近1ヶ月間吸っている and 生涯で6ヶ月以上又は合計100本以上).
    Current,
    /// 2 以前は吸っていたが最近1ヶ月間は吸っていない: not a smoker for 階層化.
    QuitLastMonth,
    /// 3 いいえ.
    Never,
}

impl Smoking {
    /// The answer for its result code `"1"`, `"2"` or `"3"`; `None` for any other text.
    pub fn from_code(code: &str) -> Option<Smoking> {
        match code {
            "1" => Some(Smoking::Current),
            "2" => Some(Smoking::QuitLastMonth),
            "3" => Some(Smoking::Never),
            _ => None,
        }
    }
}

/// What 階層化 reads from one checkup. `None` is "not measured / not answered"; a value
/// that is not a finite number counts as missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    /// Chooses the waist threshold.
    pub sex: Sex,
    /// Age on March 31 of the checkup's fiscal year: 65 and over caps 積極的支援.
    pub age_at_fiscal_year_end: u32,
    /// 腹囲 in cm (実測, 自己測定 or 自己申告).
    pub waist_cm: Option<f64>,
    /// BMI in kg/m², used when the waist is under the threshold.
    pub bmi: Option<f64>,
    /// 収縮期血圧 in mmHg: the average of two readings if two were taken, else the one.
    pub systolic: Option<f64>,
    /// 拡張期血圧 in mmHg, averaged the same way.
    pub diastolic: Option<f64>,
    /// 中性脂肪 in mg/dL.
    pub triglycerides_mg_dl: Option<f64>,
    /// Whether the triglycerides were fasting (採血時間 10 h or more, 9N141 = 2) or casual
    /// (9N141 = 3 or 4); decides the threshold, 150 or 175 mg/dL.
    pub triglycerides_fasting: Option<bool>,
    /// HDLコレステロール in mg/dL.
    pub hdl_mg_dl: Option<f64>,
    /// 空腹時血糖 in mg/dL: decides blood sugar when present.
    pub fasting_glucose: Option<f64>,
    /// 随時血糖 in mg/dL (not taken 食直後, i.e. 3.5 h or more after a meal began).
    pub casual_glucose: Option<f64>,
    /// HbA1c (NGSP) in %.
    pub hba1c_ngsp: Option<f64>,
    /// 質問票 #8: only [`Smoking::Current`] is a risk.
    pub smoking: Option<Smoking>,
    /// 質問票 #1 血圧を下げる薬 (9N701): `Some(true)` for はい.
    pub med_bp: Option<bool>,
    /// 質問票 #2 血糖を下げる薬又はインスリン注射 (9N706).
    pub med_glucose: Option<bool>,
    /// 質問票 #3 コレステロールや中性脂肪を下げる薬 (9N711).
    pub med_lipid: Option<bool>,
}

/// メタボリックシンドローム判定 (OID 1.2.392.200119.6.1008).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetabolicJudgement {
    /// 1 基準該当: waist over and two or more of 血圧・脂質・血糖.
    Criteria,
    /// 2 予備群該当: waist over and exactly one.
    Reserve,
    /// 3 非該当.
    NotApplicable,
    /// 4 判定不能: missing data could change the outcome.
    Undecidable,
}

impl MetabolicJudgement {
    /// The result code, `"1"` to `"4"`.
    pub fn code(self) -> &'static str {
        match self {
            MetabolicJudgement::Criteria => "1",
            MetabolicJudgement::Reserve => "2",
            MetabolicJudgement::NotApplicable => "3",
            MetabolicJudgement::Undecidable => "4",
        }
    }

    /// The standard's Japanese name.
    pub fn label_ja(self) -> &'static str {
        match self {
            MetabolicJudgement::Criteria => "基準該当",
            MetabolicJudgement::Reserve => "予備群該当",
            MetabolicJudgement::NotApplicable => "非該当",
            MetabolicJudgement::Undecidable => "判定不能",
        }
    }
}

/// 保健指導レベル (OID 1.2.392.200119.6.3001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuidanceLevel {
    /// 1 積極的支援.
    Active,
    /// 2 動機付け支援.
    Motivational,
    /// 3 なし（情報提供）: no risk enough, or on medication (not a 特定保健指導 subject).
    InformationOnly,
    /// 4 判定不能: missing data could change the level.
    Undecidable,
}

impl GuidanceLevel {
    /// The result code, `"1"` to `"4"`.
    pub fn code(self) -> &'static str {
        match self {
            GuidanceLevel::Active => "1",
            GuidanceLevel::Motivational => "2",
            GuidanceLevel::InformationOnly => "3",
            GuidanceLevel::Undecidable => "4",
        }
    }

    /// The standard's Japanese name.
    pub fn label_ja(self) -> &'static str {
        match self {
            GuidanceLevel::Active => "積極的支援",
            GuidanceLevel::Motivational => "動機付け支援",
            GuidanceLevel::InformationOnly => "なし（情報提供）",
            GuidanceLevel::Undecidable => "判定不能",
        }
    }
}

/// The outcome of [`stratify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stratification {
    /// メタボリックシンドローム判定, for 9N501.
    pub metabolic: MetabolicJudgement,
    /// 保健指導レベル, for 9N506.
    pub guidance: GuidanceLevel,
    /// In Japanese, for the record page: which criteria counted, and for 判定不能 which
    /// missing values decide it.
    pub reasons: Vec<String>,
}

/// The メタボ判定 over known facts [M]: waist over the threshold, then the count of
/// 血圧・脂質・血糖 met (medication for one meets it): 2 or more 基準該当, 1 予備群該当.
pub fn metabolic_rule(
    waist_over: bool,
    bp: bool,
    lipid: bool,
    glucose: bool,
) -> MetabolicJudgement {
    let met = [bp, lipid, glucose].iter().filter(|&&m| m).count();
    match (waist_over, met) {
        (false, _) | (true, 0) => MetabolicJudgement::NotApplicable,
        (true, 1) => MetabolicJudgement::Reserve,
        (true, _) => MetabolicJudgement::Criteria,
    }
}

/// The known facts the 保健指導レベル depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuidanceFacts {
    /// ステップ1: waist over the threshold, group (1).
    pub waist_over: bool,
    /// ステップ1: BMI 25 or more, group (2) when the waist is under.
    pub bmi_over: bool,
    /// ステップ2 ① 血圧高.
    pub bp: bool,
    /// ステップ2 ② 脂質異常.
    pub lipid: bool,
    /// ステップ2 ③ 血糖高値.
    pub glucose: bool,
    /// ステップ2 ④ 喫煙歴あり.
    pub smoker: bool,
    /// ステップ2 ⑤ taking medication for 血圧, 血糖 or 脂質.
    pub medicated: bool,
    /// ステップ4: 65 or over at the fiscal year's end.
    pub senior: bool,
}

/// The 保健指導レベル over known facts [P]:
/// - ⑤ medication: not a subject of 特定保健指導 (なし);
/// - ステップ1: waist over → (1), else BMI ≥ 25 → (2), else なし;
/// - ステップ2–3: ①–③ counted, ④ 喫煙 only when one of ①–③ is present; (1) with 2 or
///   more 積極的支援, 1 動機付け支援; (2) with 3 or more 積極的支援, 1–2 動機付け支援; 0 なし;
/// - ステップ4: 65 and over, 積極的支援 becomes 動機付け支援.
pub fn guidance_rule(f: GuidanceFacts) -> GuidanceLevel {
    if f.medicated {
        return GuidanceLevel::InformationOnly;
    }
    let base = [f.bp, f.lipid, f.glucose].iter().filter(|&&r| r).count();
    let risks = if base >= 1 && f.smoker {
        base + 1
    } else {
        base
    };
    let level = if f.waist_over {
        match risks {
            0 => GuidanceLevel::InformationOnly,
            1 => GuidanceLevel::Motivational,
            _ => GuidanceLevel::Active,
        }
    } else if f.bmi_over {
        match risks {
            0 => GuidanceLevel::InformationOnly,
            1 | 2 => GuidanceLevel::Motivational,
            _ => GuidanceLevel::Active,
        }
    } else {
        GuidanceLevel::InformationOnly
    };
    if f.senior && level == GuidanceLevel::Active {
        GuidanceLevel::Motivational
    } else {
        level
    }
}

/// Both judgements of one checkup, with the reasons in Japanese.
pub fn stratify(f: &Facts) -> Stratification {
    let mut reasons = Vec::new();
    let v = Values::read(f, &mut reasons);
    let metabolic = judge_metabolic(&v, &mut reasons);
    let guidance = judge_guidance(&v, f.age_at_fiscal_year_end, &mut reasons);
    Stratification {
        metabolic,
        guidance,
        reasons,
    }
}

/// The numbers of [`Facts`] with anything not finite taken as missing.
struct Values {
    sex: Sex,
    waist: Option<f64>,
    bmi: Option<f64>,
    systolic: Option<f64>,
    diastolic: Option<f64>,
    tg: Option<f64>,
    tg_fasting: Option<bool>,
    hdl: Option<f64>,
    fasting_glucose: Option<f64>,
    casual_glucose: Option<f64>,
    hba1c: Option<f64>,
    smoking: Option<Smoking>,
    med_bp: Option<bool>,
    med_glucose: Option<bool>,
    med_lipid: Option<bool>,
}

impl Values {
    fn read(f: &Facts, reasons: &mut Vec<String>) -> Values {
        let mut finite = |name: &str, value: Option<f64>| match value {
            Some(x) if !x.is_finite() => {
                reasons.push(format!("{name}の値が数値でないため、未測定として扱った"));
                None
            }
            other => other,
        };
        Values {
            sex: f.sex,
            waist: finite("腹囲", f.waist_cm),
            bmi: finite("BMI", f.bmi),
            systolic: finite("収縮期血圧", f.systolic),
            diastolic: finite("拡張期血圧", f.diastolic),
            tg: finite("中性脂肪", f.triglycerides_mg_dl),
            tg_fasting: f.triglycerides_fasting,
            hdl: finite("HDLコレステロール", f.hdl_mg_dl),
            fasting_glucose: finite("空腹時血糖", f.fasting_glucose),
            casual_glucose: finite("随時血糖", f.casual_glucose),
            hba1c: finite("HbA1c", f.hba1c_ngsp),
            smoking: f.smoking,
            med_bp: f.med_bp,
            med_glucose: f.med_glucose,
            med_lipid: f.med_lipid,
        }
    }

    fn waist_over(&self) -> Fact {
        let (sex, threshold) = match self.sex {
            Sex::Male => ("男性", WAIST_MALE_CM),
            Sex::Female => ("女性", WAIST_FEMALE_CM),
        };
        match self.waist {
            None => Fact::unknown("腹囲がない"),
            Some(w) if w >= threshold => {
                Fact::yes(format!("腹囲 {w}cm（{sex} {threshold}cm 以上）"))
            }
            Some(w) => Fact::no(format!("腹囲 {w}cm（{sex} {threshold}cm 未満）")),
        }
    }

    fn bp(&self) -> Fact {
        Fact::any([
            Fact::at_least("収縮期血圧", self.systolic, SYSTOLIC_MIN, "mmHg"),
            Fact::at_least("拡張期血圧", self.diastolic, DIASTOLIC_MIN, "mmHg"),
        ])
    }

    fn triglycerides(&self) -> Fact {
        match (self.tg, self.tg_fasting) {
            (None, _) => Fact::unknown("中性脂肪がない"),
            (Some(_), Some(true)) => {
                Fact::at_least("空腹時中性脂肪", self.tg, TG_FASTING_MIN, "mg/dL")
            }
            (Some(_), Some(false)) => {
                Fact::at_least("随時中性脂肪", self.tg, TG_CASUAL_MIN, "mg/dL")
            }
            (Some(t), None) if t >= TG_CASUAL_MIN => Fact::yes(format!(
                "中性脂肪 {t}mg/dL（採血時間不明、随時でも {TG_CASUAL_MIN}mg/dL 以上）"
            )),
            (Some(t), None) if t < TG_FASTING_MIN => Fact::no(format!(
                "中性脂肪 {t}mg/dL（採血時間不明、空腹時でも {TG_FASTING_MIN}mg/dL 未満）"
            )),
            (Some(t), None) => Fact::unknown(format!(
                "中性脂肪 {t}mg/dL は採血時間（空腹時か随時か）がないと判定できない"
            )),
        }
    }

    fn lipid(&self) -> Fact {
        Fact::any([
            self.triglycerides(),
            Fact::below("HDLコレステロール", self.hdl, HDL_BELOW, "mg/dL"),
        ])
    }

    /// ③ 血糖高値 for 保健指導 [P][W]: 空腹時血糖, else HbA1c, else 随時血糖.
    fn glucose_guidance(&self) -> Fact {
        if self.fasting_glucose.is_some() {
            Fact::at_least(
                "空腹時血糖",
                self.fasting_glucose,
                GLUCOSE_GUIDANCE_MIN,
                "mg/dL",
            )
        } else if self.hba1c.is_some() {
            Fact::at_least("HbA1c", self.hba1c, HBA1C_GUIDANCE_MIN, "%")
        } else if self.casual_glucose.is_some() {
            Fact::at_least(
                "随時血糖",
                self.casual_glucose,
                GLUCOSE_GUIDANCE_MIN,
                "mg/dL",
            )
        } else {
            Fact::unknown("空腹時血糖・HbA1c・随時血糖がない")
        }
    }

    /// 血糖 for メタボ判定 [M]: 空腹時血糖, else 随時血糖, else HbA1c.
    fn glucose_metabolic(&self) -> Fact {
        if self.fasting_glucose.is_some() {
            Fact::at_least(
                "空腹時血糖",
                self.fasting_glucose,
                GLUCOSE_METABOLIC_MIN,
                "mg/dL",
            )
        } else if self.casual_glucose.is_some() {
            Fact::at_least(
                "随時血糖",
                self.casual_glucose,
                GLUCOSE_METABOLIC_MIN,
                "mg/dL",
            )
        } else if self.hba1c.is_some() {
            Fact::at_least("HbA1c", self.hba1c, HBA1C_METABOLIC_MIN, "%")
        } else {
            Fact::unknown("空腹時血糖・随時血糖・HbA1c がない")
        }
    }
}

/// A yes/no fact that missing data may leave unknown, with the words saying why.
#[derive(Debug, Clone)]
struct Fact {
    value: Option<bool>,
    why: Vec<String>,
}

impl Fact {
    fn yes(why: impl Into<String>) -> Fact {
        Fact {
            value: Some(true),
            why: vec![why.into()],
        }
    }

    fn no(why: impl Into<String>) -> Fact {
        Fact {
            value: Some(false),
            why: vec![why.into()],
        }
    }

    fn unknown(why: impl Into<String>) -> Fact {
        Fact {
            value: None,
            why: vec![why.into()],
        }
    }

    /// `value ≥ threshold` (以上).
    fn at_least(name: &str, value: Option<f64>, threshold: f64, unit: &str) -> Fact {
        match value {
            None => Fact::unknown(format!("{name}がない")),
            Some(x) if x >= threshold => {
                Fact::yes(format!("{name} {x}{unit}（{threshold}{unit} 以上）"))
            }
            Some(x) => Fact::no(format!("{name} {x}{unit}（{threshold}{unit} 未満）")),
        }
    }

    /// `value < threshold` (未満).
    fn below(name: &str, value: Option<f64>, threshold: f64, unit: &str) -> Fact {
        match value {
            None => Fact::unknown(format!("{name}がない")),
            Some(x) if x < threshold => {
                Fact::yes(format!("{name} {x}{unit}（{threshold}{unit} 未満）"))
            }
            Some(x) => Fact::no(format!("{name} {x}{unit}（{threshold}{unit} 以上）")),
        }
    }

    /// A medication answer of the questionnaire.
    fn medication(what: &str, answer: Option<bool>) -> Fact {
        match answer {
            Some(true) => Fact::yes(format!("{what}の服薬あり")),
            Some(false) => Fact::no(format!("{what}の服薬なし")),
            None => Fact::unknown(format!("{what}の服薬の回答がない")),
        }
    }

    /// Yes when any part is yes, no when all are no; the words of the parts that decide it.
    fn any<const N: usize>(parts: [Fact; N]) -> Fact {
        let value = if parts.iter().any(|p| p.value == Some(true)) {
            Some(true)
        } else if parts.iter().all(|p| p.value == Some(false)) {
            Some(false)
        } else {
            None
        };
        let why = parts
            .into_iter()
            .filter(|p| p.value == value)
            .flat_map(|p| p.why)
            .collect();
        Fact { value, why }
    }
}

/// The outcome of `rule` when every combination of the unknown facts gives the same one, with
/// the indexes of the unknown facts that can change it (empty when decided).
fn decide<const N: usize, T: Copy + PartialEq>(
    facts: [Option<bool>; N],
    rule: impl Fn([bool; N]) -> T,
) -> (Option<T>, Vec<usize>) {
    let unknown: Vec<usize> = (0..N).filter(|&i| facts[i].is_none()).collect();
    let assign = |mask: u32| {
        let mut known = facts.map(|f| f.unwrap_or(false));
        for (bit, &i) in unknown.iter().enumerate() {
            known[i] = mask & (1 << bit) != 0;
        }
        known
    };
    let combinations = 1u32 << unknown.len();
    let first = rule(assign(0));
    if (1..combinations).all(|mask| rule(assign(mask)) == first) {
        return (Some(first), Vec::new());
    }
    let matters = unknown
        .iter()
        .enumerate()
        .filter(|&(bit, _)| {
            (0..combinations).any(|mask| rule(assign(mask)) != rule(assign(mask ^ (1 << bit))))
        })
        .map(|(_, &i)| i)
        .collect();
    (None, matters)
}

/// The words of the facts at `indexes`, each as "{prefix}{topic} — {why}".
fn explain(prefix: &str, facts: &[(&str, Fact)], indexes: &[usize], reasons: &mut Vec<String>) {
    for &i in indexes {
        let (topic, fact) = &facts[i];
        for w in &fact.why {
            reasons.push(format!("{prefix}{topic} — {w}"));
        }
    }
}

fn judge_metabolic(v: &Values, reasons: &mut Vec<String>) -> MetabolicJudgement {
    let facts = [
        ("腹囲", v.waist_over()),
        (
            "血圧",
            Fact::any([v.bp(), Fact::medication("血圧", v.med_bp)]),
        ),
        (
            "脂質",
            Fact::any([v.lipid(), Fact::medication("脂質異常症", v.med_lipid)]),
        ),
        (
            "血糖",
            Fact::any([
                v.glucose_metabolic(),
                Fact::medication("糖尿病", v.med_glucose),
            ]),
        ),
    ];
    let values = facts.each_ref().map(|(_, f)| f.value);
    let (outcome, matters) = decide(values, |[w, b, l, g]| metabolic_rule(w, b, l, g));
    let Some(judgement) = outcome else {
        explain("メタボ判定: 判定不能 ", &facts, &matters, reasons);
        return MetabolicJudgement::Undecidable;
    };
    // The waist, then (when it is over) the criteria that counted.
    let counted: Vec<usize> = if values[0] == Some(true) {
        (0..4).filter(|&i| values[i] == Some(true)).collect()
    } else {
        vec![0]
    };
    explain("メタボ判定: ", &facts, &counted, reasons);
    judgement
}

fn judge_guidance(v: &Values, age: u32, reasons: &mut Vec<String>) -> GuidanceLevel {
    const WAIST: usize = 0;
    const BMI: usize = 1;
    const RISKS: [usize; 3] = [2, 3, 4];
    const SMOKER: usize = 5;
    const MEDICATED: usize = 6;
    let bmi = match v.bmi {
        None => Fact::unknown("BMIがない"),
        Some(b) if b >= BMI_MIN => Fact::yes(format!("BMI {b}（{BMI_MIN} 以上）")),
        Some(b) => Fact::no(format!("BMI {b}（{BMI_MIN} 未満）")),
    };
    let smoker = match v.smoking {
        None => Fact::unknown("喫煙の回答がない"),
        Some(Smoking::Current) => Fact::yes("喫煙あり"),
        Some(Smoking::QuitLastMonth) => Fact::no("以前は吸っていたが最近1ヶ月間は吸っていない"),
        Some(Smoking::Never) => Fact::no("喫煙なし"),
    };
    let medicated = Fact::any([
        Fact::medication("血圧", v.med_bp),
        Fact::medication("糖尿病", v.med_glucose),
        Fact::medication("脂質異常症", v.med_lipid),
    ]);
    let facts = [
        ("腹囲", v.waist_over()),
        ("BMI", bmi),
        ("血圧", v.bp()),
        ("脂質", v.lipid()),
        ("血糖", v.glucose_guidance()),
        ("喫煙", smoker),
        ("服薬", medicated),
    ];
    let values = facts.each_ref().map(|(_, f)| f.value);
    let rule = |senior: bool| {
        move |[waist_over, bmi_over, bp, lipid, glucose, smoker, medicated]: [bool; 7]| {
            guidance_rule(GuidanceFacts {
                waist_over,
                bmi_over,
                bp,
                lipid,
                glucose,
                smoker,
                medicated,
                senior,
            })
        }
    };
    let senior = age >= AGE_CAP;
    let (outcome, matters) = decide(values, rule(senior));
    let Some(level) = outcome else {
        explain("保健指導: 判定不能 ", &facts, &matters, reasons);
        return GuidanceLevel::Undecidable;
    };
    if values[MEDICATED] == Some(true) {
        for w in &facts[MEDICATED].1.why {
            reasons.push(format!("保健指導: {w}のため特定保健指導の対象外"));
        }
        return level;
    }
    // ステップ1.
    let mut step1 = facts[WAIST].1.why.clone();
    if values[WAIST] != Some(true) {
        step1.extend(facts[BMI].1.why.iter().cloned());
    }
    let group = match (values[WAIST], values[BMI]) {
        (Some(true), _) => " → (1)",
        (Some(false), Some(true)) => " → (2)",
        (Some(false), Some(false)) => " → 対象外",
        _ => "",
    };
    reasons.push(format!("保健指導: ステップ1 {}{group}", step1.join("、")));
    // ステップ2–3: the risks that counted.
    let counted: Vec<usize> = RISKS
        .into_iter()
        .filter(|&i| values[i] == Some(true))
        .collect();
    explain("保健指導: 追加リスク ", &facts, &counted, reasons);
    if values[SMOKER] == Some(true) {
        if counted.is_empty() {
            reasons.push("保健指導: 喫煙あり（血圧・脂質・血糖のリスクがないため数えない）".into());
        } else {
            reasons.push("保健指導: 追加リスク 喫煙 — 喫煙あり".into());
        }
    }
    // ステップ4.
    if senior && decide(values, rule(false)).0 == Some(GuidanceLevel::Active) {
        reasons.push(format!(
            "保健指導: {age}歳（年度末）のため積極的支援を動機付け支援とした"
        ));
    }
    level
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A 50-year-old man with every value present and nothing over any threshold.
    fn healthy() -> Facts {
        Facts {
            sex: Sex::Male,
            age_at_fiscal_year_end: 50,
            waist_cm: Some(80.0),
            bmi: Some(22.0),
            systolic: Some(118.0),
            diastolic: Some(72.0),
            triglycerides_mg_dl: Some(90.0),
            triglycerides_fasting: Some(true),
            hdl_mg_dl: Some(60.0),
            fasting_glucose: Some(90.0),
            casual_glucose: None,
            hba1c_ngsp: Some(5.2),
            smoking: Some(Smoking::Never),
            med_bp: Some(false),
            med_glucose: Some(false),
            med_lipid: Some(false),
        }
    }

    /// [`healthy`] with the waist over the threshold (group (1)).
    fn obese() -> Facts {
        Facts {
            waist_cm: Some(92.0),
            bmi: Some(27.0),
            ..healthy()
        }
    }

    /// [`healthy`] with the waist under but BMI 25 or more (group (2)).
    fn bmi_only() -> Facts {
        Facts {
            waist_cm: Some(80.0),
            bmi: Some(26.0),
            ..healthy()
        }
    }

    fn high_bp(f: Facts) -> Facts {
        Facts {
            systolic: Some(140.0),
            ..f
        }
    }

    fn high_lipid(f: Facts) -> Facts {
        Facts {
            triglycerides_mg_dl: Some(200.0),
            ..f
        }
    }

    fn high_glucose(f: Facts) -> Facts {
        Facts {
            fasting_glucose: Some(115.0),
            ..f
        }
    }

    fn smoker(f: Facts) -> Facts {
        Facts {
            smoking: Some(Smoking::Current),
            ..f
        }
    }

    fn levels(f: Facts) -> (MetabolicJudgement, GuidanceLevel) {
        let s = stratify(&f);
        (s.metabolic, s.guidance)
    }

    use GuidanceLevel as G;
    use MetabolicJudgement as M;

    #[test]
    fn codes_and_labels_follow_the_code_systems() {
        assert_eq!(
            [M::Criteria, M::Reserve, M::NotApplicable, M::Undecidable].map(|m| m.code()),
            ["1", "2", "3", "4"]
        );
        assert_eq!(M::Reserve.label_ja(), "予備群該当");
        assert_eq!(
            [
                G::Active,
                G::Motivational,
                G::InformationOnly,
                G::Undecidable
            ]
            .map(|g| g.code()),
            ["1", "2", "3", "4"]
        );
        assert_eq!(G::Motivational.label_ja(), "動機付け支援");
        assert_eq!(Smoking::from_code("2"), Some(Smoking::QuitLastMonth));
        assert_eq!(Smoking::from_code("4"), None);
    }

    #[test]
    fn nothing_over_any_threshold_is_neither() {
        assert_eq!(levels(healthy()), (M::NotApplicable, G::InformationOnly));
        assert_eq!(levels(obese()), (M::NotApplicable, G::InformationOnly));
    }

    #[test]
    fn waist_threshold_is_85_for_men_and_90_for_women_inclusive() {
        let at = |sex, waist| {
            levels(high_bp(Facts {
                sex,
                waist_cm: Some(waist),
                bmi: Some(22.0),
                ..healthy()
            }))
        };
        assert_eq!(at(Sex::Male, 85.0), (M::Reserve, G::Motivational));
        assert_eq!(at(Sex::Male, 84.9), (M::NotApplicable, G::InformationOnly));
        assert_eq!(
            at(Sex::Female, 89.9),
            (M::NotApplicable, G::InformationOnly)
        );
        assert_eq!(at(Sex::Female, 90.0), (M::Reserve, G::Motivational));
    }

    #[test]
    fn each_risk_alone_with_the_waist_over_is_reserve_and_motivational() {
        for (name, f) in [
            ("blood pressure", high_bp(obese())),
            ("lipid", high_lipid(obese())),
            ("glucose", high_glucose(obese())),
        ] {
            assert_eq!(levels(f), (M::Reserve, G::Motivational), "{name}");
        }
    }

    #[test]
    fn two_risks_with_the_waist_over_are_criteria_and_active() {
        assert_eq!(
            levels(high_bp(high_lipid(obese()))),
            (M::Criteria, G::Active)
        );
        assert_eq!(
            levels(high_glucose(high_lipid(obese()))),
            (M::Criteria, G::Active)
        );
    }

    #[test]
    fn blood_pressure_thresholds_are_inclusive() {
        let bp = |s, d| {
            levels(Facts {
                systolic: Some(s),
                diastolic: Some(d),
                ..obese()
            })
            .1
        };
        assert_eq!(bp(130.0, 70.0), G::Motivational);
        assert_eq!(bp(129.0, 84.0), G::InformationOnly);
        assert_eq!(bp(120.0, 85.0), G::Motivational);
    }

    #[test]
    fn triglycerides_are_150_fasting_and_175_casual() {
        let tg = |t, fasting| {
            levels(Facts {
                triglycerides_mg_dl: Some(t),
                triglycerides_fasting: fasting,
                ..obese()
            })
        };
        assert_eq!(tg(150.0, Some(true)), (M::Reserve, G::Motivational));
        assert_eq!(
            tg(149.0, Some(true)),
            (M::NotApplicable, G::InformationOnly)
        );
        assert_eq!(
            tg(160.0, Some(false)),
            (M::NotApplicable, G::InformationOnly)
        );
        assert_eq!(
            tg(174.0, Some(false)),
            (M::NotApplicable, G::InformationOnly)
        );
        assert_eq!(tg(175.0, Some(false)), (M::Reserve, G::Motivational));
        // Without 採血時間 only values that agree under both thresholds decide.
        assert_eq!(tg(175.0, None), (M::Reserve, G::Motivational));
        assert_eq!(tg(149.0, None), (M::NotApplicable, G::InformationOnly));
        assert_eq!(tg(160.0, None), (M::Undecidable, G::Undecidable));
    }

    #[test]
    fn hdl_is_a_risk_below_40_only() {
        let hdl = |h| {
            levels(Facts {
                hdl_mg_dl: Some(h),
                ..obese()
            })
        };
        assert_eq!(hdl(39.0), (M::Reserve, G::Motivational));
        assert_eq!(hdl(40.0), (M::NotApplicable, G::InformationOnly));
    }

    #[test]
    fn glucose_for_guidance_is_fasting_100_then_hba1c_5_6_then_casual_100() {
        let g = |fasting, hba1c, casual| {
            levels(Facts {
                fasting_glucose: fasting,
                hba1c_ngsp: hba1c,
                casual_glucose: casual,
                ..obese()
            })
            .1
        };
        assert_eq!(g(Some(100.0), None, None), G::Motivational);
        assert_eq!(g(Some(99.0), None, None), G::InformationOnly);
        // Both measured: the fasting value decides [W].
        assert_eq!(g(Some(95.0), Some(5.8), None), G::InformationOnly);
        assert_eq!(g(Some(105.0), Some(5.2), None), G::Motivational);
        // HbA1c fallback.
        assert_eq!(g(None, Some(5.6), None), G::Motivational);
        assert_eq!(g(None, Some(5.5), None), G::InformationOnly);
        // HbA1c before casual glucose.
        assert_eq!(g(None, Some(5.2), Some(130.0)), G::InformationOnly);
        // Casual glucose when neither.
        assert_eq!(g(None, None, Some(100.0)), G::Motivational);
        assert_eq!(g(None, None, Some(99.0)), G::InformationOnly);
        assert_eq!(g(None, None, None), G::Undecidable);
    }

    #[test]
    fn glucose_for_metabolic_is_110_then_casual_then_hba1c_6_0() {
        let m = |fasting, hba1c, casual| {
            levels(Facts {
                fasting_glucose: fasting,
                hba1c_ngsp: hba1c,
                casual_glucose: casual,
                ..obese()
            })
            .0
        };
        assert_eq!(m(Some(110.0), None, None), M::Reserve);
        assert_eq!(m(Some(109.0), None, None), M::NotApplicable);
        assert_eq!(m(Some(105.0), Some(6.5), None), M::NotApplicable);
        assert_eq!(m(None, Some(6.0), None), M::Reserve);
        assert_eq!(m(None, Some(5.9), None), M::NotApplicable);
        assert_eq!(m(None, Some(6.5), Some(100.0)), M::NotApplicable);
        assert_eq!(m(None, None, Some(110.0)), M::Reserve);
        assert_eq!(m(None, None, None), M::Undecidable);
    }

    #[test]
    fn medication_counts_for_metabolic_and_excludes_from_guidance() {
        let on = |f: Facts| levels(f);
        assert_eq!(
            on(Facts {
                med_bp: Some(true),
                ..obese()
            }),
            (M::Reserve, G::InformationOnly)
        );
        assert_eq!(
            on(Facts {
                med_lipid: Some(true),
                ..obese()
            }),
            (M::Reserve, G::InformationOnly)
        );
        assert_eq!(
            on(Facts {
                med_glucose: Some(true),
                med_bp: Some(true),
                ..obese()
            }),
            (M::Criteria, G::InformationOnly)
        );
        // Excluded from guidance however many risks, and whatever is missing.
        let s = stratify(&Facts {
            med_glucose: Some(true),
            waist_cm: None,
            ..high_bp(high_lipid(obese()))
        });
        assert_eq!(s.guidance, G::InformationOnly);
        assert!(
            s.reasons
                .iter()
                .any(|r| r.contains("糖尿病の服薬ありのため特定保健指導の対象外")),
            "{:?}",
            s.reasons
        );
        // Medication does not count when the waist is under.
        assert_eq!(
            on(Facts {
                med_bp: Some(true),
                ..healthy()
            })
            .0,
            M::NotApplicable
        );
    }

    #[test]
    fn bmi_group_needs_three_risks_for_active() {
        assert_eq!(levels(bmi_only()).1, G::InformationOnly);
        assert_eq!(levels(high_bp(bmi_only())).1, G::Motivational);
        assert_eq!(levels(high_bp(high_lipid(bmi_only()))).1, G::Motivational);
        assert_eq!(
            levels(high_glucose(high_bp(high_lipid(bmi_only())))).1,
            G::Active
        );
        // The waist is under, so no metabolic syndrome whatever the risks.
        assert_eq!(
            levels(high_glucose(high_bp(high_lipid(bmi_only())))).0,
            M::NotApplicable
        );
        // BMI threshold is inclusive.
        assert_eq!(
            levels(high_bp(Facts {
                bmi: Some(25.0),
                ..bmi_only()
            }))
            .1,
            G::Motivational
        );
        assert_eq!(
            levels(high_bp(Facts {
                bmi: Some(24.9),
                ..bmi_only()
            }))
            .1,
            G::InformationOnly
        );
    }

    #[test]
    fn smoking_counts_only_with_another_risk() {
        assert_eq!(levels(smoker(obese())).1, G::InformationOnly);
        assert_eq!(levels(smoker(bmi_only())).1, G::InformationOnly);
        assert_eq!(levels(smoker(high_bp(obese()))).1, G::Active);
        assert_eq!(levels(smoker(high_bp(high_lipid(bmi_only())))).1, G::Active);
        assert_eq!(levels(smoker(high_bp(bmi_only()))).1, G::Motivational);
        // Smoking is no metabolic criterion.
        assert_eq!(levels(smoker(high_bp(obese()))).0, M::Reserve);
        let s = stratify(&smoker(obese()));
        assert!(
            s.reasons.iter().any(|r| r.contains("数えない")),
            "{:?}",
            s.reasons
        );
    }

    #[test]
    fn quitting_in_the_last_month_is_not_smoking() {
        let f = Facts {
            smoking: Some(Smoking::QuitLastMonth),
            ..high_bp(obese())
        };
        assert_eq!(levels(f).1, G::Motivational);
    }

    #[test]
    fn sixty_five_at_fiscal_year_end_caps_active_at_motivational() {
        let at = |age| {
            stratify(&Facts {
                age_at_fiscal_year_end: age,
                ..high_bp(high_lipid(obese()))
            })
        };
        assert_eq!(at(64).guidance, G::Active);
        let capped = at(65);
        assert_eq!(capped.guidance, G::Motivational);
        assert!(
            capped.reasons.iter().any(|r| r.contains("65歳")),
            "{:?}",
            capped.reasons
        );
        assert_eq!(at(74).guidance, G::Motivational);
        // The cap changes no other level, nor the metabolic judgement.
        assert_eq!(at(65).metabolic, M::Criteria);
        let one = Facts {
            age_at_fiscal_year_end: 70,
            ..high_bp(obese())
        };
        assert_eq!(levels(one).1, G::Motivational);
    }

    #[test]
    fn missing_waist_is_undecidable_when_it_matters() {
        let s = stratify(&Facts {
            waist_cm: None,
            ..high_bp(high_lipid(obese()))
        });
        assert_eq!((s.metabolic, s.guidance), (M::Undecidable, G::Undecidable));
        assert!(
            s.reasons
                .iter()
                .any(|r| r.contains("判定不能 腹囲 — 腹囲がない")),
            "{:?}",
            s.reasons
        );
        // BMI 27 and one risk: 動機付け支援 in group (1) and in group (2) alike.
        assert_eq!(
            levels(Facts {
                waist_cm: None,
                ..high_bp(obese())
            }),
            (M::Undecidable, G::Motivational)
        );
        // Without any risk nobody can be more than なし / 非該当.
        assert_eq!(
            levels(Facts {
                waist_cm: None,
                ..obese()
            }),
            (M::NotApplicable, G::InformationOnly)
        );
    }

    #[test]
    fn missing_bmi_matters_only_when_the_waist_is_under() {
        assert_eq!(
            levels(Facts {
                bmi: None,
                ..high_bp(obese())
            })
            .1,
            G::Motivational
        );
        assert_eq!(
            levels(Facts {
                bmi: None,
                ..high_bp(bmi_only())
            })
            .1,
            G::Undecidable
        );
    }

    #[test]
    fn missing_risk_data_is_undecidable_only_when_it_could_change_the_outcome() {
        let no_bp = Facts {
            systolic: None,
            diastolic: None,
            ..obese()
        };
        assert_eq!(levels(no_bp), (M::Undecidable, G::Undecidable));
        // Two risks already: 基準該当 whatever the missing one; 積極的 likewise.
        let two = Facts {
            fasting_glucose: None,
            hba1c_ngsp: None,
            ..high_bp(high_lipid(obese()))
        };
        assert_eq!(levels(two), (M::Criteria, G::Active));
        // One reading over is enough; the other missing does not matter.
        let one_reading = Facts {
            diastolic: None,
            ..high_bp(obese())
        };
        assert_eq!(levels(one_reading), (M::Reserve, G::Motivational));
        // Missing smoking matters only with a risk.
        assert_eq!(
            levels(Facts {
                smoking: None,
                ..obese()
            })
            .1,
            G::InformationOnly
        );
        assert_eq!(
            levels(Facts {
                smoking: None,
                ..high_bp(obese())
            })
            .1,
            G::Undecidable
        );
        // Missing medication answers make a would-be subject undecidable, not a non-subject.
        assert_eq!(
            levels(Facts {
                med_bp: None,
                ..high_bp(obese())
            })
            .1,
            G::Undecidable
        );
        assert_eq!(
            levels(Facts {
                med_bp: None,
                ..healthy()
            })
            .1,
            G::InformationOnly
        );
    }

    #[test]
    fn a_value_that_is_not_a_number_counts_as_missing() {
        let s = stratify(&Facts {
            waist_cm: Some(f64::NAN),
            ..high_bp(high_lipid(obese()))
        });
        assert_eq!((s.metabolic, s.guidance), (M::Undecidable, G::Undecidable));
        assert!(
            s.reasons.iter().any(|r| r.contains("腹囲の値が数値でない")),
            "{:?}",
            s.reasons
        );
        let s = stratify(&Facts {
            systolic: Some(f64::INFINITY),
            ..obese()
        });
        assert_eq!((s.metabolic, s.guidance), (M::Undecidable, G::Undecidable));
    }

    #[test]
    fn reasons_name_the_criteria_that_counted() {
        let s = stratify(&high_bp(high_lipid(obese())));
        let text = s.reasons.join("\n");
        for needle in [
            "腹囲 92cm（男性 85cm 以上）",
            "収縮期血圧 140mmHg",
            "空腹時中性脂肪 200mg/dL",
            "→ (1)",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
        assert!(!text.contains("HDL"), "{text}");
    }

    fn rank_m(m: MetabolicJudgement) -> u8 {
        match m {
            M::NotApplicable => 0,
            M::Reserve => 1,
            M::Criteria => 2,
            M::Undecidable => unreachable!("complete facts are always decided"),
        }
    }

    fn rank_g(g: GuidanceLevel) -> u8 {
        match g {
            G::InformationOnly => 0,
            G::Motivational => 1,
            G::Active => 2,
            G::Undecidable => unreachable!("complete facts are always decided"),
        }
    }

    fn any_value() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            Just(None),
            proptest::num::f64::ANY.prop_map(Some),
            (0.0..400.0f64).prop_map(Some),
        ]
    }

    prop_compose! {
        fn any_facts()(
            male in any::<bool>(),
            age in 0u32..120,
            nums in proptest::collection::vec(any_value(), 10),
            tg_fasting in proptest::option::of(any::<bool>()),
            smoking in proptest::option::of(prop_oneof![Just(Smoking::Current), Just(Smoking::QuitLastMonth), Just(Smoking::Never)]),
            meds in proptest::collection::vec(proptest::option::of(any::<bool>()), 3),
        ) -> Facts {
            Facts {
                sex: if male { Sex::Male } else { Sex::Female },
                age_at_fiscal_year_end: age,
                waist_cm: nums[0], bmi: nums[1], systolic: nums[2], diastolic: nums[3],
                triglycerides_mg_dl: nums[4], triglycerides_fasting: tg_fasting, hdl_mg_dl: nums[5],
                fasting_glucose: nums[6], casual_glucose: nums[7], hba1c_ngsp: nums[8],
                smoking, med_bp: meds[0], med_glucose: meds[1], med_lipid: meds[2],
            }
        }
    }

    prop_compose! {
        /// Every value present and finite, no medication.
        fn complete_facts()(
            male in any::<bool>(),
            age in 40u32..75,
            waist in 60.0..120.0f64, bmi in 17.0..35.0f64,
            systolic in 90.0..170.0f64, diastolic in 50.0..110.0f64,
            tg in 40.0..300.0f64, tg_fasting in any::<bool>(), hdl in 25.0..90.0f64,
            fasting in proptest::option::of(70.0..140.0f64), hba1c in 4.5..7.5f64,
            casual in 70.0..180.0f64,
            smoking in prop_oneof![Just(Smoking::Current), Just(Smoking::QuitLastMonth), Just(Smoking::Never)],
        ) -> Facts {
            Facts {
                sex: if male { Sex::Male } else { Sex::Female },
                age_at_fiscal_year_end: age,
                waist_cm: Some(waist), bmi: Some(bmi), systolic: Some(systolic), diastolic: Some(diastolic),
                triglycerides_mg_dl: Some(tg), triglycerides_fasting: Some(tg_fasting), hdl_mg_dl: Some(hdl),
                fasting_glucose: fasting, casual_glucose: Some(casual), hba1c_ngsp: Some(hba1c),
                smoking: Some(smoking), med_bp: Some(false), med_glucose: Some(false), med_lipid: Some(false),
            }
        }
    }

    /// Adds one risk (or raises the visceral-fat step) to complete facts.
    fn add_risk(f: Facts, which: u8) -> Facts {
        match which % 7 {
            0 => Facts {
                systolic: Some(150.0),
                ..f
            },
            1 => Facts {
                diastolic: Some(95.0),
                ..f
            },
            2 => Facts {
                triglycerides_mg_dl: Some(250.0),
                ..f
            },
            3 => Facts {
                hdl_mg_dl: Some(30.0),
                ..f
            },
            4 => Facts {
                fasting_glucose: Some(130.0),
                hba1c_ngsp: Some(6.8),
                casual_glucose: Some(160.0),
                ..f
            },
            5 => Facts {
                smoking: Some(Smoking::Current),
                ..f
            },
            _ => Facts {
                waist_cm: Some(110.0),
                bmi: Some(32.0),
                ..f
            },
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_always_gives_a_code(f in any_facts()) {
            let s = stratify(&f);
            prop_assert!(["1", "2", "3", "4"].contains(&s.metabolic.code()));
            prop_assert!(["1", "2", "3", "4"].contains(&s.guidance.code()));
        }

        #[test]
        fn medication_always_gives_no_guidance(f in any_facts(), which in 0usize..3) {
            let mut f = f;
            match which {
                0 => f.med_bp = Some(true),
                1 => f.med_glucose = Some(true),
                _ => f.med_lipid = Some(true),
            }
            prop_assert_eq!(stratify(&f).guidance, G::InformationOnly);
        }

        #[test]
        fn adding_a_risk_never_lowers_a_level(f in complete_facts(), which in any::<u8>()) {
            let before = stratify(&f);
            let after = stratify(&add_risk(f, which));
            prop_assert!(rank_m(after.metabolic) >= rank_m(before.metabolic), "{:?} → {:?}", before, after);
            prop_assert!(rank_g(after.guidance) >= rank_g(before.guidance), "{:?} → {:?}", before, after);
        }

        #[test]
        fn a_decided_outcome_survives_filling_in_the_missing_data(
            f in complete_facts(),
            blank in proptest::collection::vec(any::<bool>(), 11),
        ) {
            let full = stratify(&f);
            let mut partial = f;
            // Blood sugar goes as a whole: 空腹時血糖, HbA1c and 随時血糖 fall back on each
            // other, so one of them missing is a different rule, not a gap.
            let fields: [fn(&mut Facts); 11] = [
                |p| p.waist_cm = None,
                |p| p.bmi = None,
                |p| p.systolic = None,
                |p| p.diastolic = None,
                |p| p.triglycerides_mg_dl = None,
                |p| p.triglycerides_fasting = None,
                |p| p.hdl_mg_dl = None,
                |p| {
                    p.fasting_glucose = None;
                    p.hba1c_ngsp = None;
                    p.casual_glucose = None;
                },
                |p| p.smoking = None,
                |p| p.med_bp = None,
                |p| p.med_lipid = None,
            ];
            for (clear, &b) in fields.iter().zip(&blank) {
                if b {
                    clear(&mut partial);
                }
            }
            let part = stratify(&partial);
            if part.metabolic != M::Undecidable {
                prop_assert_eq!(part.metabolic, full.metabolic, "{:?}", partial);
            }
            if part.guidance != G::Undecidable {
                prop_assert_eq!(part.guidance, full.guidance, "{:?}", partial);
            }
        }
    }
}
