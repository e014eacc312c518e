//! Where: item ids, folder ids and distinguished folders.

use crate::error::{MalformedKind, ServerError, UsageError};
use crate::types::EmailAddress;
use crate::xml::{BodyWriter, Element, Ns};

/// An item's id: the opaque `Id` plus the `ChangeKey` naming its version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemId {
    id: String,
    change_key: Option<String>,
}

impl ItemId {
    /// An id as a server returned it. Fails on an empty id.
    pub fn new(id: impl Into<String>, change_key: Option<String>) -> Result<Self, UsageError> {
        let id = id.into();
        if id.is_empty() {
            return Err(UsageError::invalid("item id", "must not be empty"));
        }
        Ok(Self { id, change_key })
    }

    /// The `Id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `ChangeKey`, if known.
    pub fn change_key(&self) -> Option<&str> {
        self.change_key.as_deref()
    }

    pub(crate) fn write(
        &self,
        w: &mut BodyWriter<'_>,
        element: &'static str,
    ) -> Result<(), UsageError> {
        w.open_start(Ns::Types, element);
        w.attr("Id", &self.id)?;
        if let Some(ck) = &self.change_key {
            w.attr("ChangeKey", ck)?;
        }
        w.empty_end();
        Ok(())
    }

    /// Reads `Id`/`ChangeKey` attributes; an element without `Id` is malformed.
    pub(crate) fn read(e: &Element<'_>) -> Result<Self, ServerError> {
        let id = e
            .attr("Id")?
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                e.malformed(
                    MalformedKind::MissingAttribute,
                    format!("{} without Id", e.local_name()),
                )
            })?
            .into_owned();
        let change_key = e.attr("ChangeKey")?.map(|c| c.into_owned());
        Ok(Self { id, change_key })
    }
}

/// A well-known folder (`DistinguishedFolderIdNameType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum DistinguishedFolder {
    Calendar,
    Contacts,
    DeletedItems,
    Drafts,
    Inbox,
    Journal,
    Notes,
    Outbox,
    SentItems,
    Tasks,
    MsgFolderRoot,
    Root,
    JunkEmail,
}

impl DistinguishedFolder {
    /// The `Id` attribute value.
    pub const fn as_str(self) -> &'static str {
        match self {
            DistinguishedFolder::Calendar => "calendar",
            DistinguishedFolder::Contacts => "contacts",
            DistinguishedFolder::DeletedItems => "deleteditems",
            DistinguishedFolder::Drafts => "drafts",
            DistinguishedFolder::Inbox => "inbox",
            DistinguishedFolder::Journal => "journal",
            DistinguishedFolder::Notes => "notes",
            DistinguishedFolder::Outbox => "outbox",
            DistinguishedFolder::SentItems => "sentitems",
            DistinguishedFolder::Tasks => "tasks",
            DistinguishedFolder::MsgFolderRoot => "msgfolderroot",
            DistinguishedFolder::Root => "root",
            DistinguishedFolder::JunkEmail => "junkemail",
        }
    }
}

/// A folder: by id, or a well-known folder of the caller's or another user's mailbox.
///
/// Built valid: an id is never empty.
///
/// ```
/// use ews_proto::{DistinguishedFolder, FolderId};
/// let theirs = FolderId::of(DistinguishedFolder::Calendar, "user1@example.com".parse()?);
/// assert_eq!(theirs.mailbox().map(|m| m.as_str()), Some("user1@example.com"));
/// assert!(FolderId::new("", None).is_err());
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FolderId(Folder);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Folder {
    Id {
        id: String,
        change_key: Option<String>,
    },
    Distinguished {
        folder: DistinguishedFolder,
        mailbox: Option<EmailAddress>,
    },
}

impl FolderId {
    /// A folder by its `Id` (and `ChangeKey`, if known), as a server returned it. Fails on
    /// an empty id.
    pub fn new(id: impl Into<String>, change_key: Option<String>) -> Result<Self, UsageError> {
        let id = id.into();
        if id.is_empty() {
            return Err(UsageError::invalid("folder id", "must not be empty"));
        }
        Ok(FolderId(Folder::Id { id, change_key }))
    }

    /// The caller's own well-known `folder`.
    pub fn own(folder: DistinguishedFolder) -> Self {
        FolderId(Folder::Distinguished {
            folder,
            mailbox: None,
        })
    }

    /// The well-known `folder` of `mailbox`.
    pub fn of(folder: DistinguishedFolder, mailbox: EmailAddress) -> Self {
        FolderId(Folder::Distinguished {
            folder,
            mailbox: Some(mailbox),
        })
    }

    /// The mailbox this id addresses explicitly, if any.
    pub fn mailbox(&self) -> Option<&EmailAddress> {
        match &self.0 {
            Folder::Distinguished { mailbox, .. } => mailbox.as_ref(),
            Folder::Id { .. } => None,
        }
    }

    /// The well-known folder, for a distinguished id.
    pub fn distinguished(&self) -> Option<DistinguishedFolder> {
        match &self.0 {
            Folder::Distinguished { folder, .. } => Some(*folder),
            Folder::Id { .. } => None,
        }
    }

    /// The `Id`, for a folder given by id.
    pub fn id(&self) -> Option<&str> {
        match &self.0 {
            Folder::Id { id, .. } => Some(id),
            Folder::Distinguished { .. } => None,
        }
    }

    /// The `ChangeKey`, for a folder given by id with one.
    pub fn change_key(&self) -> Option<&str> {
        match &self.0 {
            Folder::Id { change_key, .. } => change_key.as_deref(),
            Folder::Distinguished { .. } => None,
        }
    }

    /// Writes `<t:FolderId/>` or `<t:DistinguishedFolderId>`.
    pub(crate) fn write(&self, w: &mut BodyWriter<'_>) -> Result<(), UsageError> {
        match &self.0 {
            Folder::Id { id, change_key } => {
                w.open_start(Ns::Types, "FolderId");
                w.attr("Id", id)?;
                if let Some(ck) = change_key {
                    w.attr("ChangeKey", ck)?;
                }
                w.empty_end();
            }
            Folder::Distinguished { folder, mailbox } => {
                w.open_start(Ns::Types, "DistinguishedFolderId");
                w.attr("Id", folder.as_str())?;
                match mailbox {
                    None => w.empty_end(),
                    Some(address) => {
                        w.open_end();
                        w.open(Ns::Types, "Mailbox");
                        w.leaf(Ns::Types, "EmailAddress", address.as_str())?;
                        w.close(Ns::Types, "Mailbox");
                        w.close(Ns::Types, "DistinguishedFolderId");
                    }
                }
            }
        }
        Ok(())
    }
}
