//! The requests that are encoded: a meeting a delegate sends on behalf of a principal, with
//! 5 attendees and an HTML body of about 2 KB (with characters that must be escaped).
//!
//! The data is plain (strings and times) so that the peer crate can be given the same.

use ews_proto::{
    Body, CreateItem, LegacyFreeBusyStatus, Mailbox, NewCalendarItem, RequestContext, Sensitivity,
    TimeZoneId,
};

/// The endpoint every request goes to.
pub const ENDPOINT: &str = "https://mail.contoso.com/EWS/Exchange.asmx";
/// The principal on whose behalf the meeting is sent.
pub const PRINCIPAL: &str = "grace.muller12@contoso.com";
/// The subject.
pub const SUBJECT: &str = "Budget & forecast sync – Q3 <draft>";
/// The location.
pub const LOCATION: &str = "Bâtiment B / Salle Aurore";
/// Start and end (UTC).
pub const START: &str = "2026-09-14T09:00:00Z";
/// End (UTC).
pub const END: &str = "2026-09-14T10:30:00Z";
/// The attendees: display name and address.
pub const ATTENDEES: [(&str, &str); 5] = [
    ("Björn Andersen", "bjorn.andersen7@contoso.com"),
    ("Zoë O'Brien", "zoe.obrien31@eu.contoso.com"),
    ("王 芳", "wang.fang4@contoso.com"),
    ("José García (Contractor)", "jose.garcia88@fabrikam.example"),
    ("Priya Nguyễn", "priya.nguyen2@contoso.com"),
];

/// About 2 KB of Outlook-style HTML with `&`, `<`, `>`, quotes and non-ASCII text.
pub fn html_body() -> String {
    let mut html = String::from(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\
         <style type=\"text/css\"> P {margin-top:0;margin-bottom:0;} </style></head>\
         <body dir=\"ltr\"><div style=\"font-family: Calibri, Arial, sans-serif; font-size: 12pt;\">",
    );
    let paragraphs = [
        "<p>Agenda: review the Q3 numbers &amp; next steps — déjà vu, naïve €100 budget.</p>",
        "<div>Owners &lt;TBD&gt;: «draft» dependencies, risks &amp; action items for Straße 5.</div>",
        "<p>We will go through the <b>forecast</b> and the \"what if\" scenarios; bring notes.</p>",
    ];
    let mut i = 0;
    while html.len() < 1900 {
        html.push_str(paragraphs[i % paragraphs.len()]);
        i += 1;
    }
    html.push_str(
        "<div><a href=\"https://teams.example.com/l/meetup-join/19%3ameeting_5f2a%40thread.v2/0\
         ?context=%7b%22Tid%22%7d&amp;lang=en\">Join the meeting now</a></div></div></body></html>",
    );
    html
}

/// The request context of every encode benchmark (default version, no extra headers).
pub fn context() -> RequestContext {
    match RequestContext::new(ENDPOINT) {
        Ok(ctx) => ctx,
        Err(e) => panic!("bench endpoint rejected: {e}"),
    }
}

/// The on-behalf meeting as `ews-proto` builds it.
pub fn create_item_on_behalf() -> CreateItem {
    let parse = |s: &str| -> ews_proto::jiff::Timestamp {
        match s.parse() {
            Ok(t) => t,
            Err(e) => panic!("bad bench timestamp {s}: {e}"),
        }
    };
    let mut meeting = NewCalendarItem::new(SUBJECT, parse(START), parse(END))
        .expect("start is not after end")
        .sensitivity(Sensitivity::Normal)
        .body(Body::html(html_body()))
        .reminder(15)
        .free_busy(LegacyFreeBusyStatus::Busy)
        .location(LOCATION);
    for (name, address) in ATTENDEES {
        let address = match address.parse() {
            Ok(a) => a,
            Err(e) => panic!("bad bench address {address}: {e}"),
        };
        meeting = meeting.required_attendee(Mailbox::new(address).with_name(name));
    }
    if let Ok(tz) = TimeZoneId::new("W. Europe Standard Time") {
        meeting = meeting.time_zone(tz);
    }
    let principal = match PRINCIPAL.parse() {
        Ok(p) => p,
        Err(e) => panic!("bad bench principal: {e}"),
    };
    CreateItem::on_behalf_of(principal, meeting)
}
