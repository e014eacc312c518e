//! The rustls client configuration of the pinned (NTLM) connections: the same trust as
//! the agent's (Mozilla's roots, the added ones, the platform's when asked; or none with
//! `danger_accept_invalid_certs`), with ALPN `http/1.1` only.

use std::sync::Arc;

use ews_proto::UsageError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub(crate) fn client_config(
    extra: &[CertificateDer<'static>],
    platform: bool,
    accept_invalid_certs: bool,
) -> Result<ClientConfig, ews_proto::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|_| UsageError::InvalidValue {
            kind: "TLS configuration",
            reason: "the crypto provider supports no safe protocol version",
        })?;
    let mut config = if accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        if platform {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
        for cert in extra {
            roots
                .add(cert.clone())
                .map_err(|_| UsageError::InvalidValue {
                    kind: "root certificate",
                    reason: "not a usable CA certificate",
                })?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    // NTLM authenticates a connection, which HTTP/2 would multiplex.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// `danger_accept_invalid_certs(true)`: any certificate for any name, but handshake
/// signatures are still checked (so the peer holds the key of the certificate it shows,
/// and the channel binding is that certificate's).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
