//! `WWW-Authenticate` parsing (RFC 9110 section 11.6.1) and the choice of what to answer.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;

/// Base64 as servers send it in a token68: the standard alphabet, padding optional.
const TOKEN_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An authentication scheme. Names are compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `Basic` (RFC 7617).
    Basic,
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `NTLM` (MS-NLMP over HTTP).
    Ntlm,
    /// `Negotiate` (SPNEGO, RFC 4559).
    Negotiate,
    /// Any other scheme, with its name as sent.
    Other(String),
}

impl AuthScheme {
    /// The scheme named `name` (`basic`, `NTLM`, ... in any case).
    pub fn from_name(name: &str) -> Self {
        if name.eq_ignore_ascii_case("basic") {
            AuthScheme::Basic
        } else if name.eq_ignore_ascii_case("bearer") {
            AuthScheme::Bearer
        } else if name.eq_ignore_ascii_case("ntlm") {
            AuthScheme::Ntlm
        } else if name.eq_ignore_ascii_case("negotiate") {
            AuthScheme::Negotiate
        } else {
            AuthScheme::Other(name.to_owned())
        }
    }

    /// The name as written in an `Authorization` header (`Basic`, `Bearer`, `NTLM`,
    /// `Negotiate`, or the name of an `Other`).
    pub fn as_str(&self) -> &str {
        match self {
            AuthScheme::Basic => "Basic",
            AuthScheme::Bearer => "Bearer",
            AuthScheme::Ntlm => "NTLM",
            AuthScheme::Negotiate => "Negotiate",
            AuthScheme::Other(name) => name,
        }
    }

    fn same(&self, other: &AuthScheme) -> bool {
        match (self, other) {
            (AuthScheme::Other(a), AuthScheme::Other(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

/// One challenge of a `WWW-Authenticate` header: a scheme with either a token68 (the
/// NTLM and Negotiate tokens) or auth-params (`realm="x"`).
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    scheme: AuthScheme,
    token68: Option<String>,
    token: Option<Vec<u8>>,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn new(scheme: AuthScheme) -> Self {
        Self {
            scheme,
            token68: None,
            token: None,
            params: Vec::new(),
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> &AuthScheme {
        &self.scheme
    }

    /// The token68 as sent (`TlRMTVNTUAAC...`), if there was one.
    pub fn token68(&self) -> Option<&str> {
        self.token68.as_deref()
    }

    /// The token68 decoded from base64 (padding optional); `None` when there was none or it is
    /// not base64.
    pub fn token(&self) -> Option<&[u8]> {
        self.token.as_deref()
    }

    /// The auth-params, names and values as sent (quoted values unquoted).
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The value of the first auth-param called `name` (compared without regard to case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Challenge");
        d.field("scheme", &self.scheme);
        if let Some(t) = &self.token68 {
            d.field("token68", &format_args!("{} chars", t.len()));
            d.field("decoded", &self.token.as_ref().map(Vec::len));
        }
        d.field("params", &self.params).finish()
    }
}

/// Every challenge of every `WWW-Authenticate` header of `headers`, in order (several headers
/// and comma-separated lists alike).
///
/// ```
/// use ews_proto::ntlm::{AuthScheme, parse_www_authenticate};
/// let mut h = http::HeaderMap::new();
/// h.append("www-authenticate", r#"Basic realm="mail", Negotiate, NTLM TlRMTVNTUAACAAAA"#.parse()?);
/// h.append("www-authenticate", "Bearer error=invalid_token".parse()?);
/// let c = parse_www_authenticate(&h);
/// assert_eq!(c.len(), 4);
/// assert_eq!(c[0].param("realm"), Some("mail"));
/// assert_eq!(c[1].scheme(), &AuthScheme::Negotiate);
/// assert_eq!(c[2].token().map(|t| &t[..8]), Some(&b"NTLMSSP\0"[..]));
/// assert_eq!(c[3].param("error"), Some("invalid_token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_www_authenticate(headers: &HeaderMap) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in headers.get_all(WWW_AUTHENTICATE) {
        parse_into(value.as_bytes(), &mut out);
    }
    out
}

/// The challenges of one `WWW-Authenticate` value. Never fails: an element that is not a
/// challenge is skipped up to the next comma, and what could be read is kept.
pub fn parse_challenges(value: &[u8]) -> Vec<Challenge> {
    let mut out = Vec::new();
    parse_into(value, &mut out);
    out
}

/// The decoded token of the first challenge of `scheme` that has one: the server's next
/// handshake token in a `401` (or a final token in a `2xx`).
pub fn server_token<'a>(challenges: &'a [Challenge], scheme: &AuthScheme) -> Option<&'a [u8]> {
    challenges
        .iter()
        .filter(|c| c.scheme.same(scheme))
        .find_map(Challenge::token)
}

/// What the client holds to authenticate with, for [`choose`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialKind {
    /// A Windows account and password for NTLM and Negotiate only (never sent as Basic).
    Windows,
    /// A Windows account and password that may also go as Basic when the server offers
    /// nothing integrated.
    WindowsOrBasic,
    /// A user name and password for Basic only.
    Basic,
    /// OAuth bearer tokens.
    Bearer,
}

/// The scheme [`choose`] picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Choice {
    /// Bare NTLM (`Authorization: NTLM ...`, [`crate::ntlm::NtlmClient`]).
    Ntlm,
    /// NTLM inside SPNEGO (`Authorization: Negotiate ...`, [`crate::ntlm::SpnegoClient`]).
    Negotiate,
    /// Basic.
    Basic,
    /// Bearer.
    Bearer,
}

