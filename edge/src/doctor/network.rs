//! Checks over the network, as the box's own clients would make them (its TLS, its
//! secret): central (`central`) and this machine's clock against central's (`clock`), and
//! the venue's broker (`broker`).

use std::time::Duration;

use checkup_provisioning::doctor::{self, Check};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet};

use super::TlsState;
use crate::config::Config;

/// How long one network check may take.
const TIMEOUT: Duration = Duration::from_secs(5);

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// An HTTP `Date` (IMF-fixdate, `Tue, 01 Dec 2026 17:07:18 GMT`) in Unix seconds.
pub fn parse_http_date(s: &str) -> Option<f64> {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(s.trim(), f)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp() as f64)
}

/// Central answers `GET /healthz` and accepts this box's forwarding secret (an empty
/// batch, which stores nothing); and the clock against the `Date` of that answer.
/// Returns `(clock, central)`.
pub async fn central(c: &Config, tls: &TlsState) -> (Check, Check) {
    let Some(url) = c.central.first_url() else {
        return (
            Check::skipped(
                "clock",
                "central が設定されていないため、時計を比べていません",
                "no central configured: the clock was not compared",
            ),
            Check::skipped(
                "central",
                "central.url がありません (central へ転送しません)",
                "no central.url: nothing is forwarded",
            ),
        );
    };
    let not_compared = |why_ja: &str, why_en: &str| {
        Check::skipped(
            "clock",
            format!("{why_ja}ため、時計を比べていません"),
            format!("the clock was not compared: {why_en}"),
        )
    };
    let client_tls = match tls {
        TlsState::Loaded(t) => Some(t.central.clone()),
        TlsState::None => None,
        TlsState::Broken => {
            return (
                not_compared("TLS が使えない", "no usable TLS"),
                Check::skipped(
                    "central",
                    "TLS が使えないため central を確認していません (tls を参照)",
                    "central not checked: the box's TLS does not load (see tls)",
                ),
            );
        }
    };
    let client = match crate::forward::central_client(client_tls, TIMEOUT) {
        Ok(cl) => cl,
        Err(e) => {
            return (
                not_compared("HTTP クライアントを作れない", "no HTTP client"),
                Check::error(
                    "central",
                    format!("HTTP クライアントを作れません: {e}"),
                    format!("cannot make the HTTP client: {e}"),
                    "check [tls] (checkup-edge doctor shows tls)",
                ),
            );
        }
    };
    let base = url.trim_end_matches('/');
    let unreachable_fix = format!(
        "check central.url and the network (curl {base}/healthz); on central: checkup-central doctor --config FILE"
    );
    let before = unix_now();
    let answer = client.get(format!("{base}/healthz")).send().await;
    let after = unix_now();
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            return (
                not_compared("central に接続できない", "central is unreachable"),
                Check::error(
                    "central",
                    format!("central ({url}) に接続できません: {e}"),
                    format!("central ({url}) is unreachable: {e}"),
                    unreachable_fix,
                ),
            );
        }
    };
    let date = answer
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date);
    let clock = match date {
        Some(d) => doctor::clock(
            doctor::skew(before, after, d, d + 1.0),
            "central",
            "central's",
        ),
        None => not_compared(
            "central の応答に Date ヘッダーがない",
            "central's answer has no Date header",
        ),
    };
    if !answer.status().is_success() {
        let status = answer.status();
        return (
            clock,
            Check::error(
                "central",
                format!("central の /healthz が {status} を返しました"),
                format!("central's /healthz answered {status}"),
                unreachable_fix,
            ),
        );
    }
    let secret = c.central.secret.clone().unwrap_or_default();
    let sent = client
        .post(format!("{base}/v1/batches"))
        .bearer_auth(secret)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("[]")
        .send()
        .await;
    let secret_fix = format!(
        "central.secret must be the secret whose SHA-256 central's [[boxes]] entry for {} holds (checkup-provision bundle writes central-boxes.toml); with TLS the box presents its own certificate",
        c.node_id
    );
    let checked = match sent {
        Ok(r) if r.status().is_success() => Check::ok(
            "central",
            format!("central ({url}) に接続でき、転送用の秘密が受け入れられました"),
            format!("central ({url}) answers and accepts this box's forwarding secret"),
        ),
        Ok(r) => {
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            let code = body["error"].as_str().unwrap_or("").to_owned();
            let ja = format!("central ({url}) がこの箱の転送を拒否しました: {status} {code}");
            let en = format!("central ({url}) refuses this box's batches: {status} {code}");
            if status.is_client_error() {
                Check::error("central", ja, en, secret_fix)
            } else {
                Check::warning(
                    "central",
                    ja,
                    en,
                    "on central: checkup-central doctor --config FILE",
                )
            }
        }
        Err(e) => Check::error(
            "central",
            format!("central ({url}) への送信に失敗しました: {e}"),
            format!("sending to central ({url}) failed: {e}"),
            unreachable_fix,
        ),
    };
    (clock, checked)
}

