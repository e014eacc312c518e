//! [`ChannelBinding`]: the `tls-server-end-point` channel binding (RFC 5929) of the server's
//! leaf certificate, and its MD5 as the `MsvAvChannelBindings` AV pair carries it.

use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use crate::ntlm::crypto;
use crate::ntlm::der::{self, DerError, Reader};

/// What the AUTHENTICATE message binds the authentication to (Extended Protection for
/// Authentication).
///
/// Over TLS, build it from the server's leaf certificate with
/// [`ChannelBinding::from_leaf_certificate`]: a server with Extended Protection `Require`
/// refuses a handshake without it, or with the binding of another certificate (a TLS
/// interception proxy). [`ChannelBinding::None`] (plain HTTP, or a certificate whose binding is
/// undefined) sends 16 zero bytes, which servers with Extended Protection `None` or `Allow`
/// accept.
///
/// ```
/// use ews_proto::ntlm::ChannelBinding;
/// let cb = ChannelBinding::TlsServerEndPoint(vec![0xab; 32]);
/// let data = cb.application_data().unwrap();
/// assert!(data.starts_with(b"tls-server-end-point:"));
/// assert_eq!(ChannelBinding::None.hash(), [0; 16]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChannelBinding {
    /// No channel binding.
    #[default]
    None,
    /// `tls-server-end-point`: the hash of the server's certificate (RFC 5929 section 4.1).
    TlsServerEndPoint(Vec<u8>),
}

impl ChannelBinding {
    /// The `tls-server-end-point` binding of `certificate` (DER, the leaf the server sent):
    /// the certificate hashed with the hash function of its signature algorithm, or with
    /// SHA-256 when that is MD5 or SHA-1 (RFC 5929 section 4.1). RSASSA-PSS uses the hash of
    /// its parameters (SHA-1, the default, becomes SHA-256).
    ///
    /// # Errors
    /// [`CertificateError::Malformed`] when the bytes are not a DER certificate (only the outer
    /// structure and the signature algorithm are read); [`CertificateError::UnsupportedSignatureAlgorithm`]
    /// for an algorithm with no single hash function or an unknown one (Ed25519, Ed448,
    /// SHA-3 signatures, ...), for which RFC 5929 defines no binding: use
    /// [`ChannelBinding::None`] then.
    pub fn from_leaf_certificate(certificate: &[u8]) -> Result<Self, CertificateError> {
        let hash = signature_hash(certificate)?;
        let digest = match hash {
            Hash::Sha224 => Sha224::digest(certificate).to_vec(),
            Hash::Sha256 => Sha256::digest(certificate).to_vec(),
            Hash::Sha384 => Sha384::digest(certificate).to_vec(),
            Hash::Sha512 => Sha512::digest(certificate).to_vec(),
        };
        Ok(ChannelBinding::TlsServerEndPoint(digest))
    }

    /// The channel binding data (`tls-server-end-point:` followed by the hash), the
    /// `application_data` of the `gss_channel_bindings_struct`; `None` for
    /// [`ChannelBinding::None`].
    pub fn application_data(&self) -> Option<Vec<u8>> {
        match self {
            ChannelBinding::None => None,
            ChannelBinding::TlsServerEndPoint(hash) => {
                let mut data = b"tls-server-end-point:".to_vec();
                data.extend_from_slice(hash);
                Some(data)
            }
        }
    }

    /// The value of the `MsvAvChannelBindings` AV pair: the MD5 of the flattened
    /// `gss_channel_bindings_struct` (RFC 2744: initiator and acceptor address types and
    /// lengths all 0, then the length and bytes of [`Self::application_data`], integers 32-bit
    /// little-endian), or 16 zero bytes for [`ChannelBinding::None`].
    pub fn hash(&self) -> [u8; 16] {
        match self.application_data() {
            None => [0; 16],
            Some(data) => {
                // Application data is a 21-byte prefix and a hash of at most 64 bytes.
                let len = (data.len() as u32).to_le_bytes();
                crypto::md5(&[&[0; 16], &len, &data])
            }
        }
    }
}

