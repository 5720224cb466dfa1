//! The hub failover decision, as a pure function of what a box observed on one tick
//! ([`Detector::decide`]); [`super::hub`] gathers the signals and carries out the action.
//!
//! # Signals
//!
//! | signal | from | says |
//! |---|---|---|
//! | MQTT link up | [`super::mqtt`] (keep-alive [`super::mqtt::KEEP_ALIVE`]) | the broker answers *us* |
//! | peers heard through the broker | every box's sync heartbeat on the broker | the broker relays |
//! | broker port probe | a TCP connect to each advertised broker, every tick | `Open`, `Refused` (host up, broker gone) or `Silent` (no answer) |
//! | mDNS goodbye | [`super::discovery`] | the box shut down cleanly — or this box's own interface went down (mdns-sd then drops what it learnt there): a hint only |
//! | peers' web ports | a TCP connect to every known box (also the withdrawn ones), every tick unless this box serves | who is alive, and whether *this* box can reach anyone at all |
//!
//! # The rule
//!
//! 1. The lowest node id among the brokers whose port is `Open` (and this box's own, while
//!    it serves one) is the venue's broker: use it. A serving box that sees a lower one
//!    withdraws, so a healed partition ends with one broker.
//! 2. While the link is up, or a peer was heard through the broker within
//!    [`Timing::heard_hold`], nothing is lost: wait (a probe may fail for reasons of its own).
//! 3. The broker last used is **lost** when the evidence agrees: its box said goodbye and its
//!    port refuses (one probe); or its port *refused* [`Timing::refused_confirm`] probes in a
//!    row (the host answers, the broker is gone: a crash or a kill); or its port failed every
//!    probe for [`Timing::silent_confirm`] while some other box's web port answered on each
//!    of those ticks (power loss, or the box's own Wi-Fi gone). A tick on which no other box answers
//!    either proves nothing about the hub — it is this box that is cut off — and restarts the
//!    count. So does any packet from that broker over this box's MQTT link that arrives
//!    [`ANSWER_MARGIN`] or more after the silence began: the broker lives (a hub whose Wi-Fi
//!    flaps comes back for moments too short for a probe, but its ping answers arrive). Then the lowest live box (this one, or a box whose web port answers; the lost
//!    broker's box is no candidate) starts its broker; the others wait for its
//!    advertisement and take rule 1.
//! 4. Without such evidence (no broker was ever seen, or it stopped being advertised without
//!    a goodbye), the slow path: after [`Timing::failover`] with no broker answering a probe
//!    (a configured hub that never connected: [`Timing::hub_grace`]) the lowest live box
//!    starts one.
//! 5. A box that knows other boxes but reaches none of them never starts a broker: it would
//!    serve no one, and it would be a second broker once its Wi-Fi returns. It waits and
//!    joins the broker it finds.
//!
//! # Defaults, and why
//!
//! - Tick 0.5 s ([`super::hub`]): a probe with a 0.4 s timeout fits in it.
//! - `refused_confirm = 3` (≈ 1–1.5 s): a refused connection is the host's kernel saying no
//!   one listens — unambiguous, yet a broker restarting in place gets a second to come back.
//! - `silent_confirm = 6 s` (`replication.hub_silence_secs`): silence is ambiguous — the hub
//!   may be dead, or its Wi-Fi may be out for a moment. A 3 s Wi-Fi cut of the hub, the kind
//!   a venue must ride out without a second broker, was seen by the others as up to 5.0 s of
//!   silence (the cut, the tick, and the network coming back), and 5 s started a second
//!   broker once in 20 cuts (`tests/tests/failover_flap.rs`); 6 s rode out every cut. And 6 s,
//!   plus ≈ 0.5 s before the count starts and ≈ 2 s to start the broker, announce it and
//!   reconnect, keeps a hub that loses power under the 10 s target (measured 8.8–9.9 s in
//!   `docs/benchmarks.md`: the tightest of the trade-offs; a crashed or killed hub refuses and
//!   takes ≈ 3 s).
//! - `heard_hold = 1 s`: a message through the broker that recently means it relays; it
//!   cannot delay the refused path, which takes at least that long.
//! - MQTT keep-alive 2 s: a stalled link is noticed in 2–4 s, before `silent_confirm` runs
//!   out (the silence is counted from the first unanswered probe, link up or not), so a
//!   powered-off hub's silence is what decides, not the keep-alive.
//! - `failover = 30 s` (`replication.failover_secs`): only when nothing above decides —
//!   e.g. boxes that start with no hub configured.