impl Choice {
    /// The scheme the answer travels under.
    pub fn scheme(self) -> AuthScheme {
        match self {
            Choice::Ntlm => AuthScheme::Ntlm,
            Choice::Negotiate => AuthScheme::Negotiate,
            Choice::Basic => AuthScheme::Basic,
            Choice::Bearer => AuthScheme::Bearer,
        }
    }
}

/// Picks the scheme to answer `challenges` with, given what the client `have`s; `None` when
/// nothing offered fits.
///
/// Preference, first offered wins:
///
/// | `have` | order |
/// | --- | --- |
/// | [`CredentialKind::Windows`] | `NTLM`, `Negotiate` |
/// | [`CredentialKind::WindowsOrBasic`] | `NTLM`, `Negotiate`, `Basic` |
/// | [`CredentialKind::Basic`] | `Basic` |
/// | [`CredentialKind::Bearer`] | `Bearer` |
///
/// `NTLM` goes before `Negotiate` because, without Kerberos, `Negotiate` can only carry the
/// same NTLM exchange inside SPNEGO, with more to go wrong (the mandatory `mechListMIC`, a
/// server whose Negotiate package allows Kerberos only) and nothing gained: the proof, the
/// MIC and the channel binding are the same. (Windows clients, choosing NTLM, likewise send
/// a bare NTLM token.) Once a Kerberos mechanism exists, `Negotiate` will go first for it.
/// Integrated schemes go before `Basic`, which sends the password itself.
///
/// ```
/// use ews_proto::ntlm::{Choice, CredentialKind, choose, parse_challenges};
/// let only_negotiate = parse_challenges(b"Negotiate");
/// assert_eq!(choose(&only_negotiate, CredentialKind::Windows), Some(Choice::Negotiate));
/// let all = parse_challenges(br#"Basic realm="x", Negotiate, NTLM"#);
/// assert_eq!(choose(&all, CredentialKind::WindowsOrBasic), Some(Choice::Ntlm));
/// assert_eq!(choose(&all, CredentialKind::Basic), Some(Choice::Basic));
/// assert_eq!(choose(&all, CredentialKind::Bearer), None);
/// ```
pub fn choose(challenges: &[Challenge], have: CredentialKind) -> Option<Choice> {
    let order: &[Choice] = match have {
        CredentialKind::Windows => &[Choice::Ntlm, Choice::Negotiate],
        CredentialKind::WindowsOrBasic => &[Choice::Ntlm, Choice::Negotiate, Choice::Basic],
        CredentialKind::Basic => &[Choice::Basic],
        CredentialKind::Bearer => &[Choice::Bearer],
    };
    order
        .iter()
        .copied()
        .find(|choice| challenges.iter().any(|c| c.scheme == choice.scheme()))
}

