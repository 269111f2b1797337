//! An app's edge settings: response and drain timeouts, the HTTPS redirect, and certificates
//! users give per hostname. They change live: no new revision, nothing restarts.

use super::Node;
use crate::error::{Error, Kind, Result};
use crate::logging::log;
use crate::model::{AppName, Edge, EdgeRequest, Routes, UserCertificate};
use crate::router::tls::{UserCert, UserCertError, load_user_cert};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Longest response timeout accepted: a day.
const MAX_RESPONSE_TIMEOUT_MS: u64 = 24 * 3600 * 1000;
/// Longest drain accepted: an hour.
const MAX_DRAIN_TIMEOUT_MS: u64 = 3600 * 1000;

/// The edge settings `request` asks for, what changed, and warnings (a certificate that is
/// expired). Certificates are checked and copied into the home here; nothing else is written.
pub(super) fn patch_edge(
    home: &Path,
    app: &AppName,
    current: &Edge,
    (routes, domain): (&Routes, &str),
    request: &EdgeRequest,
) -> Result<(Edge, Vec<String>, Vec<String>)> {
    let mut edge = current.clone();
    let mut changed = Vec::new();
    let mut warnings = Vec::new();
    if let Some(ms) = request.response_timeout_ms {
        check_range("--response-timeout", ms, MAX_RESPONSE_TIMEOUT_MS)?;
        if edge.response_timeout_ms() != ms {
            changed.push(format!("response timeout {}", seconds(ms)));
        }
        edge.response_timeout_ms = Some(ms);
    }
    if let Some(ms) = request.drain_timeout_ms {
        check_range("--drain-timeout", ms, MAX_DRAIN_TIMEOUT_MS)?;
        if edge.drain_timeout_ms() != ms {
            changed.push(format!("drain timeout {}", seconds(ms)));
        }
        edge.drain_timeout_ms = Some(ms);
    }
    if let Some(redirect) = request.redirect_https
        && redirect != edge.redirect_https
    {
        edge.redirect_https = redirect;
        changed.push(match redirect {
            true => "HTTP redirected to HTTPS".to_string(),
            false => "HTTP served as HTTP".to_string(),
        });
    }
    for host in &request.remove_certificates {
        let host = host.to_ascii_lowercase();
        if edge.certificates.remove(&host).is_none() {
            return Err(Error::usage(format!(
                "`{app}` has no certificate of its own for `{host}`"
            ))
            .with_hint(format!("`ltc status {app}` lists its certificates")));
        }
        changed.push(format!("certificate for {host} removed"));
    }
    for wanted in &request.certificates {
        let host = match &wanted.hostname {
            Some(host) => host.trim_end_matches('.').to_ascii_lowercase(),
            None => routes
                .http
                .first()
                .map(|r| r.hostname.clone())
                .ok_or_else(|| {
                    Error::usage(format!(
                        "`{app}` has no HTTP route to give a certificate for"
                    ))
                    .with_hint("add one with `-R HOST`, or name it with `--cert-host HOST`")
                })?,
        };
        let served = routes
            .http
            .iter()
            .any(|r| crate::model::served_names(&r.hostname, domain).contains(&host));
        if !served {
            return Err(Error::usage(format!(
                "`{host}` is not a route of `{app}`: a certificate is for one of its hostnames"
            ))
            .with_hint(format!(
                "`ltc status {app}` lists its routes; add one with `--add-route {host}`"
            )));
        }
        let cert_path = Path::new(&wanted.cert_file);
        let key_path = Path::new(&wanted.key_file);
        let loaded = load_user_cert(cert_path, key_path, &host).map_err(|e| match e {
            UserCertError::Unreadable(message) => Error::new(Kind::FileSystem, message)
                .with_hint("`--cert` and `--key` take PEM files this user can read"),
            UserCertError::Invalid(message) => Error::usage(message).with_hint(CERT_HINT),
        })?;
        warnings.extend(loaded.warning.clone());
        let (cert_copy, key_copy) = copy_into_home(home, &host, &loaded)?;
        edge.certificates.insert(
            host.clone(),
            UserCertificate {
                cert_file: cert_copy.display().to_string(),
                key_file: key_copy.display().to_string(),
                not_after: crate::logging::rfc3339(loaded.not_after),
            },
        );
        changed.push(format!("certificate for {host}"));
    }
    Ok((edge, changed, warnings))
}

