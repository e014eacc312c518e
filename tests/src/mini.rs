//! A minimal blocking HTTP client for loopback tests and the interim tour: it posts an
//! `http::Request<Bytes>` and returns every status as an `http::Response<Bytes>`.
//!
//! It knows nothing of EWS (no retries, no auth state machine): the real drivers live in
//! `ews-blocking` and `ews-async`.

use bytes::Bytes;

/// The HTTP `Authorization` value for Basic authentication.
pub fn basic(user: &str, password: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{user}:{password}");
    let mut out = String::from("Basic ");
    for chunk in raw.as_bytes().chunks(3) {
        let at = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (at(0) << 16) | (at(1) << 8) | at(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A minimal client over one ureq agent.
#[derive(Debug, Clone)]
pub struct MiniClient {
    agent: ureq::Agent,
}

impl Default for MiniClient {
    fn default() -> Self {
        Self::new()
    }
}

impl MiniClient {
    /// A client that treats every HTTP status as an answer.
    pub fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Self { agent }
    }

    /// Sends `request` with the `Authorization` header `auth`.
    pub fn send(
        &self,
        mut request: http::Request<Bytes>,
        auth: &str,
    ) -> Result<http::Response<Bytes>, ureq::Error> {
        if let Ok(value) = auth.parse() {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
        let mut response = self.agent.run(request.map(|b| b.to_vec()))?;
        let body = response.body_mut().read_to_vec()?;
        let (parts, _) = response.into_parts();
        Ok(http::Response::from_parts(parts, Bytes::from(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_matches_rfc_7617_example() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic("a", "b"), "Basic YTpi");
        assert_eq!(basic("ab", ""), "Basic YWI6");
    }
}