/// The configured broker accepts an MQTT connection (over TLS with the box's certificate
/// when enrolled).
pub async fn broker(c: &Config, tls: &TlsState) -> Check {
    const ID: &str = "broker";
    let r = &c.replication;
    let Some(addr) = &r.broker else {
        let (ja, en) = if r.hub {
            (
                "このボックスが会場のブローカーを起動します (replication.hub)",
                "this box starts the venue's broker itself (replication.hub)",
            )
        } else if r.discovery {
            (
                "ブローカーは起動時に mDNS で探します",
                "the broker is found by mDNS when the box runs",
            )
        } else {
            (
                "会場内の複製は無効です (broker なし、discovery = false)",
                "venue replication is off (no broker, discovery = false)",
            )
        };
        return Check::skipped(ID, ja, en);
    };
    let Some((host, port)) = addr
        .rsplit_once(':')
        .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_owned(), p)))
    else {
        return Check::error(
            ID,
            format!("replication.broker {addr:?} は host:port ではありません"),
            format!("replication.broker {addr:?} is not host:port"),
            "replication.broker = \"HOST:PORT\"",
        );
    };
    let fix = format!(
        "start the venue's broker (sudo systemctl start mosquitto) or correct replication.broker ({addr}); with TLS it must be set up by checkup-provision broker-config"
    );
    let mut opts = MqttOptions::new(
        format!(
            "checkup-doctor-{}-{}-{}",
            c.venue_id,
            c.node_id,
            std::process::id()
        ),
        host,
        port,
    );
    opts.set_keep_alive(Duration::from_secs(5));
    match tls {
        TlsState::Loaded(t) => {
            opts.set_transport(rumqttc::Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(t.mqtt.clone()),
            ));
        }
        TlsState::None => {}
        TlsState::Broken => {
            return Check::skipped(
                ID,
                "TLS が使えないためブローカーを確認していません (tls を参照)",
                "broker not checked: the box's TLS does not load (see tls)",
            );
        }
    }
    let (client, mut events) = AsyncClient::new(opts, 8);
    let mut net = rumqttc::NetworkOptions::new();
    net.set_connection_timeout(TIMEOUT.as_secs());
    events.network_options = net;
    let connected = tokio::time::timeout(TIMEOUT + Duration::from_secs(1), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err(format!("no CONNACK within {} s", TIMEOUT.as_secs())));
    match connected {
        Ok(()) => {
            let _ = client.disconnect().await;
            let _ = tokio::time::timeout(Duration::from_millis(500), events.poll()).await;
            Check::ok(
                ID,
                format!("ブローカー {addr} に接続できます"),
                format!("the broker {addr} accepts this box"),
            )
        }
        Err(e) => Check::error(
            ID,
            format!("ブローカー {addr} に接続できません: {e}"),
            format!("the broker {addr} does not accept this box: {e}"),
            fix,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_to_unix_seconds() {
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:01:40 GMT"),
            Some(100.0)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
