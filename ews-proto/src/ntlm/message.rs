//! The NTLM wire format (MS-NLMP 2.2): the NEGOTIATE and AUTHENTICATE messages we write, the
//! CHALLENGE message we read, and the AV pairs of its target information.

use crate::ntlm::MAX_TOKEN_LEN;
use crate::ntlm::error::{ChallengeError, NtlmError};

/// The NEGOTIATE flags (MS-NLMP 2.2.2.5) this module uses.
pub(crate) mod flags {
    pub(crate) const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
    pub(crate) const REQUEST_TARGET: u32 = 0x0000_0004;
    pub(crate) const NEGOTIATE_SIGN: u32 = 0x0000_0010;
    pub(crate) const NEGOTIATE_SEAL: u32 = 0x0000_0020;
    pub(crate) const NEGOTIATE_NTLM: u32 = 0x0000_0200;
    pub(crate) const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
    pub(crate) const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    pub(crate) const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
    #[cfg(test)]
    pub(crate) const NEGOTIATE_VERSION: u32 = 0x0200_0000;
    pub(crate) const NEGOTIATE_128: u32 = 0x2000_0000;
    pub(crate) const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
    pub(crate) const NEGOTIATE_56: u32 = 0x8000_0000;

    /// What our NEGOTIATE asks for: Unicode, the target, NTLM with extended session security,
    /// signing and sealing keys with key exchange, 128- and 56-bit keys. No OEM
    /// strings, no LM key, no `NEGOTIATE_VERSION` (the Version field is zeros); 0xe0088235.
    pub(crate) const CLIENT: u32 = NEGOTIATE_UNICODE
        | REQUEST_TARGET
        | NEGOTIATE_SIGN
        | NEGOTIATE_SEAL
        | NEGOTIATE_NTLM
        | NEGOTIATE_ALWAYS_SIGN
        | NEGOTIATE_EXTENDED_SESSIONSECURITY
        | NEGOTIATE_128
        | NEGOTIATE_KEY_EXCH
        | NEGOTIATE_56;
}

/// AV pair ids (MS-NLMP 2.2.2.1).
pub(crate) mod av {
    pub(crate) const EOL: u16 = 0;
    pub(crate) const FLAGS: u16 = 6;
    pub(crate) const TIMESTAMP: u16 = 7;
    pub(crate) const TARGET_NAME: u16 = 9;
    pub(crate) const CHANNEL_BINDINGS: u16 = 10;

    /// `MsvAvFlags` bit: the AUTHENTICATE message carries a MIC.
    pub(crate) const FLAG_MIC: u32 = 0x0000_0002;
}

pub(crate) const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Where the MIC sits in an AUTHENTICATE message with a Version field.
pub(crate) const MIC_OFFSET: usize = 72;

/// One AV pair of a CHALLENGE message's target information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AvPair<'a> {
    pub(crate) id: u16,
    pub(crate) value: &'a [u8],
}

/// The parts of a CHALLENGE message (MS-NLMP 2.2.1.2) the client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge<'a> {
    pub(crate) flags: u32,
    pub(crate) server_challenge: [u8; 8],
    /// The AV pairs before `MsvAvEOL`, in order.
    pub(crate) av_pairs: Vec<AvPair<'a>>,
    /// `MsvAvTimestamp`, if the server sent one.
    pub(crate) timestamp: Option<u64>,
}

/// Reads a CHALLENGE message. Checks, in order: size, signature, type, the fixed part, both
/// security buffers in range, Unicode, target information present and well formed.
pub(crate) fn parse_challenge(msg: &[u8]) -> Result<Challenge<'_>, ChallengeError> {
    if msg.len() > MAX_TOKEN_LEN {
        return Err(ChallengeError::TooLong { len: msg.len() });
    }
    if msg.len() < 12 {
        return Err(ChallengeError::TooShort { len: msg.len() });
    }
    if &msg[..8] != SIGNATURE {
        return Err(ChallengeError::BadSignature);
    }
    let kind = u32_at(msg, 8);
    if kind != 2 {
        return Err(ChallengeError::WrongMessageType { found: kind });
    }
    if msg.len() < 32 {
        return Err(ChallengeError::TooShort { len: msg.len() });
    }
    field(msg, 12, "TargetName")?;
    let flags = u32_at(msg, 20);
    let mut server_challenge = [0u8; 8];
    server_challenge.copy_from_slice(&msg[24..32]);
    // A 32-byte message is the NTLMv1-era form without TargetInfoFields.
    let target_info = if msg.len() >= 48 {
        field(msg, 40, "TargetInfo")?
    } else {
        &[]
    };
    if flags & flags::NEGOTIATE_UNICODE == 0 {
        return Err(ChallengeError::NotUnicode);
    }
    if target_info.is_empty() {
        return Err(ChallengeError::NoTargetInfo);
    }
    let (av_pairs, timestamp) = parse_av_pairs(target_info)?;
    Ok(Challenge {
        flags,
        server_challenge,
        av_pairs,
        timestamp,
    })
}

