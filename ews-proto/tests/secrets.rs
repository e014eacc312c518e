//! No password or token shows in the `Debug` output of any credential, authentication or
//! context type, nor of a call's steps and the requests they carry (`Authorization` is a
//! sensitive header). `Secret`, `Credentials` and `Auth` have no `Display` at all, so they
//! cannot be formatted into a log line with `{}`.

use std::time::Instant;

use ews_proto::driver::{Auth, Call, Step};
use ews_proto::*;

const PASSWORD: &str = "pa55-w0rd-XYZZY";
const TOKEN: &str = "eyJ0eXAi.T0KEN-PLUGH.sig";

/// The secret, and the forms it takes on the wire (base64 of `user:password`).
fn leaks(s: &str) -> bool {
    s.contains(PASSWORD)
        || s.contains(TOKEN)
        || s.contains("cGE1NS13MHJkLVhZWlpZ") // base64("pa55-w0rd-XYZZY")
        || s.contains("dXNlcjE6cGE1NS13MHJkLVhZWlpZ") // base64("user1:pa55-w0rd-XYZZY")
}

fn ctx() -> RequestContext {
    RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")
        .expect("endpoint")
        .with_impersonation(Impersonation::PrimarySmtpAddress(
            "user1@example.com".parse().expect("addr"),
        ))
}

#[test]
fn secret_debug_is_opaque() {
    let s = Secret::new(String::from(PASSWORD));
    assert_eq!(format!("{s:?}"), "Secret(..)");
    assert_eq!(format!("{s:#?}"), "Secret(..)");
    let from: Secret<String> = PASSWORD.into();
    assert!(!leaks(&format!("{from:?}")));
}

#[test]
fn credentials_and_auth_hide_passwords_and_tokens() {
    let basic = Credentials::basic("user1", PASSWORD);
    for text in [format!("{basic:?}"), format!("{basic:#?}")] {
        assert!(!leaks(&text), "{text}");
        assert!(
            text.contains("user1"),
            "the user name is not secret: {text}"
        );
    }

    let auth = Auth::new(basic.clone());
    assert!(!leaks(&format!("{auth:?} {auth:#?}")));
    assert!(!leaks(&format!("{:?}", auth.credentials())));

    let mut bearer = Auth::new(Credentials::Bearer);
    bearer
        .set_token(Secret::new(TOKEN.to_owned()))
        .expect("a valid token");
    let text = format!("{bearer:?} {bearer:#?}");
    assert!(!leaks(&text), "{text}");
}

#[test]
fn calls_steps_and_requests_hide_the_authorization_header() {
    let ctx = ctx();
    assert!(!leaks(&format!("{ctx:?}")));
    let op = GetDelegate::new("user1@example.com".parse().expect("addr"));
    for mut auth in [Auth::new(Credentials::basic("user1", PASSWORD)), {
        let mut a = Auth::new(Credentials::Bearer);
        a.set_token(Secret::new(TOKEN.to_owned()))
            .expect("a valid token");
        a
    }] {
        let mut call = Call::new(&op, &ctx);
        let step = call.poll(&mut auth, Instant::now());
        let Step::Send { request, .. } = &step else {
            panic!("expected a request, got {step:?}");
        };
        // The header is really there (this is what must not leak) ...
        let value = request.headers()[http::header::AUTHORIZATION].clone();
        assert!(value.is_sensitive());
        assert!(value.to_str().expect("ascii").len() > 10);
        // ... and neither the step, the request, its headers nor the call show it.
        for text in [
            format!("{step:?}"),
            format!("{step:#?}"),
            format!("{request:?}"),
            format!("{:?}", request.headers()),
            format!("{value:?}"),
            format!("{call:?}"),
        ] {
            assert!(!leaks(&text), "{text}");
        }
    }
}