fn parse_into(value: &[u8], out: &mut Vec<Challenge>) {
    let mut c = Cursor { s: value, i: 0 };
    loop {
        c.skip_separators();
        if c.done() {
            return;
        }
        let Some(name) = c.token() else {
            c.skip_element();
            continue;
        };
        let mut challenge = Challenge::new(AuthScheme::from_name(&text(name)));
        let spaced = c.skip_ows();
        if spaced && !c.at_comma_or_end() {
            if c.at_auth_param() {
                loop {
                    challenge.params.push(c.auth_param());
                    c.skip_ows();
                    if !c.at_comma() {
                        break;
                    }
                    // After a comma: another auth-param of this challenge, or the next one
                    // (then back to the comma, which ends this challenge).
                    let comma = c.i;
                    c.skip_separators();
                    if !c.at_auth_param() {
                        c.i = comma;
                        break;
                    }
                }
            } else if let Some(token68) = c.token68() {
                let token68 = text(token68);
                challenge.token = TOKEN_BASE64.decode(&token68).ok();
                challenge.token68 = Some(token68);
                c.skip_ows();
            }
        }
        if !c.at_comma_or_end() {
            // Something that fits no rule: drop it, keep the challenge.
            c.skip_element();
        }
        out.push(challenge);
    }
}

