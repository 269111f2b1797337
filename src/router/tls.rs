//! HTTPS: the local certificate authority and the certificate each TLS handshake gets.
//!
//! On first start the node makes a certificate authority in `$LTC_HOME/ca/` (its key 0600).
//! A handshake names a host (SNI): a certificate the user gave for that host wins; otherwise,
//! when the router serves the host, the CA issues a certificate for that one name, kept in
//! memory for the node's life. A name the router does not serve gets no certificate, so the
//! handshake ends with an alert instead of a certificate for a name nobody routes.

use super::Router;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime};

/// The CA's certificate and key, under the home.
pub const CA_CERT_FILE: &str = "ca/ltc-ca.pem";
pub const CA_KEY_FILE: &str = "ca/ltc-ca-key.pem";
/// How long the CA is valid for: ten years, so a trusted CA is trusted once.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// How long an issued certificate is valid: within the 398 days browsers accept, and issued
/// again by every node start anyway.
const LEAF_VALIDITY: Duration = Duration::from_secs(397 * 24 * 3600);

/// The local certificate authority.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pub cert_path: PathBuf,
}

impl LocalCa {
    /// Loads the home's CA, making it on first use.
    pub fn load_or_create(home: &Path) -> Result<LocalCa, String> {
        let cert_path = home.join(CA_CERT_FILE);
        let key_path = home.join(CA_KEY_FILE);
        if cert_path.exists() && key_path.exists() {
            let cert_pem = std::fs::read_to_string(&cert_path)
                .map_err(|e| format!("cannot read {}: {e}", cert_path.display()))?;
            let key_pem = std::fs::read_to_string(&key_path)
                .map_err(|e| format!("cannot read {}: {e}", key_path.display()))?;
            let key = KeyPair::from_pem(&key_pem)
                .map_err(|e| format!("{} is not a private key: {e}", key_path.display()))?;
            let der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
                .map_err(|e| format!("{} is not a certificate: {e}", cert_path.display()))?;
            let issuer = Issuer::from_ca_cert_der(&der, key)
                .map_err(|e| format!("{} is not a CA certificate: {e}", cert_path.display()))?;
            return Ok(LocalCa {
                issuer,
                der,
                cert_path,
            });
        }
        let key = KeyPair::generate().map_err(|e| format!("cannot make the CA's key: {e}"))?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "ltc local CA");
        name.push(DnType::OrganizationName, "ltc");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = SystemTime::now();
        params.not_before = (now - Duration::from_secs(3600)).into();
        params.not_after = (now + CA_VALIDITY).into();
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("cannot make the CA's certificate: {e}"))?;
        let dir = cert_path.parent().expect("a file in a directory");
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        std::fs::write(&cert_path, cert.pem())
            .map_err(|e| format!("cannot write {}: {e}", cert_path.display()))?;
        Ok(LocalCa {
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
            cert_path,
        })
    }

    /// The CA's certificate (DER).
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// A certificate for `name` alone, signed by this CA, with the CA in its chain.
    pub fn issue(&self, name: &str) -> Result<CertifiedKey, String> {
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params =
            CertificateParams::new(vec![name.to_string()]).map_err(|e| e.to_string())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = SystemTime::now();
        params.not_before = (now - Duration::from_secs(3600)).into();
        params.not_after = (now + LEAF_VALIDITY).into();
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| e.to_string())?;
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing =
            rustls::crypto::ring::sign::any_supported_type(&private).map_err(|e| e.to_string())?;
        Ok(CertifiedKey::new(
            vec![cert.der().clone(), self.der.clone()],
            signing,
        ))
    }
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Picks the certificate for each TLS handshake (see the module's docs).
pub struct Certificates {
    ca: LocalCa,
    issued: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    user: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    router: Weak<Router>,
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificates").finish_non_exhaustive()
    }
}

impl Certificates {
    pub fn new(ca: LocalCa, router: &Arc<Router>) -> Certificates {
        Certificates {
            ca,
            issued: Mutex::new(HashMap::new()),
            user: RwLock::new(HashMap::new()),
            router: Arc::downgrade(router),
        }
    }

    pub fn ca(&self) -> &LocalCa {
        &self.ca
    }

    /// Replaces the certificates users gave, by hostname (lowercase).
    pub fn set_user(&self, certs: HashMap<String, Arc<CertifiedKey>>) {
        *self.user.write().expect("user certs lock") = certs;
    }

