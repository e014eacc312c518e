//! The NTLMv2 computations of MS-NLMP 3.3.2 (responses, keys) and 3.4 (keys and signatures
//! for the SPNEGO `mechListMIC`), on top of the RustCrypto MD4, MD5, HMAC and RC4 crates.

use hmac::{Hmac, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use rc4::consts::U16;
use rc4::{KeyInit, Rc4, StreamCipher};

use crate::ntlm::message::flags;

/// A 16-byte RC4 key state, kept across calls (MS-NLMP's "handle").
pub(crate) type Rc4State = Rc4<U16>;

/// Which side's keys (MS-NLMP 3.4.5.2, 3.4.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    ClientToServer,
    ServerToClient,
}

/// `HMAC_MD5(key, parts[0] || parts[1] || ...)`.
pub(crate) fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // Invariant: HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `MD5(parts[0] || parts[1] || ...)`.
pub(crate) fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// A string in UTF-16LE, the "Unicode" of MS-NLMP.
pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Upper case the way Windows does it (`RtlUpcaseUnicodeString`): character by character,
/// with no mapping that changes the length (`ß` stays `ß`, where `str::to_uppercase` would
/// write `SS` and compute a hash the server does not).
pub(crate) fn upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// `NTOWFv2(Passwd, User, UserDom)` = `HMAC_MD5(MD4(UNICODE(Passwd)),
/// UNICODE(ConcatenationOf(Uppercase(User), UserDom)))` (MS-NLMP 3.3.2). LMOWFv2 is the same.
pub(crate) fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let nt_hash: [u8; 16] = Md4::digest(utf16le(password)).into();
    let mut name = upper(user);
    name.push_str(domain);
    hmac_md5(&nt_hash, &[&utf16le(&name)])
}

/// The LMv2 response: `HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) ||
/// ClientChallenge`.
pub(crate) fn lmv2_response(
    key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
) -> [u8; 24] {
    let mac = hmac_md5(key, &[server_challenge, client_challenge]);
    let mut out = [0u8; 24];
    out[..16].copy_from_slice(&mac);
    out[16..].copy_from_slice(client_challenge);
    out
}

/// The NTLMv2 response and its `NTProofStr`: `temp` = `0x01 0x01 Z(6) Time ClientChallenge
/// Z(4) ServerName Z(4)` where ServerName is the (client's) AV pair list, `NTProofStr` =
/// `HMAC_MD5(ResponseKeyNT, ServerChallenge || temp)`, response = `NTProofStr || temp`.
pub(crate) fn ntv2_response(
    key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
    time: u64,
    av_pairs: &[u8],
) -> (Vec<u8>, [u8; 16]) {
    let mut temp = Vec::with_capacity(28 + av_pairs.len() + 4);
    temp.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    temp.extend_from_slice(&time.to_le_bytes());
    temp.extend_from_slice(client_challenge);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(av_pairs);
    temp.extend_from_slice(&[0; 4]);
    let proof = hmac_md5(key, &[server_challenge, &temp]);
    let mut response = Vec::with_capacity(16 + temp.len());
    response.extend_from_slice(&proof);
    response.extend_from_slice(&temp);
    (response, proof)
}

/// `SessionBaseKey` = `HMAC_MD5(ResponseKeyNT, NTProofStr)`; for NTLMv2 it is also the
/// `KeyExchangeKey`.
pub(crate) fn session_base_key(key: &[u8; 16], nt_proof: &[u8; 16]) -> [u8; 16] {
    hmac_md5(key, &[nt_proof])
}

/// A fresh RC4 state under a 16-byte key.
pub(crate) fn rc4_state(key: &[u8; 16]) -> Rc4State {
    Rc4State::new(key.into())
}

/// `RC4K(key, data)`: RC4 with a fresh state (MS-NLMP 6).
pub(crate) fn rc4(key: &[u8; 16], data: &[u8; 16]) -> [u8; 16] {
    let mut out = *data;
    rc4_state(key).apply_keystream(&mut out);
    out
}