fn check_range(flag: &str, ms: u64, max: u64) -> Result<()> {
    if ms == 0 || ms > max {
        return Err(Error::usage(format!(
            "`{flag}` must be more than 0 and at most {}",
            seconds(max)
        ))
        .with_hint(format!(
            "give a duration such as `{flag} 2m` or `{flag} 90s`"
        )));
    }
    Ok(())
}

fn seconds(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms)).to_string()
}

/// Copies a certificate and its key into `$LTC_HOME/certs/`, the key readable by its owner
/// only, so the app keeps serving them when the originals move.
fn copy_into_home(home: &Path, host: &str, loaded: &UserCert) -> Result<(PathBuf, PathBuf)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = home.join("certs");
    let fail = |path: &Path, e: std::io::Error| {
        Error::new(
            Kind::FileSystem,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail(&dir, e))?;
    let cert_copy = dir.join(format!("{host}.pem"));
    let key_copy = dir.join(format!("{host}-key.pem"));
    std::fs::write(&cert_copy, &loaded.cert_pem).map_err(|e| fail(&cert_copy, e))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&key_copy)
        .map_err(|e| fail(&key_copy, e))?;
    file.write_all(&loaded.key_pem)
        .map_err(|e| fail(&key_copy, e))?;
    Ok((cert_copy, key_copy))
}

/// What a certificate and key given with `--cert`/`--key` must be.
const CERT_HINT: &str = "`--cert` takes the certificate (PEM, leaf first) for the hostname \
                         `--cert-host` names, `--key` that certificate's private key (PEM)";

impl Node {
    /// The local CA, for `ltc ca`.
    pub fn ca(&self) -> Result<crate::model::CaInfo> {
        let Some(certificates) = self.router.certificates() else {
            return Err(Error::config(
                "HTTPS is off: LTC_ROUTER_TLS_ADDR is `off`, or the local CA could not be made \
                 (the node's log says why)",
            )
            .with_hint("`ltc debug-logs` shows the node's log"));
        };
        let ca = certificates.ca();
        use sha2::Digest;
        let digest = sha2::Sha256::digest(ca.der().as_ref());
        let fingerprint = digest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let not_after = crate::router::tls::not_after(ca.der())
            .map(crate::logging::rfc3339)
            .unwrap_or_default();
        Ok(crate::model::CaInfo {
            cert_path: ca.cert_path.display().to_string(),
            fingerprint_sha256: fingerprint,
            not_after,
            https_address: self
                .router
                .https_port()
                .map(|port| std::net::SocketAddr::new(self.router_addr.ip(), port).to_string()),
        })
    }

    /// Hands the router the certificates users gave, from their copies in the home. One that
    /// no longer loads is logged and left out: its host falls back to the local CA.
    pub(super) fn publish_certificates(&self) {
        let Some(certificates) = self.router.certificates() else {
            return;
        };
        let wanted: Vec<(String, UserCertificate)> = {
            let inner = self.lock();
            inner
                .desired
                .apps
                .values()
                .flat_map(|spec| spec.edge.certificates.clone().into_iter())
                .collect::<Vec<(String, UserCertificate)>>()
        };
        let mut loaded = HashMap::new();
        for (host, cert) in wanted {
            match load_user_cert(Path::new(&cert.cert_file), Path::new(&cert.key_file), &host) {
                Ok(cert) => {
                    loaded.insert(host, Arc::new(cert.certified));
                }
                Err(UserCertError::Unreadable(e) | UserCertError::Invalid(e)) => {
                    log(format!("the certificate for {host} is not served: {e}"));
                }
            }
        }
        certificates.set_user(loaded);
    }
}
