//! The server side of NTLMv2 ([MS-NLMP]) and of NTLM inside SPNEGO (`Negotiate`), as IIS
//! runs it in front of EWS: the CHALLENGE, the check of the AUTHENTICATE message (the
//! NTLMv2 proof from the account's NT hash, the MIC under the exported session key, the
//! channel binding of Extended Protection), written here from the specification for the
//! simulator alone (it shares no code with the client it tests).
//!
//! [MS-NLMP]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/

use hmac::{Hmac, Mac};
use md4::{Digest as _, Md4};
use md5::Md5;
use sha2::Sha256;

/// Which schemes the simulator offers in `WWW-Authenticate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowsSchemes {
    /// `Negotiate` and `NTLM`, as IIS with Windows authentication by default.
    NegotiateAndNtlm,
    /// `Negotiate` only (NTLM then travels inside SPNEGO).
    NegotiateOnly,
    /// `NTLM` only.
    NtlmOnly,
}

/// IIS's Extended Protection for Authentication (channel binding), over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtendedProtection {
    /// Channel bindings are not checked.
    None,
    /// A binding that is sent must match the certificate; none (or 16 zero bytes) passes.
    Allow,
    /// A binding must be sent and match the certificate the simulator serves.
    Require,
}

/// The Windows-integrated authentication of a simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsAuth {
    /// The schemes offered.
    pub schemes: WindowsSchemes,
    /// Extended Protection (TLS only).
    pub extended_protection: ExtendedProtection,
    /// The NetBIOS domain name (accepted as `DOMAIN\user`; UPNs work with any domain).
    pub domain: String,
}

impl Default for WindowsAuth {
    fn default() -> Self {
        WindowsAuth {
            schemes: WindowsSchemes::NegotiateAndNtlm,
            extended_protection: ExtendedProtection::Require,
            domain: "EXAMPLE".to_string(),
        }
    }
}

type HmacMd5 = Hmac<Md5>;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// 1.3.6.1.4.1.311.2.2.10, DER contents.
const NTLMSSP_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

/// The flags of the CHALLENGE: UNICODE, REQUEST_TARGET, SIGN, SEAL, NTLM, ALWAYS_SIGN,
/// TARGET_TYPE_DOMAIN, EXTENDED_SESSIONSECURITY, TARGET_INFO, VERSION, 128, KEY_EXCH, 56.
const CHALLENGE_FLAGS: u32 = 0xE28A_8235;
const KEY_EXCH: u32 = 0x4000_0000;

/// What a connection remembers between the CHALLENGE and the AUTHENTICATE.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    /// The token came inside SPNEGO.
    pub(crate) spnego: bool,
}

/// Why an AUTHENTICATE was refused (for the request record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Malformed,
    UnknownUser,
    WrongProof,
    NoMic,
    WrongMic,
    MissingChannelBinding,
    WrongChannelBinding,
}

impl Refusal {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Refusal::Malformed => "NtlmMalformed",
            Refusal::UnknownUser => "NtlmUnknownUser",
            Refusal::WrongProof => "NtlmWrongPassword",
            Refusal::NoMic => "NtlmNoMic",
            Refusal::WrongMic => "NtlmWrongMic",
            Refusal::MissingChannelBinding => "NtlmMissingChannelBinding",
            Refusal::WrongChannelBinding => "NtlmWrongChannelBinding",
        }
    }
}

/// A decoded `Authorization: NTLM|Negotiate <token>`: the NTLM message inside, and
/// whether it came in SPNEGO.
pub(crate) fn unwrap_token(scheme_negotiate: bool, token: &[u8]) -> Option<(Vec<u8>, bool)> {
    if token.starts_with(SIGNATURE) {
        return Some((token.to_vec(), false));
    }
    if !scheme_negotiate {
        return None;
    }
    match token.first()? {
        // [APPLICATION 0] { OID, [0] NegTokenInit { ..., [2] mechToken } }
        0x60 => {
            let (_, inner, _) = der(token)?;
            let (tag, _, rest) = der(inner)?;
            if tag != 0x06 {
                return None;
            }
            let (tag, init, _) = der(rest)?;
            if tag != 0xa0 {
                return None;
            }
            let (_, seq, _) = der(init)?;
            field(seq, 0xa2).and_then(|t| der(t).map(|(_, v, _)| (v.to_vec(), true)))
        }
        // [1] NegTokenResp { ..., [2] responseToken, [3] mechListMIC }
        0xa1 => {
            let (_, inner, _) = der(token)?;
            let (_, seq, _) = der(inner)?;
            field(seq, 0xa3)?; // the mechListMIC MS-SPNG makes mandatory with a MIC
            field(seq, 0xa2).and_then(|t| der(t).map(|(_, v, _)| (v.to_vec(), true)))
        }
        _ => None,
    }
}

/// The NTLM message type (1, 2, 3) of `msg`.
pub(crate) fn message_type(msg: &[u8]) -> Option<u32> {
    if msg.len() < 12 || &msg[..8] != SIGNATURE {
        return None;
    }
    Some(u32_at(msg, 8))
}