    fn for_name(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        if let Some(user) = self.user.read().expect("user certs lock").get(name) {
            return Some(user.clone());
        }
        let router = self.router.upgrade()?;
        if !router.serves_host(name) {
            return None;
        }
        let mut issued = self.issued.lock().expect("issued lock");
        if let Some(cert) = issued.get(name) {
            return Some(cert.clone());
        }
        match self.ca.issue(name) {
            Ok(cert) => {
                let cert = Arc::new(cert);
                issued.insert(name.to_string(), cert.clone());
                Some(cert)
            }
            Err(e) => {
                crate::logging::log(format!(
                    "router: cannot issue a certificate for {name}: {e}"
                ));
                None
            }
        }
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello
            .server_name()?
            .trim_end_matches('.')
            .to_ascii_lowercase();
        self.for_name(&name)
    }
}

/// The server side of TLS: ALPN h2 then http/1.1, certificates from [`Certificates`], and
/// AES-128-GCM chosen over AES-256-GCM whatever the client lists first (as Go's servers and
/// Mozilla's recommended configurations do). The SHA-384 of the AES-256 suites has no
/// instructions of its own on x86, SHA-256 does: a profile of new HTTPS connections spent a
/// tenth of the router's CPU in SHA-512 blocks for the handshake's key schedule.
pub fn server_config(certs: Arc<dyn ResolvesServerCert>) -> Arc<rustls::ServerConfig> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .sort_by_key(|suite| suite_rank(suite.suite()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.ignore_client_order = true;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The server's order of preference: AES-128-GCM, then ChaCha20-Poly1305, then AES-256-GCM,
/// TLS 1.3 before TLS 1.2 (a stable sort keeps the provider's order within a rank).
fn suite_rank(suite: rustls::CipherSuite) -> u8 {
    use rustls::CipherSuite as S;
    match suite {
        S::TLS13_AES_128_GCM_SHA256 => 0,
        S::TLS13_CHACHA20_POLY1305_SHA256 => 1,
        S::TLS13_AES_256_GCM_SHA384 => 2,
        S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 | S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => 3,
        S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        | S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => 4,
        _ => 5,
    }
}

/// Why a certificate a user gave cannot be used.
#[derive(Debug)]
pub enum UserCertError {
    /// A file cannot be read (exit 12).
    Unreadable(String),
    /// The files do not make a certificate and key for the host (exit 13).
    Invalid(String),
}

/// A user's certificate and key, checked, with the files as read.
pub struct UserCert {
    pub certified: CertifiedKey,
    /// Set when the certificate has expired or is not valid yet, naming its dates.
    pub warning: Option<String>,
    /// The certificate's last valid moment.
    pub not_after: SystemTime,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// The last valid moment of a certificate (DER), when it parses.
pub fn not_after(der: &[u8]) -> Option<SystemTime> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(not_after_of(&cert))
}

fn not_after_of(cert: &x509_parser::certificate::X509Certificate<'_>) -> SystemTime {
    let seconds = cert.validity().not_after.timestamp().max(0) as u64;
    std::time::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// A user's certificate and key for `host`, checked: both readable, the key the
/// certificate's, the certificate valid for the host.
pub fn load_user_cert(
    cert_path: &Path,
    key_path: &Path,
    host: &str,
) -> Result<UserCert, UserCertError> {
    let read = |path: &Path| {
        std::fs::read(path)
            .map_err(|e| UserCertError::Unreadable(format!("cannot read {}: {e}", path.display())))
    };
    let (cert_pem, key_pem) = (read(cert_path)?, read(key_path)?);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            UserCertError::Invalid(format!(
                "{} is not a PEM certificate: {e}",
                cert_path.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(UserCertError::Invalid(format!(
            "{} holds no certificate",
            cert_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        UserCertError::Invalid(format!(
            "{} is not a PEM private key: {e}",
            key_path.display()
        ))
    })?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| UserCertError::Invalid(format!("{}: {e}", key_path.display())))?;
    let certified = CertifiedKey::new(chain.clone(), signing);
    if certified.keys_match().is_err() {
        return Err(UserCertError::Invalid(format!(
            "the key {} does not belong to the certificate {}",
            key_path.display(),
            cert_path.display()
        )));
    }
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).map_err(|e| {
        UserCertError::Invalid(format!("{} cannot be parsed: {e}", cert_path.display()))
    })?;
    let names = dns_names(&leaf);
    if !names.iter().any(|n| name_matches(n, host)) {
        return Err(UserCertError::Invalid(format!(
            "the certificate {} is not for {host} (it names {})",
            cert_path.display(),
            if names.is_empty() {
                "no host".to_string()
            } else {
                names.join(", ")
            }
        )));
    }
    let validity = leaf.validity();
    let warning = if !validity.is_valid() {
        Some(format!(
            "the certificate for {host} is valid from {} to {}: clients will refuse it",
            validity.not_before, validity.not_after
        ))
    } else {
        None
    };
    let not_after = not_after_of(&leaf);
    Ok(UserCert {
        certified,
        warning,
        not_after,
        cert_pem,
        key_pem,
    })
}

/// The DNS names a certificate is for: its subject alternative names, else its common name.
fn dns_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let mut names: Vec<String> = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(name) => Some(name.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if names.is_empty() {
        names.extend(
            cert.subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok())
                .map(str::to_ascii_lowercase),
        );
    }
    names
}

/// Whether a certificate's name covers `host`: equal, or a `*.` wildcard for one label.
fn name_matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(name_matches("web.localhost", "WEB.localhost"));
        assert!(name_matches("*.example.com", "a.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("web.localhost", "api.localhost"));
    }

    #[test]
    fn the_ca_is_made_once_with_a_private_key_and_issues_for_one_name() {
        let home = tempfile::tempdir().unwrap();
        let ca = LocalCa::load_or_create(home.path()).unwrap();
        let pem = std::fs::read_to_string(home.path().join(CA_CERT_FILE)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join(CA_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = LocalCa::load_or_create(home.path()).unwrap();
        assert_eq!(ca.der, again.der, "the CA is kept, not made again");
        assert_eq!(pem, std::fs::read_to_string(&again.cert_path).unwrap());
        let leaf = again.issue("web.localhost").unwrap();
        assert_eq!(leaf.cert.len(), 2);
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.cert[0]).unwrap();
        assert_eq!(dns_names(&parsed), vec!["web.localhost".to_string()]);
        assert!(leaf.keys_match().is_ok());
    }

    /// Always the same certificate, for a handshake without a router.
    #[derive(Debug)]
    struct One(Arc<CertifiedKey>);

    impl ResolvesServerCert for One {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    /// The suite a handshake settles on when the client lists `offered` in that order.
    fn negotiated(offered: &[rustls::SupportedCipherSuite]) -> rustls::CipherSuite {
        let home = tempfile::tempdir().unwrap();
        let ca = LocalCa::load_or_create(home.path()).unwrap();
        let server = server_config(Arc::new(One(Arc::new(ca.issue("web.localhost").unwrap()))));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der.clone()).unwrap();
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites = offered.to_vec();
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut client =
            rustls::ClientConnection::new(Arc::new(client), "web.localhost".try_into().unwrap())
                .unwrap();
        let mut server = rustls::ServerConnection::new(server).unwrap();
        // Both ends in memory: each writes its records into the other until neither has more.
        for _ in 0..10 {
            let mut wire = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut wire).unwrap();
            }
            server.read_tls(&mut wire.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            let mut back = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut back).unwrap();
            }
            client.read_tls(&mut back.as_slice()).unwrap();
            client.process_new_packets().unwrap();
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());
        let suite = server.negotiated_cipher_suite().unwrap().suite();
        assert_eq!(
            Some(suite),
            client.negotiated_cipher_suite().map(|s| s.suite())
        );
        suite
    }

    #[test]
    fn handshakes_settle_on_aes_128_whatever_the_client_lists_first() {
        use rustls::crypto::ring::cipher_suite as cs;
        assert_eq!(
            negotiated(&[cs::TLS13_AES_256_GCM_SHA384, cs::TLS13_AES_128_GCM_SHA256]),
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
        );
        // A client without AES-128 still gets what it offers.
        assert_eq!(
            negotiated(&[cs::TLS13_AES_256_GCM_SHA384]),
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
        );
        assert_eq!(
            negotiated(&[
                cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            ]),
            rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        );
    }
}