/// `SIGNKEY` with extended session security (MS-NLMP 3.4.5.2).
pub(crate) fn signing_key(exported_session_key: &[u8; 16], dir: Direction) -> [u8; 16] {
    let magic: &[u8] = match dir {
        Direction::ClientToServer => {
            b"session key to client-to-server signing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client signing key magic constant\0"
        }
    };
    md5(&[exported_session_key, magic])
}

/// `SEALKEY` with extended session security (MS-NLMP 3.4.5.3): the whole key with
/// `NEGOTIATE_128`, its first 7 bytes with `NEGOTIATE_56`, its first 5 otherwise.
pub(crate) fn sealing_key(
    exported_session_key: &[u8; 16],
    negotiated: u32,
    dir: Direction,
) -> [u8; 16] {
    let key: &[u8] = if negotiated & flags::NEGOTIATE_128 != 0 {
        exported_session_key
    } else if negotiated & flags::NEGOTIATE_56 != 0 {
        &exported_session_key[..7]
    } else {
        &exported_session_key[..5]
    };
    let magic: &[u8] = match dir {
        Direction::ClientToServer => {
            b"session key to client-to-server sealing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client sealing key magic constant\0"
        }
    };
    md5(&[key, magic])
}

/// The NTLMSSP_MESSAGE_SIGNATURE of `message` with extended session security (MS-NLMP
/// 3.4.4.2): `Version 1 || Checksum || SeqNum`, the checksum being the first 8 bytes of
/// `HMAC_MD5(SigningKey, SeqNum || message)`, RC4-encrypted with `sealing` (the running key
/// state) when key exchange was negotiated.
pub(crate) fn signature(
    signing_key: &[u8; 16],
    sealing: Option<&mut Rc4State>,
    seq: u32,
    message: &[u8],
) -> [u8; 16] {
    let mac = hmac_md5(signing_key, &[&seq.to_le_bytes(), message]);
    let mut checksum = [0u8; 8];
    checksum.copy_from_slice(&mac[..8]);
    if let Some(state) = sealing {
        state.apply_keystream(&mut checksum);
    }
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&1u32.to_le_bytes());
    out[4..12].copy_from_slice(&checksum);
    out[12..].copy_from_slice(&seq.to_le_bytes());
    out
}