/// The CHALLENGE answering `negotiate`, and what to remember for the AUTHENTICATE.
pub(crate) fn challenge(
    negotiate: &[u8],
    domain: &str,
    server_challenge: [u8; 8],
    now_filetime: u64,
    spnego: bool,
) -> (Vec<u8>, Pending) {
    let target = utf16(domain);
    let mut info = Vec::new();
    av(&mut info, 2, &target);
    av(&mut info, 1, &utf16("EWSSIM"));
    av(&mut info, 4, &utf16("example.com"));
    av(&mut info, 3, &utf16("ews.example.com"));
    av(&mut info, 7, &now_filetime.to_le_bytes());
    av(&mut info, 0, &[]);
    let mut msg = Vec::with_capacity(56 + target.len() + info.len());
    msg.extend_from_slice(SIGNATURE);
    msg.extend_from_slice(&2u32.to_le_bytes());
    let target_offset = 56u32;
    let info_offset = target_offset + target.len() as u32;
    fields(&mut msg, target.len(), target_offset);
    msg.extend_from_slice(&CHALLENGE_FLAGS.to_le_bytes());
    msg.extend_from_slice(&server_challenge);
    msg.extend_from_slice(&[0; 8]);
    fields(&mut msg, info.len(), info_offset);
    // Version: 10.0 build 17763, NTLM revision 15.
    msg.extend_from_slice(&[10, 0, 0x63, 0x45, 0, 0, 0, 15]);
    msg.extend_from_slice(&target);
    msg.extend_from_slice(&info);
    let pending = Pending {
        negotiate: negotiate.to_vec(),
        challenge: msg.clone(),
        server_challenge,
        spnego,
    };
    (msg, pending)
}

/// The SPNEGO `NegTokenResp` carrying the CHALLENGE (`accept-incomplete`, NTLMSSP).
pub(crate) fn spnego_challenge(challenge: &[u8]) -> Vec<u8> {
    let mut seq = tlv(0xa0, &tlv(0x0a, &[1]));
    seq.extend(tlv(0xa1, &tlv(0x06, NTLMSSP_OID)));
    seq.extend(tlv(0xa2, &tlv(0x04, challenge)));
    tlv(0xa1, &tlv(0x30, &seq))
}

/// The final SPNEGO token of the `2xx`: `accept-completed`.
pub(crate) fn spnego_accept() -> Vec<u8> {
    tlv(0xa1, &tlv(0x30, &tlv(0xa0, &tlv(0x0a, &[0]))))
}

/// The account an AUTHENTICATE message names: (user, domain) as sent.
pub(crate) fn names(auth: &[u8]) -> Option<(String, String)> {
    let domain = from_utf16(payload(auth, 28)?)?;
    let user = from_utf16(payload(auth, 36)?)?;
    Some((user, domain))
}

/// Checks `auth` (an AUTHENTICATE message) for `password`, against `pending`; over TLS
/// `certificate` is the leaf the simulator served, for Extended Protection `ep`.
pub(crate) fn verify(
    auth: &[u8],
    pending: &Pending,
    password: &str,
    certificate: Option<&[u8]>,
    ep: ExtendedProtection,
) -> Result<(), Refusal> {
    if message_type(auth) != Some(3) || auth.len() < 88 {
        return Err(Refusal::Malformed);
    }
    let (user, domain) = names(auth).ok_or(Refusal::Malformed)?;
    let nt = payload(auth, 20).ok_or(Refusal::Malformed)?;
    if nt.len() < 16 + 28 {
        return Err(Refusal::Malformed);
    }
    let (proof, blob) = nt.split_at(16);
    // NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5 under MD4(UTF-16LE(password)) of
    // UTF-16LE(Uppercase(user) + domain).
    let nt_hash = Md4::digest(utf16(password));
    let key = hmac(&nt_hash, &[&utf16(&(user.to_uppercase() + &domain))]);
    let expected = hmac(&key, &[&pending.server_challenge, blob]);
    if expected.as_slice() != proof {
        return Err(Refusal::WrongProof);
    }
    // The AV pairs the client put in its blob: after 28 bytes of header.
    let pairs = &blob[28..];
    let flags = av_find(pairs, 6)
        .filter(|v| v.len() == 4)
        .map_or(0, |v| u32_at(v, 0));
    let session_base_key = hmac(&key, &[proof]);
    let negotiated = u32_at(auth, 60);
    let exported = match payload(auth, 52) {
        Some(encrypted) if negotiated & KEY_EXCH != 0 && encrypted.len() == 16 => {
            rc4(&session_base_key, encrypted)
        }
        _ => session_base_key.to_vec(),
    };
    if flags & 0x2 == 0 {
        return Err(Refusal::NoMic);
    }
    let mut zeroed = auth.to_vec();
    zeroed[72..88].fill(0);
    let mic = hmac(
        &exported,
        &[&pending.negotiate, &pending.challenge, &zeroed],
    );
    if mic.as_slice() != &auth[72..88] {
        return Err(Refusal::WrongMic);
    }
    let sent = av_find(pairs, 0x0a).filter(|v| v.iter().any(|b| *b != 0));
    let Some(cert) = certificate else {
        return Ok(());
    };
    match (ep, sent) {
        (ExtendedProtection::None, _) => Ok(()),
        (ExtendedProtection::Allow, None) => Ok(()),
        (ExtendedProtection::Require, None) => Err(Refusal::MissingChannelBinding),
        (_, Some(sent)) if sent == channel_binding(cert) => Ok(()),
        (_, Some(_)) => Err(Refusal::WrongChannelBinding),
    }
}