/// Header bytes as text; obs-text (non-UTF-8 bytes) becomes U+FFFD.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at_comma(&self) -> bool {
        self.peek() == Some(b',')
    }

    fn at_comma_or_end(&self) -> bool {
        self.done() || self.at_comma()
    }

    /// Skips spaces and tabs; were there any?
    fn skip_ows(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
        self.i > start
    }

    /// Skips blanks and commas (empty list elements are allowed).
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    fn token(&mut self) -> Option<&'a [u8]> {
        let t = self.take_while(is_tchar);
        (!t.is_empty()).then_some(t)
    }

    /// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`, ending at a blank, a
    /// comma or the end.
    fn token68(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        if self.take_while(is_token68_char).is_empty() {
            return None;
        }
        self.take_while(|b| b == b'=');
        Some(&self.s[start..self.i])
    }

    /// Does `token BWS "=" BWS ( token / quoted-string )` start here?
    fn at_auth_param(&self) -> bool {
        let mut probe = Cursor {
            s: self.s,
            i: self.i,
        };
        if probe.token().is_none() {
            return false;
        }
        probe.skip_ows();
        if probe.peek() != Some(b'=') {
            return false;
        }
        probe.i += 1;
        probe.skip_ows();
        probe.peek().is_some_and(|b| b == b'"' || is_tchar(b))
    }

    /// Reads the auth-param [`Cursor::at_auth_param`] found.
    fn auth_param(&mut self) -> (String, String) {
        let name = text(self.token().unwrap_or_default());
        self.skip_ows();
        self.i += 1; // "="
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted_string()
        } else {
            text(self.token().unwrap_or_default())
        };
        (name, value)
    }

    /// A quoted-string, unescaped; an unterminated one runs to the end of the value.
    fn quoted_string(&mut self) -> String {
        self.i += 1; // the opening quote
        let mut bytes = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        bytes.push(escaped);
                        self.i += 1;
                    }
                }
                _ => bytes.push(b),
            }
        }
        text(&bytes)
    }

    /// Skips to the next comma outside a quoted-string.
    fn skip_element(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b',' => return,
                b'"' => {
                    self.quoted_string();
                }
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Vec<Challenge> {
        parse_challenges(value.as_bytes())
    }

    #[test]
    fn schemes_params_and_tokens() {
        let c = one(
            r#"Basic realm="x", Negotiate, NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKALpHAAAADw=="#,
        );
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].scheme(), &AuthScheme::Basic);
        assert_eq!(c[0].params(), &[("realm".to_owned(), "x".to_owned())]);
        assert_eq!(c[1].scheme(), &AuthScheme::Negotiate);
        assert_eq!(c[1].token68(), None);
        assert_eq!(c[2].scheme(), &AuthScheme::Ntlm);
        assert_eq!(
            c[2].token68(),
            Some("TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKALpHAAAADw==")
        );
        assert_eq!(&c[2].token().unwrap()[..12], b"NTLMSSP\0\x01\0\0\0");
    }

    #[test]
    fn several_params_and_quoting() {
        let c =
            one(r#"Bearer realm="a, \"b\"", error=invalid_token ,error_description="x y",Basic"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].param("REALM"), Some(r#"a, "b""#));
        assert_eq!(c[0].param("error"), Some("invalid_token"));
        assert_eq!(c[0].param("error_description"), Some("x y"));
        assert_eq!(c[1].scheme(), &AuthScheme::Basic);
    }

    #[test]
    fn token68_padding_and_params_told_apart() {
        // `abc=` ends in padding: a token68, not a parameter without value.
        let c = one("Negotiate YWI=");
        assert_eq!(c[0].token68(), Some("YWI="));
        assert_eq!(c[0].token(), Some(&b"ab"[..]));
        // Without padding it decodes too.
        assert_eq!(one("NTLM YWI")[0].token(), Some(&b"ab"[..]));
        // `abc=def` is a parameter.
        assert_eq!(one("Foo abc=def")[0].param("abc"), Some("def"));
        // Not base64: the text is kept, nothing decoded.
        let c = one("NTLM YW");
        assert_eq!((c[0].token68(), c[0].token()), (Some("YW"), None));
    }

    #[test]
    fn case_and_other_schemes() {
        let c = one("ntlm, NEGOTIATE, Digest realm=\"r\", nonce=\"n\", x-Custom");
        assert_eq!(c[0].scheme(), &AuthScheme::Ntlm);
        assert_eq!(c[1].scheme(), &AuthScheme::Negotiate);
        assert_eq!(c[2].scheme(), &AuthScheme::Other("Digest".to_owned()));
        assert_eq!(c[2].param("nonce"), Some("n"));
        assert_eq!(c[3].scheme().as_str(), "x-Custom");
    }

    #[test]
    fn garbage_is_skipped_not_fatal() {
        let c = one(r#", ,@@@, Basic;x, "q,uoted", NTLM  abc def, Negotiate"#);
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme().as_str()).collect();
        assert_eq!(schemes, ["Basic", "NTLM", "Negotiate"]);
        assert_eq!(c[1].token68(), Some("abc"));
        assert!(one("").is_empty());
        assert!(one("   ,,, ").is_empty());
        // An unterminated quote runs to the end.
        assert_eq!(one(r#"Basic realm="open"#)[0].param("realm"), Some("open"));
        // Bytes that are not UTF-8.
        let c = parse_challenges(b"Basic realm=\"\xff\"");
        assert_eq!(c[0].param("realm"), Some("\u{fffd}"));
    }

    #[test]
    fn server_token_picks_the_scheme() {
        let c = one("Negotiate oRswGaADCgEAoxIEEAEAAAA=, NTLM YWJj");
        assert_eq!(server_token(&c, &AuthScheme::Ntlm), Some(&b"abc"[..]));
        assert_eq!(
            server_token(&c, &AuthScheme::Negotiate).map(|t| t[0]),
            Some(0xa1)
        );
        assert_eq!(server_token(&c, &AuthScheme::Basic), None);
        let c = one("x-foo YWJj");
        assert!(server_token(&c, &AuthScheme::Other("X-FOO".into())).is_some());
    }
}