/// Why a certificate gives no channel binding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The bytes are not a DER X.509 certificate.
    #[error("the server certificate is not DER X.509: {0}")]
    Malformed(&'static str),
    /// RFC 5929 defines no `tls-server-end-point` hash for this signature algorithm (OID,
    /// dotted).
    #[error("no tls-server-end-point channel binding for signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// The hash RFC 5929 picks for the certificate's `signatureAlgorithm`.
fn signature_hash(certificate: &[u8]) -> Result<Hash, CertificateError> {
    let malformed = |e: DerError| CertificateError::Malformed(e.describe());
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    let mut outer = Reader::new(certificate);
    let cert = outer.expect(0x30).map_err(malformed)?;
    outer.finish().map_err(malformed)?;
    let mut fields = Reader::new(cert);
    fields.expect(0x30).map_err(malformed)?;
    let algorithm = fields.expect(0x30).map_err(malformed)?;
    fields.expect(0x03).map_err(malformed)?;
    fields.finish().map_err(malformed)?;
    // AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }
    let mut alg = Reader::new(algorithm);
    let oid = alg.expect(0x06).map_err(malformed)?;
    let params = if alg.is_empty() {
        None
    } else {
        Some(alg.any().map_err(malformed)?)
    };
    alg.finish().map_err(malformed)?;
    let unsupported = || CertificateError::UnsupportedSignatureAlgorithm(der::oid_text(oid));
    if oid == oids::RSASSA_PSS {
        // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, .. }
        let hash_oid = match params {
            Some((0x30, content, _)) => {
                let mut p = Reader::new(content);
                match p.optional(0xa0).map_err(malformed)? {
                    Some(explicit) => {
                        let mut h = Reader::new(explicit);
                        let hash_alg = h.expect(0x30).map_err(malformed)?;
                        Reader::new(hash_alg).expect(0x06).map_err(malformed)?
                    }
                    None => oids::SHA1,
                }
            }
            _ => return Err(CertificateError::Malformed("RSASSA-PSS without parameters")),
        };
        return match hash_oid {
            oids::SHA1 | oids::MD5 | oids::SHA256 => Ok(Hash::Sha256),
            oids::SHA224 => Ok(Hash::Sha224),
            oids::SHA384 => Ok(Hash::Sha384),
            oids::SHA512 => Ok(Hash::Sha512),
            _ => Err(CertificateError::UnsupportedSignatureAlgorithm(
                der::oid_text(hash_oid),
            )),
        };
    }
    match oid {
        oids::MD5_RSA | oids::SHA1_RSA | oids::SHA1_ECDSA | oids::SHA1_DSA => Ok(Hash::Sha256),
        oids::SHA256_RSA | oids::SHA256_ECDSA | oids::SHA256_DSA => Ok(Hash::Sha256),
        oids::SHA224_RSA | oids::SHA224_ECDSA | oids::SHA224_DSA => Ok(Hash::Sha224),
        oids::SHA384_RSA | oids::SHA384_ECDSA | oids::SHA384_DSA => Ok(Hash::Sha384),
        oids::SHA512_RSA | oids::SHA512_ECDSA | oids::SHA512_DSA => Ok(Hash::Sha512),
        _ => Err(unsupported()),
    }
}

/// OID content bytes.
mod oids {
    /// 1.2.840.113549.1.1.4
    pub(super) const MD5_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04];
    /// 1.2.840.113549.1.1.5
    pub(super) const SHA1_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    /// 1.2.840.113549.1.1.10
    pub(super) const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    /// 1.2.840.113549.1.1.11
    pub(super) const SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    /// 1.2.840.113549.1.1.12
    pub(super) const SHA384_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    /// 1.2.840.113549.1.1.13
    pub(super) const SHA512_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    /// 1.2.840.113549.1.1.14
    pub(super) const SHA224_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e];
    /// 1.2.840.10045.4.1
    pub(super) const SHA1_ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    /// 1.2.840.10045.4.3.1
    pub(super) const SHA224_ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01];
    /// 1.2.840.10045.4.3.2
    pub(super) const SHA256_ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    /// 1.2.840.10045.4.3.3
    pub(super) const SHA384_ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    /// 1.2.840.10045.4.3.4
    pub(super) const SHA512_ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    /// 1.2.840.10040.4.3
    pub(super) const SHA1_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03];
    /// 2.16.840.1.101.3.4.3.1
    pub(super) const SHA224_DSA: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x01];
    /// 2.16.840.1.101.3.4.3.2
    pub(super) const SHA256_DSA: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x02];
    /// 2.16.840.1.101.3.4.3.3
    pub(super) const SHA384_DSA: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x03];
    /// 2.16.840.1.101.3.4.3.4
    pub(super) const SHA512_DSA: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x04];
    /// 1.2.840.113549.2.5
    pub(super) const MD5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05];
    /// 1.3.14.3.2.26
    pub(super) const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    /// 2.16.840.1.101.3.4.2.1
    pub(super) const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    /// 2.16.840.1.101.3.4.2.2
    pub(super) const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    /// 2.16.840.1.101.3.4.2.3
    pub(super) const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
    /// 2.16.840.1.101.3.4.2.4
    pub(super) const SHA224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04];
}