/// The AV pairs up to `MsvAvEOL` (a list that simply ends is accepted too) and the timestamp.
fn parse_av_pairs(info: &[u8]) -> Result<(Vec<AvPair<'_>>, Option<u64>), ChallengeError> {
    let mut pairs = Vec::new();
    let mut timestamp = None;
    let mut at = 0;
    while at < info.len() {
        if info.len() - at < 4 {
            return Err(ChallengeError::AvPairTruncated { offset: at });
        }
        let id = u16_at(info, at);
        let len = u16_at(info, at + 2);
        let start = at + 4;
        let end = start + usize::from(len);
        if end > info.len() {
            return Err(ChallengeError::AvPairTruncated { offset: at });
        }
        if id == av::EOL {
            break;
        }
        let value = &info[start..end];
        match id {
            av::FLAGS if len != 4 => return Err(ChallengeError::BadAvPair { id, len }),
            av::TIMESTAMP if len != 8 => return Err(ChallengeError::BadAvPair { id, len }),
            av::TIMESTAMP if timestamp.is_none() => {
                let mut t = [0u8; 8];
                t.copy_from_slice(value);
                timestamp = Some(u64::from_le_bytes(t));
            }
            _ => {}
        }
        pairs.push(AvPair { id, value });
        at = end;
    }
    Ok((pairs, timestamp))
}

/// The bytes of the security buffer (`Len`, `MaxLen`, `Offset`) at `at`.
fn field<'a>(msg: &'a [u8], at: usize, name: &'static str) -> Result<&'a [u8], ChallengeError> {
    let len = u16_at(msg, at);
    let offset = u32_at(msg, at + 4);
    if len == 0 {
        return Ok(&[]);
    }
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    match start.checked_add(usize::from(len)) {
        Some(end) if end <= msg.len() => Ok(&msg[start..end]),
        _ => Err(ChallengeError::OutOfRange {
            field: name,
            offset,
            len,
            message_len: msg.len(),
        }),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The NEGOTIATE message (MS-NLMP 2.2.1.1) with `flags`, no domain or workstation and no
/// Version field: 32 bytes.
pub(crate) fn negotiate(flags: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    // DomainNameFields and WorkstationFields: empty, pointing at the end of the message.
    for _ in 0..2 {
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&32u32.to_le_bytes());
    }
    m
}

/// The client's AV pair list: the server's pairs in order (a server's `MsvAvTargetName` or
/// `MsvAvChannelBindings` replaced by ours), `MsvAvFlags` with the MIC bit (the server's value
/// OR 0x2 in place, or appended), then `MsvAvChannelBindings`, `MsvAvTargetName` and
/// `MsvAvEOL`.
pub(crate) fn client_av_pairs(
    server: &[AvPair<'_>],
    channel_bindings: &[u8; 16],
    target_name_utf16: &[u8],
) -> Result<Vec<u8>, NtlmError> {
    let target_len = u16::try_from(target_name_utf16.len()).map_err(|_| NtlmError::TooLong {
        field: "MsvAvTargetName",
    })?;
    let mut out = Vec::new();
    let mut flags_seen = false;
    for pair in server {
        match pair.id {
            av::TARGET_NAME | av::CHANNEL_BINDINGS => continue,
            av::FLAGS if !flags_seen => {
                flags_seen = true;
                let mut v = [0u8; 4];
                v.copy_from_slice(pair.value); // parse_av_pairs checked the length is 4
                let value = u32::from_le_bytes(v) | av::FLAG_MIC;
                push_av(&mut out, av::FLAGS, &value.to_le_bytes());
            }
            _ => {
                // Invariant: the value came out of a 16-bit length field.
                let len = pair.value.len() as u16;
                out.extend_from_slice(&pair.id.to_le_bytes());
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(pair.value);
            }
        }
    }
    if !flags_seen {
        push_av(&mut out, av::FLAGS, &av::FLAG_MIC.to_le_bytes());
    }
    push_av(&mut out, av::CHANNEL_BINDINGS, channel_bindings);
    out.extend_from_slice(&av::TARGET_NAME.to_le_bytes());
    out.extend_from_slice(&target_len.to_le_bytes());
    out.extend_from_slice(target_name_utf16);
    out.extend_from_slice(&[0, 0, 0, 0]); // MsvAvEOL
    Ok(out)
}

fn push_av(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes()); // 4 or 16 bytes
    out.extend_from_slice(value);
}

/// The fields of an AUTHENTICATE message (MS-NLMP 2.2.1.3), strings already in UTF-16LE.
pub(crate) struct Authenticate<'a> {
    pub(crate) flags: u32,
    pub(crate) lm_response: &'a [u8],
    pub(crate) nt_response: &'a [u8],
    pub(crate) domain: &'a [u8],
    pub(crate) user: &'a [u8],
    pub(crate) workstation: &'a [u8],
    pub(crate) encrypted_session_key: &'a [u8],
    pub(crate) version: [u8; 8],
    /// Leave room for a MIC (16 zero bytes at [`MIC_OFFSET`]).
    pub(crate) with_mic: bool,
}

