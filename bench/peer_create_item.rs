//! The peer's CreateItem (the `ews` crate 0.1.2), shared by the encode bench and the
//! profile example: the closest message it can express to our on-behalf meeting (see
//! `benches/encode.rs`).

use ews_bench::inputs;

/// The peer's envelope for the on-behalf meeting.
pub(crate) fn peer_envelope() -> ews::soap::Envelope<ews::create_item::CreateItem> {
    let mailbox = |name: Option<&str>, address: &str| ews::Mailbox {
        name: name.map(str::to_owned),
        email_address: Some(address.to_owned()),
        ..Default::default()
    };
    let recipients = inputs::ATTENDEES
        .iter()
        .map(|(name, address)| ews::Recipient {
            mailbox: mailbox(Some(name), address),
        })
        .collect();
    let message = ews::Message {
        subject: Some(inputs::SUBJECT.to_owned()),
        sensitivity: Some(ews::Sensitivity::Normal),
        body: Some(ews::Body {
            body_type: ews::BodyType::HTML,
            is_truncated: None,
            content: Some(inputs::html_body()),
        }),
        reminder_is_set: Some(true),
        reminder_minutes_before_start: Some(15),
        to_recipients: Some(ews::ArrayOfRecipients(recipients)),
        ..Default::default()
    };
    ews::soap::Envelope {
        headers: vec![ews::soap::Header::RequestServerVersion {
            version: ews::server_version::ExchangeServerVersion::Exchange2013_SP1,
        }],
        body: ews::create_item::CreateItem {
            message_disposition: Some(ews::MessageDisposition::SendAndSaveCopy),
            saved_item_folder_id: Some(ews::BaseFolderId::DistinguishedFolderId {
                id: "calendar".to_owned(),
                change_key: None,
                mailbox: Some(mailbox(None, inputs::PRINCIPAL)),
            }),
            items: vec![ews::RealItem::CalendarItem(message)],
        },
    }
}
