//! TLS mode: a throw-away test CA and a server certificate for 127.0.0.1 / localhost.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Generated certificates and key.
#[derive(Debug)]
pub(crate) struct TlsMaterial {
    pub(crate) ca_pem: String,
    pub(crate) cert_pem: String,
    ca_der: CertificateDer<'static>,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl TlsMaterial {
    /// Creates a CA and a server certificate signed by it.
    pub(crate) fn generate() -> Result<Self, rcgen::Error> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "EWS simulator test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "ews-simulator");
        let cert = params.signed_by(&key, &issuer)?;
        Ok(TlsMaterial {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            ca_der: ca_cert.der().clone(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// The leaf certificate, DER.
    pub(crate) fn leaf_der(&self) -> Vec<u8> {
        self.cert_der.to_vec()
    }

    /// A rustls acceptor serving the chain (leaf, CA).
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.cert_der.clone(), self.ca_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
            )?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