impl Authenticate<'_> {
    /// The message: the fixed part, the Version, the MIC if asked (zeros), then the payload in
    /// the order of the MS-NLMP 4.2.4.3 example (domain, user, workstation, LM, NT, key).
    pub(crate) fn encode(&self) -> Result<Vec<u8>, NtlmError> {
        let payload: [(&[u8], &'static str); 6] = [
            (self.domain, "DomainName"),
            (self.user, "UserName"),
            (self.workstation, "Workstation"),
            (self.lm_response, "LmChallengeResponse"),
            (self.nt_response, "NtChallengeResponse"),
            (self.encrypted_session_key, "EncryptedRandomSessionKey"),
        ];
        let mut lens = [0u16; 6];
        for (i, (bytes, name)) in payload.iter().enumerate() {
            lens[i] = u16::try_from(bytes.len()).map_err(|_| NtlmError::TooLong { field: name })?;
        }
        let start = if self.with_mic {
            MIC_OFFSET + 16
        } else {
            MIC_OFFSET
        };
        let mut offsets = [0u32; 6];
        let mut at = start as u32;
        for i in 0..6 {
            offsets[i] = at;
            at += u32::from(lens[i]); // 6 * 65535 + 88 fits
        }
        let mut m = Vec::with_capacity(at as usize);
        m.extend_from_slice(SIGNATURE);
        m.extend_from_slice(&3u32.to_le_bytes());
        // The header order of the security buffers: LM, NT, domain, user, workstation, key.
        for i in [3, 4, 0, 1, 2, 5] {
            m.extend_from_slice(&lens[i].to_le_bytes());
            m.extend_from_slice(&lens[i].to_le_bytes());
            m.extend_from_slice(&offsets[i].to_le_bytes());
        }
        m.extend_from_slice(&self.flags.to_le_bytes());
        m.extend_from_slice(&self.version);
        if self.with_mic {
            m.extend_from_slice(&[0; 16]);
        }
        for (bytes, _) in payload {
            m.extend_from_slice(bytes);
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ntlm::crypto;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// MS-NLMP 4.2.4.3, the CHALLENGE message.
    fn challenge_4_2_4_3() -> Vec<u8> {
        hex(
            "4e 54 4c 4d 53 53 50 00 02 00 00 00 0c 00 0c 00 38 00 00 00 33 82 8a e2
             01 23 45 67 89 ab cd ef 00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00
             06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00 65 00 72 00 02 00 0c 00
             44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00
             65 00 72 00 00 00 00 00",
        )
    }

    /// MS-NLMP 4.2.4.3, the AUTHENTICATE message.
    fn authenticate_4_2_4_3() -> Vec<u8> {
        hex(
            "4e 54 4c 4d 53 53 50 00 03 00 00 00 18 00 18 00 6c 00 00 00 54 00 54 00
             84 00 00 00 0c 00 0c 00 48 00 00 00 08 00 08 00 54 00 00 00 10 00 10 00
             5c 00 00 00 10 00 10 00 d8 00 00 00 35 82 88 e2 05 01 28 0a 00 00 00 0f
             44 00 6f 00 6d 00 61 00 69 00 6e 00 55 00 73 00 65 00 72 00 43 00 4f 00
             4d 00 50 00 55 00 54 00 45 00 52 00 86 c3 50 97 ac 9c ec 10 25 54 76 4a
             57 cc cc 19 aa aa aa aa aa aa aa aa 68 cd 0a b8 51 e5 1c 96 aa bc 92 7b
             eb ef 6a 1c 01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 aa aa aa aa
             aa aa aa aa 00 00 00 00 02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
             01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00 00 00 00 00
             c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e",
        )
    }

    #[test]
    fn reads_the_4_2_4_3_challenge() {
        let msg = challenge_4_2_4_3();
        let c = parse_challenge(&msg).unwrap();
        assert_eq!(c.flags, 0xe28a_8233);
        assert_eq!(
            c.server_challenge,
            [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
        assert_eq!(c.timestamp, None);
        assert_eq!(c.av_pairs.len(), 2);
        assert_eq!(
            c.av_pairs[0],
            AvPair {
                id: 2,
                value: &crypto::utf16le("Domain")
            }
        );
        assert_eq!(
            c.av_pairs[1],
            AvPair {
                id: 1,
                value: &crypto::utf16le("Server")
            }
        );
    }

    /// The whole 4.2.4 computation, from the spec's CHALLENGE to the spec's AUTHENTICATE, byte
    /// for byte: the spec's example client sends the server's AV pairs unchanged, a Version,
    /// no MIC, the LMv2 response (no server timestamp) and the key-exchanged session key.
    #[test]
    fn writes_the_4_2_4_3_authenticate() {
        let msg = challenge_4_2_4_3();
        let c = parse_challenge(&msg).unwrap();
        let server_info = &msg[0x44..0x44 + 0x24];
        let key = crypto::ntowf_v2("Password", "User", "Domain");
        let client_challenge = [0xaa; 8];
        let (nt, proof) =
            crypto::ntv2_response(&key, &c.server_challenge, &client_challenge, 0, server_info);
        let lm = crypto::lmv2_response(&key, &c.server_challenge, &client_challenge);
        let base = crypto::session_base_key(&key, &proof);
        let encrypted = crypto::rc4(&base, &[0x55; 16]);
        let m = Authenticate {
            flags: 0xe288_8235,
            lm_response: &lm,
            nt_response: &nt,
            domain: &crypto::utf16le("Domain"),
            user: &crypto::utf16le("User"),
            workstation: &crypto::utf16le("COMPUTER"),
            encrypted_session_key: &encrypted,
            version: [0x05, 0x01, 0x28, 0x0a, 0x00, 0x00, 0x00, 0x0f],
            with_mic: false,
        }
        .encode()
        .unwrap();
        assert_eq!(m, authenticate_4_2_4_3());
        // The spec's flags follow the negotiation rule of `NtlmClient::authenticate` (the
        // challenge's flags the client asked for, plus REQUEST_TARGET) for a client that asks
        // for VERSION too.
        assert_eq!(
            (c.flags & (flags::CLIENT | flags::NEGOTIATE_TARGET_INFO | flags::NEGOTIATE_VERSION))
                | flags::REQUEST_TARGET,
            0xe288_8235
        );
    }

    #[test]
    fn client_av_pairs_order_and_flags() {
        let server = [
            AvPair {
                id: 2,
                value: b"D\0",
            },
            AvPair {
                id: 6,
                value: &[1, 0, 0, 0],
            },
        ];
        let out = client_av_pairs(&server, &[0x11; 16], b"H\0").unwrap();
        assert_eq!(
            out,
            hex("02 00 02 00 44 00  06 00 04 00 03 00 00 00
                 0a 00 10 00 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11
                 09 00 02 00 48 00  00 00 00 00")
        );
        // A server's own target name and channel bindings are replaced, flags appended.
        let server = [
            AvPair {
                id: 9,
                value: b"x\0",
            },
            AvPair {
                id: 10,
                value: &[0; 16],
            },
        ];
        let out = client_av_pairs(&server, &[0; 16], b"").unwrap();
        assert_eq!(
            out,
            hex("06 00 04 00 02 00 00 00 0a 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
                 09 00 00 00 00 00 00 00")
        );
    }

    #[test]
    fn negotiate_message() {
        assert_eq!(
            negotiate(flags::CLIENT),
            hex("4e 54 4c 4d 53 53 50 00 01 00 00 00 35 82 08 e0
                 00 00 00 00 20 00 00 00 00 00 00 00 20 00 00 00")
        );
    }
}
