//! `ltc ca`: where the local certificate authority is, and how to trust it so browsers and
//! tools accept the router's HTTPS without warnings.

use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::CaInfo;
use crate::ui::{Color, Ui};

pub async fn run(settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    let ca: CaInfo = client.get("/v1/ca").await?;
    if ui.json {
        ui.json(&ca);
        return Ok(());
    }
    let path = &ca.cert_path;
    ui.out(ui.paint(Color::Green, path));
    if ui.quiet {
        return Ok(());
    }
    ui.note(format!(
        "ltc's local certificate authority (SHA-256 {}, valid until {}).",
        ca.fingerprint_sha256, ca.not_after
    ));
    match &ca.https_address {
        Some(address) => ui.note(format!(
            "The router serves HTTPS on {address} for every route, with certificates this CA \
             issues."
        )),
        None => ui.note(
            "The router does not serve HTTPS now: LTC_ROUTER_TLS_ADDR is `off` or its port was \
             taken (`ltc debug-logs` says which).",
        ),
    }
    ui.note(format!(
        "\nTrust it once, and browsers and tools accept ltc's HTTPS:\n\
         \x20 Debian, Ubuntu:  sudo cp {path} /usr/local/share/ca-certificates/ltc-ca.crt && sudo update-ca-certificates\n\
         \x20 Fedora, RHEL:    sudo cp {path} /etc/pki/ca-trust/source/anchors/ltc-ca.pem && sudo update-ca-trust\n\
         \x20 macOS:           sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {path}\n\
         \x20 Chromium, Chrome (Linux): certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n ltc -i {path}\n\
         \x20 Firefox:         Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import {path}\n\
         \x20 curl, one call:  curl --cacert {path} https://APP.localhost:PORT/\n\
         \x20 Python, Node:    SSL_CERT_FILE={path} or NODE_EXTRA_CA_CERTS={path}"
    ));
    Ok(())
}