/// MD5 of the `gss_channel_bindings_struct` whose application data is
/// `tls-server-end-point:` and the SHA-256 of `certificate` (RFC 5929: the hash of the
/// certificate's signature algorithm; the simulator's certificates are ECDSA with SHA-256).
pub(crate) fn channel_binding(certificate: &[u8]) -> [u8; 16] {
    let mut data = b"tls-server-end-point:".to_vec();
    data.extend_from_slice(&Sha256::digest(certificate));
    let mut md5 = Md5::new();
    md5.update([0u8; 16]);
    md5.update((data.len() as u32).to_le_bytes());
    md5.update(&data);
    md5.finalize().into()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC accepts keys of any length.
    let mut mac = match HmacMd5::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 16],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// RC4 (for the exported session key only).
fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s: Vec<u8> = (0..=255).collect();
    let mut j = 0u8;
    for i in 0..256 {
        j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
        s.swap(i, j as usize);
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|b| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[i as usize]);
            s.swap(i as usize, j as usize);
            b ^ s[s[i as usize].wrapping_add(s[j as usize]) as usize]
        })
        .collect()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u16_at(b: &[u8], at: usize) -> usize {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]) as usize)
}

/// The payload a (len, maxlen, offset) field at `at` points to.
fn payload(msg: &[u8], at: usize) -> Option<&[u8]> {
    let len = u16_at(msg, at);
    let offset = u32_at(msg, at + 4) as usize;
    msg.get(offset..offset.checked_add(len)?)
}

fn fields(out: &mut Vec<u8>, len: usize, offset: u32) {
    let len = len as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
}

fn av(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
}

fn av_find(mut pairs: &[u8], id: u16) -> Option<&[u8]> {
    while pairs.len() >= 4 {
        let found = u16_at(pairs, 0) as u16;
        let len = u16_at(pairs, 2);
        let value = pairs.get(4..4 + len)?;
        if found == 0 {
            return None;
        }
        if found == id {
            return Some(value);
        }
        pairs = &pairs[4 + len..];
    }
    None
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn from_utf16(b: &[u8]) -> Option<String> {
    if b.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = b
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// One DER element: (tag, contents, the rest after it).
fn der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((tag, b.get(start..end)?, b.get(end..)?))
}

/// The contents of the context-tagged field `tag` of a SEQUENCE's contents.
fn field(mut seq: &[u8], tag: u8) -> Option<&[u8]> {
    while !seq.is_empty() {
        let (t, value, rest) = der(seq)?;
        if t == tag {
            return Some(value);
        }
        seq = rest;
    }
    None
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntowfv2_and_the_proof_of_ms_nlmp_4_2_4() {
        // MS-NLMP 4.2.4.1.1: NTOWFv2("Password", "User", "Domain").
        let nt_hash = Md4::digest(utf16("Password"));
        let key = hmac(&nt_hash, &[&utf16(&("User".to_uppercase() + "Domain"))]);
        assert_eq!(
            key,
            [
                0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93, 0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0,
                0x2e, 0x3f
            ]
        );
    }

    #[test]
    fn rc4_of_a_known_vector() {
        // RFC 6229's first key, 40 bits: 0102030405, keystream starts b2 39 63 05 f0.
        assert_eq!(
            rc4(&[1, 2, 3, 4, 5], &[0; 5]),
            [0xb2, 0x39, 0x63, 0x05, 0xf0]
        );
    }

    #[test]
    fn spnego_tokens_parse_back() {
        let (msg, spnego) = unwrap_token(true, &spnego_challenge(b"NTLMSSP\0xyz"))
            .map_or((Vec::new(), false), |x| x);
        // A NegTokenResp without a mechListMIC is refused.
        assert!(msg.is_empty() && !spnego);
        let mut seq = tlv(0xa2, &tlv(0x04, b"NTLMSSP\0abc"));
        seq.extend(tlv(0xa3, &tlv(0x04, &[0; 16])));
        let token = tlv(0xa1, &tlv(0x30, &seq));
        assert_eq!(
            unwrap_token(true, &token),
            Some((b"NTLMSSP\0abc".to_vec(), true))
        );
        assert_eq!(unwrap_token(false, &token), None);
    }
}