use std::time::Duration;

/// What a TCP connect to a port found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// It accepted.
    Open,
    /// The host answered that nothing listens there (connection refused).
    Refused,
    /// No answer in time (timeout, unreachable host or network).
    Silent,
}

/// The thresholds of the decision (see the module header for the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Consecutive refused probes that prove the broker gone.
    pub refused_confirm: u32,
    /// How long the broker's port must stay unanswered while other boxes answer.
    pub silent_confirm: Duration,
    /// A peer heard through the broker this recently means it relays.
    pub heard_hold: Duration,
    /// Time without a broker before the slow path starts one.
    pub failover: Duration,
    /// Time a configured hub listens for an existing broker before starting its own.
    pub hub_grace: Duration,
}

impl Timing {
    /// The defaults, with the configured slow-path `failover` and `silent_confirm`.
    pub fn new(failover: Duration, silent_confirm: Duration) -> Timing {
        Timing {
            refused_confirm: 3,
            silent_confirm,
            heard_hold: Duration::from_secs(1),
            failover,
            hub_grace: Duration::from_secs(3),
        }
    }
}

/// What one tick observed.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    /// Monotonic time (any origin).
    pub now: Duration,
    /// This box's node id.
    pub me: &'a str,
    /// This box is configured as the hub.
    pub hub: bool,
    /// This box's link has been up at least once.
    pub ever_connected: bool,
    /// This box's MQTT link is up.
    pub link_up: bool,
    /// How long ago a peer was last heard through the broker (None: never).
    pub heard_ago: Option<Duration>,
    /// How long ago the broker last used ([`Detector::last`]) sent this box any packet over
    /// the MQTT link (None: never, or another broker since).
    pub answered_ago: Option<Duration>,
    /// This box serves a broker and advertises it.
    pub serving: bool,
    /// Every other box advertising a broker, with this tick's probe of its port.
    pub brokers: &'a [(String, Probe)],
    /// Boxes whose advertisement was removed (mDNS goodbye, expiry, or this box's own
    /// interface going down) and not renewed.
    pub goodbyes: &'a [String],
    /// Other boxes known by discovery (including the removed ones).
    pub peers_known: usize,
    /// Other boxes whose web port answered this tick (None: not probed this tick).
    pub live: Option<&'a [String]>,
}

/// What made the broker count as lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Its box withdrew its advertisement and its port refuses.
    Goodbye,
    /// Its port refused this many probes in a row.
    Refused(u32),
    /// Its port answered no probe for this long while other boxes answered.
    Silent(Duration),
}

/// Why this box serves the venue's broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It already serves the lowest broker that answers.
    Lowest,
    /// The broker it used is lost and it is the lowest live box.
    Lost(Evidence),
    /// A configured hub that found no broker during its grace period.
    HubStart,
    /// No broker for the slow-path time and it is the lowest live box.
    NoBroker(Duration),
}

/// The decision of one tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Use the broker of this other box (withdrawing this box's own, if it serves one).
    Use(String),
    /// Serve (start if needed) and advertise this box's broker, and use it.
    Serve(Why),
    /// Keep the current choice; nothing is decided yet.
    Wait,
}

/// The decision's memory across ticks: the broker last used and the evidence against it.
#[derive(Debug, Clone)]
pub struct Detector {
    timing: Timing,
    /// The other box whose broker this box last used.
    last: Option<String>,
    /// Consecutive refused probes of `last`.
    refused: u32,
    /// Since when every probe of `last` failed while other boxes answered.
    failing_since: Option<Duration>,
    /// Since when no broker answered (None: one answers).
    no_broker_since: Option<Duration>,
    /// The last silence of `last` that ended with it answering again, not yet taken.
    ended: Option<Duration>,
}

/// An answer over the MQTT link ends a silence only if it came this long after the silence
/// began: a packet the broker sent before it went silent may still be on its way, or waiting
/// for a loaded box to read it.
const ANSWER_MARGIN: Duration = Duration::from_secs(1);

