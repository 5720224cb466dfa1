//! The municipality's CA and box enrolment, checked with the real `openssl` command line
//! (what an administrator or a peer's TLS stack would do): an enrolled box's certificate
//! verifies against its CA for server and client use, never against another CA; names and
//! addresses are in it; private keys are owner-only; nothing is ever overwritten; bad ids
//! and validities are refused.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use checkup_provisioning::ca::{CaError, create_ca, enrol_box};

fn openssl(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl (Debian package openssl)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn an_enrolled_box_verifies_against_its_ca_only() {
    let dir = tempfile::tempdir().expect("dir");
    let (ca, other) = (dir.path().join("ca"), dir.path().join("other-ca"));
    std::fs::create_dir_all(&ca).expect("dir");
    std::fs::create_dir_all(&other).expect("dir");
    let ca_cert = create_ca(&ca, "みどり市", 365).expect("ca");
    let other_cert = create_ca(&other, "あおば市", 365).expect("other ca");
    let e = enrol_box(
        &ca,
        "edge-01",
        "hall-1",
        &["127.0.0.1".into(), "box1.venue.lan".into()],
        &dir.path().join("edge-01"),
        30,
    )
    .expect("enrol");

    for purpose in ["sslserver", "sslclient"] {
        let (ok, text) = openssl(&[
            "verify",
            "-purpose",
            purpose,
            "-CAfile",
            s(&ca_cert),
            s(&e.cert),
        ]);
        assert!(ok && text.contains(": OK"), "{purpose}: {text}");
    }
    let (ok, text) = openssl(&["verify", "-CAfile", s(&other_cert), s(&e.cert)]);
    assert!(
        !ok,
        "another municipality's CA must not vouch for the box: {text}"
    );

    let (_, text) = openssl(&["x509", "-in", s(&e.cert), "-noout", "-text"]);
    for want in [
        "CN = edge-01",
        "OU = hall-1",
        "DNS:edge-01",
        "IP Address:127.0.0.1",
        "DNS:box1.venue.lan",
        "TLS Web Server Authentication",
        "TLS Web Client Authentication",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    // The box's TLS key matches its certificate.
    let (_, from_cert) = openssl(&["x509", "-in", s(&e.cert), "-noout", "-pubkey"]);
    let (_, from_key) = openssl(&["pkey", "-in", s(&e.key), "-pubout"]);
    assert_eq!(from_cert, from_key);
    // Private keys: owner only. The signing key is the 32-byte ed25519 secret.
    for k in [ca.join("ca.key"), e.key.clone(), e.node_key.clone()] {
        let mode = std::fs::metadata(&k).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", k.display());
    }
    assert_eq!(std::fs::read(&e.node_key).expect("node key").len(), 32);
    assert_eq!(e.public_key.len(), 44);
    assert_eq!(
        std::fs::read(&e.ca).expect("ca copy"),
        std::fs::read(&ca_cert).expect("ca")
    );
}

#[test]
fn nothing_is_overwritten_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    create_ca(dir.path(), "みどり市", 365).expect("ca");
    let before = std::fs::read(dir.path().join("ca.key")).expect("key");
    assert!(matches!(
        create_ca(dir.path(), "みどり市", 365),
        Err(CaError::File(_))
    ));
    assert_eq!(
        std::fs::read(dir.path().join("ca.key")).expect("key"),
        before
    );

    let out = dir.path().join("boxes");
    enrol_box(dir.path(), "edge-01", "hall-1", &[], &out, 30).expect("enrol");
    let cert = std::fs::read(out.join("edge-01.crt")).expect("cert");
    assert!(matches!(
        enrol_box(dir.path(), "edge-01", "hall-1", &[], &out, 30),
        Err(CaError::File(_))
    ));
    assert_eq!(std::fs::read(out.join("edge-01.crt")).expect("cert"), cert);
    // A second box in the same directory shares the CA copy.
    enrol_box(dir.path(), "edge-02", "hall-1", &[], &out, 30).expect("second box");

    for (node, venue, days) in [
        ("edge/01", "hall-1", 30),
        ("", "hall-1", 30),
        ("edge-03", "hall 1", 30),
        ("edge-03", "hall-1", 0),
    ] {
        assert!(
            matches!(
                enrol_box(dir.path(), node, venue, &[], &out, days),
                Err(CaError::Invalid(_))
            ),
            "{node:?} {venue:?} {days}"
        );
    }
    assert!(matches!(
        enrol_box(
            &dir.path().join("nowhere"),
            "edge-04",
            "hall-1",
            &[],
            &out,
            30
        ),
        Err(CaError::Read { .. })
    ));
    assert!(matches!(
        create_ca(&dir.path().join("x"), " ", 365),
        Err(CaError::Invalid(_))
    ));
}

#[test]
fn a_revoked_box_fails_openssls_crl_check_and_the_others_pass() {
    use checkup_provisioning::ca::{CA_CRL, revoke, revoked_nodes};
    let dir = tempfile::tempdir().expect("dir");
    let ca = dir.path().join("ca");
    std::fs::create_dir_all(&ca).expect("dir");
    let ca_cert = create_ca(&ca, "みどり市", 365).expect("ca");
    let crl = ca.join(CA_CRL);
    let stolen = enrol_box(&ca, "edge-01", "hall-1", &[], &dir.path().join("b1"), 30).expect("1");
    let kept = enrol_box(&ca, "edge-02", "hall-1", &[], &dir.path().join("b2"), 30).expect("2");
    let check = |cert: &Path| {
        openssl(&[
            "verify",
            "-crl_check",
            "-CRLfile",
            s(&crl),
            "-CAfile",
            s(&ca_cert),
            s(cert),
        ])
    };
    // The CA starts with an empty, signed list: both pass.
    for c in [&stolen.cert, &kept.cert] {
        let (ok, text) = check(c);
        assert!(ok, "before revocation: {text}");
    }
    let serials = revoke(&ca, "edge-01").expect("revoke");
    assert_eq!(serials.len(), 1);
    let (ok, text) = check(&stolen.cert);
    assert!(
        !ok && text.contains("revoked"),
        "a revoked certificate: {text}"
    );
    let (ok, text) = check(&kept.cert);
    assert!(ok, "another box is untouched: {text}");
    assert_eq!(
        revoked_nodes(&ca).expect("list"),
        vec!["edge-01".to_owned()]
    );
    // Twice, or a box never enrolled: a clear error, the list unchanged.
    let before = std::fs::read(&crl).expect("crl");
    assert!(matches!(revoke(&ca, "edge-01"), Err(CaError::Invalid(m)) if m.contains("already")));
    assert!(
        matches!(revoke(&ca, "edge-99"), Err(CaError::Invalid(m)) if m.contains("no certificate"))
    );
    assert_eq!(std::fs::read(&crl).expect("crl"), before);
}
