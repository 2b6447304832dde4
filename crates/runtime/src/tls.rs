//! TLS on every connection of a cluster, as Dask's `--tls-ca-file`,
//! `--tls-cert` and `--tls-key` do it: mutual TLS, each side presenting a
//! certificate signed by the cluster's certificate authority.
//!
//! Certificates are checked against the authority (signature, dates) but
//! not against host names: cluster members are reached by IP address
//! and come and go, and it is the authority that says who belongs (as in
//! Dask, which turns host-name checks off).
//!
//! ```text
//!  TcpStream ─▶ TlsConnector / TlsAcceptor (rustls, ring) ─▶ split ─▶ FrameReader + writer task
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
};

/// The files of one side's TLS identity (PEM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate authority every peer's certificate must be signed by.
    pub ca: PathBuf,
    /// This side's certificate (chain).
    pub cert: PathBuf,
    /// This side's private key.
    pub key: PathBuf,
}

/// Loaded TLS settings for both directions of a connection.
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) connector: tokio_rustls::TlsConnector,
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

/// A TLS file that cannot be used: missing, unreadable, or not a
/// certificate or key that fits the others.
#[derive(Debug, thiserror::Error)]
#[error("reading the {what} {}: {message}", path.display())]
pub struct TlsError {
    /// Which file: the CA file, the certificate, the key.
    pub what: &'static str,
    /// Its path.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

impl blockwork_graph::Fault for TlsError {
    /// The files given (a path, or a file that is not what it should be).
    fn kind(&self) -> blockwork_graph::ErrorKind {
        blockwork_graph::ErrorKind::User
    }
}

fn read_err(what: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError { what, path: path.to_path_buf(), message: e.to_string() }
}

impl Tls {
    /// Loads the files; an error names the file at fault.
    pub(crate) fn load(files: &TlsFiles) -> Result<Tls, TlsError> {
        let provider = Arc::new(ring::default_provider());
        let mut roots = RootCertStore::empty();
        let cas = CertificateDer::pem_file_iter(&files.ca).map_err(|e| read_err("CA file", &files.ca, e))?;
        for ca in cas {
            let ca = ca.map_err(|e| read_err("CA file", &files.ca, e))?;
            roots.add(ca).map_err(|e| read_err("CA file", &files.ca, e))?;
        }
        if roots.is_empty() {
            return Err(read_err("CA file", &files.ca, "no certificate in it"));
        }
        let roots = Arc::new(roots);
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
            .map_err(|e| read_err("certificate", &files.cert, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| read_err("certificate", &files.cert, e))?;
        if chain.is_empty() {
            return Err(read_err("certificate", &files.cert, "no certificate in it"));
        }
        let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| read_err("key", &files.key, e))?;

        let clients = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| read_err("CA file", &files.ca, e))?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| read_err("certificate", &files.cert, e))?
            .with_client_cert_verifier(clients)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| read_err("certificate and key", &files.cert, e))?;
        let servers = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| read_err("CA file", &files.ca, e))?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| read_err("certificate", &files.cert, e))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(servers)))
            .with_client_auth_cert(chain, key)
            .map_err(|e| read_err("certificate and key", &files.cert, e))?;
        Ok(Tls {
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        })
    }

    /// The name to ask for when connecting to `addr` (`host:port`); names
    /// are not checked (see the module docs), but TLS wants one.
    pub(crate) fn server_name(addr: &str) -> ServerName<'static> {
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_matches(['[', ']']);
        ServerName::try_from(host.to_string()).unwrap_or_else(|_| ServerName::try_from("blockwork").expect("a name"))
    }
}

/// A server verifier that checks the chain against the authority and
/// accepts any host name.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// What a connection needs to be let in: TLS (if the cluster uses it)
/// and the shared token (if it has one).
#[derive(Clone, Debug, Default)]
pub struct Security {
    pub(crate) tls: Option<Tls>,
    /// The token to present.
    pub(crate) token: Option<String>,
}

impl Security {
    /// A token only, no TLS.
    pub fn token(token: Option<String>) -> Security {
        Security { tls: None, token }
    }

    /// TLS with these files (loaded now; an error names the file at fault)
    /// and an optional token.
    pub fn tls(files: &TlsFiles, token: Option<String>) -> Result<Security, TlsError> {
        Ok(Security { tls: Some(Tls::load(files)?), token })
    }
}