impl Detector {
    /// A detector with these thresholds, knowing no broker yet.
    pub fn new(timing: Timing) -> Detector {
        Detector {
            timing,
            last: None,
            refused: 0,
            failing_since: None,
            no_broker_since: None,
            ended: None,
        }
    }

    /// The length of the last silence of the broker in use that ended with it answering
    /// again (a probe, or a packet over the link), once: how close it came to a failover.
    pub fn take_ended_silence(&mut self) -> Option<Duration> {
        self.ended.take()
    }

    /// The silence of the broker in use so far ends now: it answered.
    fn answered(&mut self, now: Duration) {
        if let Some(since) = self.failing_since.take() {
            self.ended = Some(now.saturating_sub(since));
        }
        self.refused = 0;
    }

    /// The broker last used (another box's node id).
    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }

    /// Decide this tick (see the module header for the rule).
    pub fn decide(&mut self, s: &Signals<'_>) -> Action {
        // 1. The lowest broker that answers.
        let lowest = s
            .brokers
            .iter()
            .filter(|(_, p)| *p == Probe::Open)
            .map(|(n, _)| n.as_str())
            .chain(s.serving.then_some(s.me))
            .min();
        if let Some(n) = lowest {
            if self.last.as_deref() == Some(n) {
                self.answered(s.now);
            }
            self.refused = 0;
            self.failing_since = None;
            self.no_broker_since = None;
            if n == s.me {
                return Action::Serve(Why::Lowest);
            }
            self.last = Some(n.to_owned());
            return Action::Use(n.to_owned());
        }
        let without = s
            .now
            .saturating_sub(*self.no_broker_since.get_or_insert(s.now));
        let isolated = s.peers_known > 0 && s.live.is_some_and(<[String]>::is_empty);
        let evidence = self.observe(s, isolated);
        // 2. The link (or what it carries) says the broker lives.
        if s.link_up || s.heard_ago.is_some_and(|a| a < self.timing.heard_hold) {
            return Action::Wait;
        }
        // Who could serve: needs this tick's probe of the peers.
        let Some(live) = s.live else {
            return Action::Wait;
        };
        // 5. Cut off from everyone: never a broker of our own.
        if isolated {
            return Action::Wait;
        }
        let lost = self.last.as_deref();
        let lowest_live = live
            .iter()
            .filter(|p| Some(p.as_str()) != lost || evidence.is_none())
            .all(|p| p.as_str() > s.me);
        // 3. Lost on agreeing evidence.
        if let Some(e) = evidence {
            return if lowest_live {
                Action::Serve(Why::Lost(e))
            } else {
                Action::Wait
            };
        }
        // 4. The slow path.
        let (limit, why) = if s.hub && !s.ever_connected {
            (self.timing.hub_grace, Why::HubStart)
        } else {
            (self.timing.failover, Why::NoBroker(without))
        };
        if without >= limit && lowest_live {
            Action::Serve(why)
        } else {
            Action::Wait
        }
    }

    /// Update the evidence against the broker last used; Some when it is lost.
    fn observe(&mut self, s: &Signals<'_>, isolated: bool) -> Option<Evidence> {
        let last = self.last.clone()?;
        let last = last.as_str();
        // The broker answered over the link after its probes went silent: it lives, and the
        // silence (or the refusals) so far proves nothing. Without this, a hub whose Wi-Fi
        // flaps — out 3 s, back for a moment too short for a probe to get through, out again —
        // added up to one long silence.
        if let (Some(since), Some(ago)) = (self.failing_since, s.answered_ago)
            && s.now.saturating_sub(ago) >= since + ANSWER_MARGIN
        {
            self.answered(s.now);
        }
        let probe = s.brokers.iter().find(|(n, _)| n == last).map(|(_, p)| *p);
        // A removal alone may be this box's own interface going down; with a refusal it is
        // a box that shut down.
        if probe == Some(Probe::Refused) && s.goodbyes.iter().any(|g| g == last) {
            return Some(Evidence::Goodbye);
        }
        let answered_elsewhere = s.live.is_some_and(|l| l.iter().any(|p| p != last));
        match probe {
            Some(Probe::Refused) => {
                self.refused += 1;
                self.failing_since.get_or_insert(s.now);
            }
            Some(Probe::Silent) if !isolated && answered_elsewhere => {
                self.refused = 0;
                self.failing_since.get_or_insert(s.now);
            }
            // Silent while this box reaches no one (or did not look): proves nothing.
            Some(Probe::Silent) => {
                self.refused = 0;
                self.failing_since = None;
            }
            // Open was taken by rule 1; no longer advertised without a goodbye: withdrawn.
            Some(Probe::Open) | None => {
                self.refused = 0;
                self.failing_since = None;
            }
        }
        if self.refused >= self.timing.refused_confirm {
            return Some(Evidence::Refused(self.refused));
        }
        let failing = s.now.saturating_sub(self.failing_since?);
        (failing >= self.timing.silent_confirm).then_some(Evidence::Silent(failing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(500);

    fn timing() -> Timing {
        Timing::new(Duration::from_secs(30), Duration::from_secs(6))
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A box's view of a venue, tick by tick.
    struct View {
        me: &'static str,
        hub: bool,
        ever_connected: bool,
        link_up: bool,
        heard_at: Option<Duration>,
        answered_at: Option<Duration>,
        serving: bool,
        brokers: Vec<(String, Probe)>,
        goodbyes: Vec<String>,
        peers: Vec<String>,
        live: Option<Vec<String>>,
    }

    impl View {
        /// edge-03 on edge-01's broker, peers edge-01, 02, 04 all answering.
        fn on_hub(me: &'static str) -> View {
            let peers: Vec<String> = ["edge-01", "edge-02", "edge-03", "edge-04"]
                .iter()
                .filter(|p| **p != me)
                .map(|p| (*p).to_owned())
                .collect();
            View {
                me,
                hub: false,
                ever_connected: true,
                link_up: true,
                heard_at: Some(Duration::ZERO),
                answered_at: Some(Duration::ZERO),
                serving: false,
                brokers: vec![("edge-01".into(), Probe::Open)],
                goodbyes: vec![],
                live: Some(peers.clone()),
                peers,
            }
        }

        fn link(&mut self, up: bool, _now: Duration) {
            self.link_up = up;
        }

        fn decide(&self, d: &mut Detector, now: Duration) -> Action {
            let s = Signals {
                now,
                me: self.me,
                hub: self.hub,
                ever_connected: self.ever_connected,
                link_up: self.link_up,
                heard_ago: self.heard_at.map(|t| now.saturating_sub(t)),
                answered_ago: self.answered_at.map(|t| now.saturating_sub(t)),
                serving: self.serving,
                brokers: &self.brokers,
                goodbyes: &self.goodbyes,
                peers_known: self.peers.len(),
                live: self.live.as_deref(),
            };
            d.decide(&s)
        }
    }

    fn start(v: &View) -> Detector {
        let mut d = Detector::new(timing());
        assert_eq!(
            v.decide(&mut d, Duration::ZERO),
            Action::Use("edge-01".into())
        );
        d
    }

    /// Ticks from `from` until the first non-Wait action, at most `limit` ticks.
    fn run(
        v: &mut View,
        d: &mut Detector,
        from: Duration,
        limit: u32,
        each: impl Fn(&mut View, Duration),
    ) -> Option<(Duration, Action)> {
        for k in 1..=limit {
            let now = from + TICK * k;
            each(v, now);
            let a = v.decide(d, now);
            if a != Action::Wait {
                return Some((now, a));
            }
        }
        None
    }

    #[test]
    fn hub_killed_refusals_decide_in_three_ticks_for_the_lowest_live_box() {
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Refused)];
        v.live = Some(names(&["edge-03", "edge-04"]));
        let got = run(&mut v, &mut d, Duration::ZERO, 20, |v, now| {
            v.link(false, now);
        });
        assert_eq!(
            got,
            Some((TICK * 3, Action::Serve(Why::Lost(Evidence::Refused(3)))))
        );
        // A higher box sees the same and waits for edge-02.
        let mut v = View::on_hub("edge-03");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Refused)];
        v.live = Some(names(&["edge-02", "edge-04"]));
        assert_eq!(
            run(&mut v, &mut d, Duration::ZERO, 20, |v, now| v
                .link(false, now)),
            None
        );
        // …and takes edge-02's broker once it is advertised.
        v.brokers.push(("edge-02".into(), Probe::Open));
        assert_eq!(v.decide(&mut d, TICK * 21), Action::Use("edge-02".into()));
    }

    #[test]
    fn hub_lost_power_silence_decides_after_silent_confirm() {
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Silent)];
        v.live = Some(names(&["edge-03", "edge-04"]));
        // The keep-alive notices after 3 s; the port has been silent from the first tick.
        let got = run(&mut v, &mut d, Duration::ZERO, 40, |v, now| {
            if now >= Duration::from_secs(3) {
                v.link(false, now);
            }
        });
        let (at, a) = got.expect("decided");
        assert_eq!(at, TICK + Duration::from_secs(6));
        assert!(matches!(a, Action::Serve(Why::Lost(Evidence::Silent(_)))));
    }

    #[test]
    fn goodbye_and_a_refusal_decide_at_once_once_the_link_is_down() {
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Refused)];
        v.goodbyes = names(&["edge-01"]);
        v.live = Some(names(&["edge-03"]));
        v.heard_at = None;
        assert_eq!(v.decide(&mut d, TICK), Action::Wait, "link still up");
        v.link(false, TICK);
        assert_eq!(
            v.decide(&mut d, TICK * 2),
            Action::Serve(Why::Lost(Evidence::Goodbye))
        );
    }

    #[test]
    fn a_removal_without_a_refusal_proves_nothing() {
        // This box's own interface went down: mdns-sd dropped every record; all silent.
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Silent)];
        v.goodbyes = names(&["edge-01", "edge-03", "edge-04"]);
        v.live = Some(vec![]);
        assert_eq!(
            run(&mut v, &mut d, Duration::ZERO, 40, |v, now| v
                .link(false, now)),
            None
        );
        // The hub's Wi-Fi out (others answer): the silence path, not the goodbye.
        v.live = Some(names(&["edge-03", "edge-04"]));
        let got = run(&mut v, &mut d, TICK * 40, 40, |_, _| {});
        let (at, a) = got.expect("decided");
        assert_eq!(at, TICK * 41 + Duration::from_secs(6));
        assert!(matches!(a, Action::Serve(Why::Lost(Evidence::Silent(_)))));
    }

    #[test]
    fn own_wifi_down_never_starts_a_broker() {
        // The lowest non-hub box loses its Wi-Fi: nothing answers, for as long as it lasts.
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Silent)];
        v.live = Some(vec![]);
        let got = run(&mut v, &mut d, Duration::ZERO, 600, |v, now| {
            if now >= Duration::from_secs(2) {
                v.link(false, now);
            }
        });
        assert_eq!(got, None, "waited 300 s without a second broker");
        // Wi-Fi back: the hub's broker answers and is used again.
        v.brokers = vec![("edge-01".into(), Probe::Open)];
        v.live = Some(names(&["edge-01", "edge-03", "edge-04"]));
        assert_eq!(v.decide(&mut d, TICK * 601), Action::Use("edge-01".into()));
    }

    #[test]
    fn hub_wifi_cut_for_three_seconds_is_ridden_out() {
        // Every phase offset of a 3 s cut against the ticks, with the link dropping at once.
        for offset_ms in (0..500).step_by(50) {
            let mut v = View::on_hub("edge-02");
            let mut d = start(&v);
            let cut = Duration::from_millis(1000 + offset_ms);
            let back = cut + Duration::from_secs(3);
            for k in 1..40u32 {
                let now = TICK * k;
                let down = now >= cut && now < back;
                v.brokers = vec![(
                    "edge-01".into(),
                    if down { Probe::Silent } else { Probe::Open },
                )];
                v.live = Some(if down {
                    names(&["edge-03", "edge-04"])
                } else {
                    names(&["edge-01", "edge-03", "edge-04"])
                });
                v.link(!down, now);
                v.heard_at = None;
                let a = v.decide(&mut d, now);
                let want = if down {
                    Action::Wait
                } else {
                    Action::Use("edge-01".into())
                };
                assert_eq!(a, want, "offset {offset_ms} ms, tick {k}");
            }
        }
    }

    #[test]
    fn a_hub_that_answers_over_the_link_between_two_cuts_is_not_lost() {
        // The hub's Wi-Fi out 3 s, back for one tick on which its pending ping answer comes
        // over the link but no probe gets through (the first connect after a cut can wait
        // for the network), then out 3.5 s more: two silences, not one of 7 s.
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        let mut longest = Duration::ZERO;
        for k in 1..=30u32 {
            let now = TICK * k;
            v.brokers = vec![("edge-01".into(), Probe::Silent)];
            v.live = Some(names(&["edge-03", "edge-04"]));
            v.heard_at = None;
            if k == 7 {
                v.answered_at = Some(now);
            }
            v.link(k < 6 || (7..10).contains(&k), now);
            let a = v.decide(&mut d, now);
            assert_eq!(a, Action::Wait, "tick {k}");
            if let Some(s) = d.take_ended_silence() {
                longest = longest.max(s);
            }
            if k == 14 {
                // The second cut ends: the probe gets through.
                v.brokers = vec![("edge-01".into(), Probe::Open)];
                v.live = Some(names(&["edge-01", "edge-03", "edge-04"]));
                assert_eq!(v.decide(&mut d, now), Action::Use("edge-01".into()));
                longest = longest.max(d.take_ended_silence().expect("ended"));
                break;
            }
        }
        assert_eq!(
            longest,
            Duration::from_millis(3500),
            "the longer of the two"
        );
    }

    #[test]
    fn a_packet_from_before_the_silence_does_not_end_it() {
        // Power loss: the last packets from the hub are read late by a loaded box, within
        // ANSWER_MARGIN of the first unanswered probe.
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Silent)];
        v.live = Some(names(&["edge-03", "edge-04"]));
        v.heard_at = None;
        let got = run(&mut v, &mut d, Duration::ZERO, 40, |v, now| {
            if now == TICK * 2 {
                v.answered_at = Some(now);
            }
            v.link(now < Duration::from_secs(3), now);
        });
        let (at, a) = got.expect("decided");
        assert_eq!(at, TICK + Duration::from_secs(6));
        assert!(matches!(a, Action::Serve(Why::Lost(Evidence::Silent(_)))));
    }

    #[test]
    fn isolated_ticks_restart_the_silence_count() {
        // Flapping Wi-Fi on this box: silence half the time, isolation the other half.
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Silent)];
        // 25 s: within the slow path's 30 s.
        let got = run(&mut v, &mut d, Duration::ZERO, 50, |v, now| {
            v.link(false, now);
            let isolated = (now.as_millis() / 2000) % 2 == 1;
            v.live = Some(if isolated {
                vec![]
            } else {
                names(&["edge-03"])
            });
        });
        assert_eq!(got, None);
    }

    #[test]
    fn link_up_or_recent_heartbeat_holds_off() {
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Refused)];
        assert_eq!(run(&mut v, &mut d, Duration::ZERO, 40, |_, _| {}), None);
        // Link down but a peer heard through the broker just now.
        v.link(false, TICK * 40);
        v.heard_at = Some(TICK * 41);
        assert_eq!(v.decide(&mut d, TICK * 41), Action::Wait);
        assert_eq!(
            v.decide(&mut d, TICK * 44),
            Action::Serve(Why::Lost(Evidence::Refused(42)))
        );
    }

    #[test]
    fn no_takeover_without_a_probe_of_the_peers() {
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers = vec![("edge-01".into(), Probe::Refused)];
        v.live = None;
        assert_eq!(
            run(&mut v, &mut d, Duration::ZERO, 200, |v, now| v
                .link(false, now)),
            None
        );
    }

    #[test]
    fn hub_grace_then_slow_path() {
        // A configured hub with no broker around serves after its grace.
        let mut v = View::on_hub("edge-01");
        v.hub = true;
        v.ever_connected = false;
        v.brokers.clear();
        v.live = Some(vec![]);
        v.peers.clear();
        v.link(false, Duration::ZERO);
        let mut d = Detector::new(timing());
        // The first tick (0.5 s) starts the count.
        let got = run(&mut v, &mut d, Duration::ZERO, 20, |_, _| {});
        assert_eq!(
            got,
            Some((TICK + Duration::from_secs(3), Action::Serve(Why::HubStart)))
        );
        // A box with no hub configured: the slow path, lowest live only.
        for (me, serves) in [("edge-02", true), ("edge-03", false)] {
            let mut v = View::on_hub(me);
            v.ever_connected = false;
            v.brokers.clear();
            v.live = Some(
                v.peers
                    .iter()
                    .filter(|p| *p != "edge-01")
                    .cloned()
                    .collect(),
            );
            v.link(false, Duration::ZERO);
            let mut d = Detector::new(timing());
            let got = run(&mut v, &mut d, Duration::ZERO, 100, |_, _| {});
            assert_eq!(
                got.map(|g| g.0),
                serves.then_some(TICK + Duration::from_secs(30)),
                "{me}"
            );
        }
    }

    #[test]
    fn a_broker_withdrawn_without_goodbye_is_not_lost() {
        let mut v = View::on_hub("edge-02");
        let mut d = start(&v);
        v.brokers.clear();
        v.live = Some(names(&["edge-01", "edge-03"]));
        // Not lowest live (edge-01 answers): waits through the slow path.
        assert_eq!(
            run(&mut v, &mut d, Duration::ZERO, 100, |v, now| v
                .link(false, now)),
            None
        );
    }

    #[test]
    fn the_lowest_advertised_broker_wins_over_our_own() {
        let mut v = View::on_hub("edge-03");
        v.serving = true;
        // edge-01 is a box without a broker: not in the list.
        v.brokers = vec![
            ("edge-04".into(), Probe::Open),
            ("edge-02".into(), Probe::Open),
        ];
        let mut d = Detector::new(timing());
        assert_eq!(v.decide(&mut d, TICK), Action::Use("edge-02".into()));
        // Only higher ones advertised: ours stays.
        v.brokers.truncate(1);
        assert_eq!(v.decide(&mut d, TICK * 2), Action::Serve(Why::Lowest));
        // Nothing advertised, not serving: nothing to use.
        v.brokers.clear();
        v.serving = false;
        assert!(!matches!(v.decide(&mut d, TICK * 3), Action::Use(_)));
    }

    #[test]
    fn healed_partition_ends_on_the_lowest_broker() {
        // edge-03 serves; edge-02's broker appears: edge-03 uses it (and withdraws).
        let mut v = View::on_hub("edge-03");
        v.serving = true;
        v.brokers = vec![("edge-04".into(), Probe::Open)];
        let mut d = Detector::new(timing());
        assert_eq!(v.decide(&mut d, TICK), Action::Serve(Why::Lowest));
        v.brokers.push(("edge-02".into(), Probe::Open));
        assert_eq!(v.decide(&mut d, TICK * 2), Action::Use("edge-02".into()));
        // A lower broker that does not answer does not win.
        v.brokers = vec![("edge-02".into(), Probe::Silent)];
        assert_eq!(v.decide(&mut d, TICK * 3), Action::Serve(Why::Lowest));
    }

    use proptest::prelude::*;

    /// One tick as edge-02 (the box that would take over) sees it; edge-03 and edge-04 are
    /// the other survivors.
    #[derive(Debug, Clone, Copy)]
    struct Tick {
        link_up: bool,
        heard: bool,
        peer3: bool,
        peer4: bool,
    }

    fn tick() -> impl Strategy<Value = Tick> {
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(link_up, heard, peer3, peer4)| Tick {
                link_up,
                heard,
                peer3,
                peer4,
            },
        )
    }

    fn apply(v: &mut View, t: Tick, now: Duration, hub: Probe, hub_web: bool) {
        v.brokers = vec![("edge-01".into(), hub)];
        v.link(t.link_up, now);
        v.heard_at = t.heard.then_some(now);
        let mut live = Vec::new();
        if hub_web {
            live.push("edge-01".to_owned());
        }
        if t.peer3 {
            live.push("edge-03".to_owned());
        }
        if t.peer4 {
            live.push("edge-04".to_owned());
        }
        v.live = Some(live);
    }

    proptest! {
        /// This box's own Wi-Fi going and coming in any pattern (cut: it reaches no one;
        /// otherwise the hub answers), whatever its link and heartbeat do: never a broker.
        #[test]
        fn own_wifi_flaps_never_start_a_broker(
            ticks in prop::collection::vec((any::<bool>(), tick()), 1..400)
        ) {
            let mut v = View::on_hub("edge-02");
            let mut d = start(&v);
            for (k, (cut, t)) in ticks.into_iter().enumerate() {
                let now = TICK * (k as u32 + 1);
                if cut {
                    apply(&mut v, Tick { peer3: false, peer4: false, ..t }, now, Probe::Silent, false);
                } else {
                    apply(&mut v, t, now, Probe::Open, true);
                }
                let a = v.decide(&mut d, now);
                prop_assert!(!matches!(a, Action::Serve(_)), "tick {}: {:?}", k, a);
            }
        }

        /// The hub silent for runs shorter than `silent_confirm` (its Wi-Fi flapping), with
        /// any link, heartbeat and peers: never a broker.
        #[test]
        fn hub_outages_shorter_than_silent_confirm_never_start_a_broker(
            outages in prop::collection::vec((1u32..=12, 1u32..10, prop::collection::vec(tick(), 22)), 1..20)
        ) {
            let mut v = View::on_hub("edge-02");
            let mut d = start(&v);
            let mut k = 0u32;
            for (silent, open, ts) in outages {
                for i in 0..silent + open {
                    k += 1;
                    let now = TICK * k;
                    let t = ts[i as usize];
                    if i < silent {
                        apply(&mut v, t, now, Probe::Silent, false);
                    } else {
                        apply(&mut v, t, now, Probe::Open, true);
                    }
                    let a = v.decide(&mut d, now);
                    prop_assert!(!matches!(a, Action::Serve(_)), "tick {}: {:?}", k, a);
                }
            }
        }

        /// The hub killed (its port refuses from then on) while other boxes answer: the
        /// lowest survivor serves on the first tick when its link is down, nothing was heard
        /// for `heard_hold` and three refusals were seen — never earlier, and a higher box
        /// never serves.
        #[test]
        fn a_killed_hub_is_replaced_by_the_lowest_survivor_only(
            before in 0u32..20,
            link_down_after in 0u32..8,
            heard in prop::collection::vec(any::<bool>(), 40),
            peer4 in any::<bool>(),
        ) {
            for me in ["edge-02", "edge-03"] {
                let mut v = View::on_hub(me);
                let mut d = start(&v);
                let mut last_heard = Duration::ZERO;
                for k in 1..=before {
                    let now = TICK * k;
                    apply(&mut v, Tick { link_up: true, heard: true, peer3: true, peer4 }, now, Probe::Open, true);
                    if let Some(l) = v.live.as_mut() {
                        l.retain(|p| p != me);
                    }
                    last_heard = now;
                    prop_assert_eq!(v.decide(&mut d, now), Action::Use("edge-01".into()));
                }
                let mut served = None;
                let mut refused = 0;
                for i in 0..40u32 {
                    let now = TICK * (before + 1 + i);
                    let link_up = i < link_down_after;
                    // Heard only while the link is up (the broker is gone).
                    let h = link_up && heard[i as usize];
                    apply(&mut v, Tick { link_up, heard: h, peer3: true, peer4 }, now, Probe::Refused, false);
                    v.live = Some(
                        ["edge-02", "edge-03", "edge-04"]
                            .iter()
                            .filter(|p| **p != me && (**p != "edge-04" || peer4))
                            .map(|p| (*p).to_owned())
                            .collect(),
                    );
                    if h {
                        last_heard = now;
                    }
                    v.heard_at = Some(last_heard);
                    refused += 1;
                    let a = v.decide(&mut d, now);
                    let due = !link_up
                        && refused >= 3
                        && now - last_heard >= Duration::from_secs(1);
                    if me == "edge-03" {
                        prop_assert_eq!(&a, &Action::Wait);
                    } else if served.is_none() {
                        prop_assert_eq!(matches!(a, Action::Serve(Why::Lost(_))), due, "tick {}: {:?}", i, a);
                        if due {
                            served = Some(i);
                        }
                    }
                }
                if me == "edge-02" {
                    prop_assert!(served.is_some());
                }
            }
        }
    }
}
