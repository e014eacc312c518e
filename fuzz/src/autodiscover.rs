//! Checks for the Autodiscover answer decoders (`decode_autodiscover_soap`,
//! `decode_autodiscover_pox`): no panic on any body; whatever tight limits accept, the
//! default ones accept identically; a body one byte over `max_body_bytes` is refused as
//! `LimitExceeded`; results and errors format (`Debug`, `Display`) with server text
//! bounded.

use ews_proto::autodiscover::{Answer, decode_pox, decode_soap};
use ews_proto::{Limits, ServerError};

/// One body through the SOAP decoder.
pub fn soap(data: &[u8]) {
    check(data, decode_soap);
}

/// One body through the POX decoder.
pub fn pox(data: &[u8]) {
    check(data, decode_pox);
}

fn check(data: &[u8], decode: fn(&[u8], &Limits) -> Result<Answer, ServerError>) {
    let default = decode(data, &Limits::default());
    let tight = Limits::default().max_depth(12).max_items(4);
    if let Ok(answer) = decode(data, &tight) {
        assert_eq!(
            default.as_ref().ok(),
            Some(&answer),
            "tight accepted, default differs"
        );
    }
    if !data.is_empty() {
        let over = decode(data, &Limits::default().max_body_bytes(data.len() - 1));
        assert!(
            matches!(over, Err(ServerError::LimitExceeded { .. })),
            "{over:?}"
        );
    }
    match &default {
        Ok(Answer::Error { message, code, .. }) => {
            assert!(message.len() < 1024, "message not bounded");
            let shown = code.to_string();
            assert!(
                !shown.contains('\n') && shown.len() < 1024,
                "code not bounded"
            );
        }
        Ok(Answer::Settings(s)) => {
            for e in &s.setting_errors {
                assert!(e.message.len() < 1024 && e.setting.len() < 1024);
            }
            let _ = s.request_version();
        }
        Ok(_) => {}
        Err(e) => {
            let shown = e.to_string();
            assert!(
                !shown.contains('\n'),
                "an error message spans lines: {shown}"
            );
        }
    }
    let _ = format!("{default:?}");
}