/// A time as a Windows FILETIME: 100-nanosecond ticks since 1601-01-01 UTC, clamped to
/// `u64` (a time before 1601 is 0).
pub(crate) fn filetime(t: jiff::Timestamp) -> u64 {
    const UNIX_EPOCH_TICKS: i128 = 116_444_736_000_000_000;
    let ticks = t.as_nanosecond().div_euclid(100) + UNIX_EPOCH_TICKS;
    u64::try_from(ticks.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    //! MS-NLMP section 4.2 vectors for the primitives (4.2.1 common values: user `User`,
    //! domain `Domain`, password `Password`, server challenge 0123456789abcdef, client
    //! challenge aa*8, time 0, random session key 55*16).

    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];

    /// 4.2.4.1.3: the AV pairs of the 4.2.4 CHALLENGE (domain, server, EOL).
    fn av_pairs() -> Vec<u8> {
        hex("02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
             01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00")
    }

    #[test]
    fn ntowf_v2_4_2_4_1_1() {
        assert_eq!(
            ntowf_v2("Password", "User", "Domain").to_vec(),
            hex("0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f")
        );
        // The user is upper-cased and the domain is not.
        assert_eq!(
            ntowf_v2("Password", "user", "Domain"),
            ntowf_v2("Password", "USER", "Domain")
        );
        assert_ne!(
            ntowf_v2("Password", "User", "DOMAIN"),
            ntowf_v2("Password", "User", "Domain")
        );
    }

    #[test]
    fn lmv2_response_4_2_4_2_1() {
        let key = ntowf_v2("Password", "User", "Domain");
        assert_eq!(
            lmv2_response(&key, &SERVER_CHALLENGE, &CLIENT_CHALLENGE).to_vec(),
            hex("86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa")
        );
    }

    #[test]
    fn ntv2_response_and_keys_4_2_4_1_2_and_4_2_4_2_2() {
        let key = ntowf_v2("Password", "User", "Domain");
        let (response, proof) =
            ntv2_response(&key, &SERVER_CHALLENGE, &CLIENT_CHALLENGE, 0, &av_pairs());
        assert_eq!(
            proof.to_vec(),
            hex("68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c")
        );
        // The response as it appears at offset 0x84 of the 4.2.4.3 AUTHENTICATE message.
        assert_eq!(
            response,
            hex(
                "68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c 01 01 00 00 00 00 00 00
                 00 00 00 00 00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00
                 02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
                 01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00 00 00 00 00"
            )
        );
        let base = session_base_key(&key, &proof);
        assert_eq!(
            base.to_vec(),
            hex("8d e4 0c ca db c1 4a 82 f1 5c b0 ad 0d e9 5c a3")
        );
        // 4.2.4.2.3: EncryptedRandomSessionKey = RC4K(KeyExchangeKey, RandomSessionKey).
        assert_eq!(
            rc4(&base, &[0x55; 16]).to_vec(),
            hex("c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e")
        );
    }

    /// 4.2.4.4 GSS_WrapEx: keys from the random session key with the 4.2.4 flags, the sealed
    /// plaintext and its signature (the RC4 state runs on from sealing into the checksum).
    #[test]
    fn sign_and_seal_4_2_4_4() {
        let exported = [0x55; 16];
        let negotiated = 0xe28a_8233; // the 4.2.4 challenge flags
        let seal = sealing_key(&exported, negotiated, Direction::ClientToServer);
        let sign = signing_key(&exported, Direction::ClientToServer);
        assert_eq!(
            seal.to_vec(),
            hex("59 f6 00 97 3c c4 96 0a 25 48 0a 7c 19 6e 4c 58")
        );
        assert_eq!(
            sign.to_vec(),
            hex("47 88 dc 86 1b 47 82 f3 5d 43 fd 98 fe 1a 2d 39")
        );
        let plaintext = utf16le("Plaintext");
        let mut state = rc4_state(&seal);
        let mut sealed = plaintext.clone();
        state.apply_keystream(&mut sealed);
        assert_eq!(
            sealed,
            hex("54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f")
        );
        // The checksum before RC4.
        assert_eq!(
            signature(&sign, None, 0, &plaintext)[4..12].to_vec(),
            hex("70 35 28 51 f2 56 43 09")
        );
        assert_eq!(
            signature(&sign, Some(&mut state), 0, &plaintext).to_vec(),
            hex("01 00 00 00 7f b3 8e c5 c5 5d 49 76 00 00 00 00")
        );
    }

    #[test]
    fn sealing_key_truncation() {
        let k: [u8; 16] = core::array::from_fn(|i| i as u8);
        let magic = b"session key to server-to-client sealing key magic constant\0";
        assert_eq!(
            sealing_key(&k, flags::NEGOTIATE_56, Direction::ServerToClient),
            md5(&[&k[..7], magic])
        );
        assert_eq!(
            sealing_key(&k, 0, Direction::ServerToClient),
            md5(&[&k[..5], magic])
        );
    }

    #[test]
    fn upper_case_keeps_length() {
        assert_eq!(upper("straße"), "STRAßE");
        assert_eq!(upper("élodie"), "ÉLODIE");
    }

    #[test]
    fn filetimes() {
        // 1970-01-01 is 116444736000000000 ticks after 1601-01-01.
        assert_eq!(
            filetime(jiff::Timestamp::UNIX_EPOCH),
            116_444_736_000_000_000
        );
        // 2017-05-23T20:13:07Z, the client time of Chromium's NTLM test data: 0x01d2d400fdc80b80.
        let t: jiff::Timestamp = "2017-05-23T20:13:07Z".parse().unwrap();
        assert_eq!(filetime(t), 131_400_439_870_000_000);
        assert_eq!(filetime(jiff::Timestamp::MIN), 0);
    }
}
