//! Read-back: how a delegate write whose answer was lost is checked instead of resent.
//!
//! AddDelegate, UpdateDelegate and RemoveDelegate change state that a GetDelegate can
//! show. When such a request may have been processed but its answer was lost (a broken
//! connection, a timeout, a 502), resending it is wrong both ways: an AddDelegate that
//! worked would come back `ErrorDelegateAlreadyExists`, a RemoveDelegate
//! `ErrorNotDelegate`, a false failure for a write that succeeded. So [`crate::driver::Call`]
//! sends the operation's [`ReadBack`] query instead and reports each write as
//! [`WriteState::Applied`], [`WriteState::NotApplied`] or [`WriteState::Unknown`] in an
//! [`Unconfirmed`] error. It never resends the write: a write that is still in progress
//! at the server (after a timeout) could otherwise be applied twice.

use std::fmt;

use crate::error::Error;
use crate::ops::{DelegateResults, GetDelegate};
use crate::types::{
    DelegateFolder, DelegateUser, DeliverMeetingRequests, EmailAddress, PermissionLevel, UserId,
};

/// What one write of a delegate operation turned out to be, by read-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteState {
    /// The mailbox shows what the write asked for.
    Applied,
    /// The mailbox does not show it (the user is absent, present with other settings, or
    /// still present after a removal).
    NotApplied,
    /// The read-back failed or could not tell (for example a user named by display name
    /// only, or a server that does not report `DeliverMeetingRequests`).
    Unknown,
}

impl fmt::Display for WriteState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteState::Applied => "applied",
            WriteState::NotApplied => "not applied",
            WriteState::Unknown => "unknown",
        })
    }
}

/// What a write touched: one delegate, or the principal's `DeliverMeetingRequests`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteTarget {
    /// A delegate added, updated or removed.
    Delegate(UserId),
    /// The principal-level `DeliverMeetingRequests` setting.
    DeliverMeetingRequests,
}

/// One write and what the read-back found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteCheck {
    /// What was written.
    pub target: WriteTarget,
    /// What the read-back found.
    pub state: WriteState,
}

/// The answer to a delegate write was lost, and a read-back (GetDelegate) tells, for each
/// write of the request, whether it was applied. The write itself was sent exactly once.
///
/// Returned as [`Error::Unconfirmed`]. When [`Unconfirmed::all_applied`] holds, the
/// mailbox is in the state the call asked for.
#[derive(Debug)]
#[non_exhaustive]
pub struct Unconfirmed {
    /// Why the answer is missing (the transport or server error of the write).
    pub cause: Error,
    /// One check per delegate of the request, in request order, then one for
    /// `DeliverMeetingRequests` if the request set it.
    pub checks: Vec<WriteCheck>,
    /// Why the read-back itself failed, if it did (every check is then `Unknown`).
    pub read_back_error: Option<Error>,
}

impl Unconfirmed {
    /// Did the read-back show every write applied?
    pub fn all_applied(&self) -> bool {
        self.checks.iter().all(|c| c.state == WriteState::Applied)
    }

    /// The state found for `user`, if the request wrote it.
    pub fn state_of(&self, user: &UserId) -> Option<WriteState> {
        self.checks.iter().find_map(|c| match &c.target {
            WriteTarget::Delegate(u) if u.same_user(user) => Some(c.state),
            _ => None,
        })
    }
}

impl fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |s| self.checks.iter().filter(|c| c.state == s).count();
        write!(
            f,
            "the answer was lost ({}); read back: {} applied, {} not applied, {} unknown",
            self.cause,
            count(WriteState::Applied),
            count(WriteState::NotApplied),
            count(WriteState::Unknown),
        )?;
        if let Some(e) = &self.read_back_error {
            write!(f, " (the read-back failed: {e})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Unconfirmed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// What a delegate write expects the mailbox to show afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// The delegate is there, with every setting the write named.
    Present(DelegateUser),
    /// The delegate is gone.
    Absent(UserId),
    /// `DeliverMeetingRequests` has this value.
    Deliver(DeliverMeetingRequests),
}

/// The read that tells whether a delegate write was applied: the GetDelegate to send and
/// what each write expects to see. Made by [`crate::Operation::read_back`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    query: GetDelegate,
    expect: Vec<Expect>,
}

impl ReadBack {
    /// After AddDelegate or UpdateDelegate: the delegates present as written.
    pub(crate) fn present(
        principal: &EmailAddress,
        delegates: &[DelegateUser],
        deliver: Option<&DeliverMeetingRequests>,
    ) -> Self {
        let mut expect: Vec<Expect> = delegates.iter().cloned().map(Expect::Present).collect();
        expect.extend(deliver.cloned().map(Expect::Deliver));
        Self::new(principal, expect)
    }

    /// After RemoveDelegate: the users absent.
    pub(crate) fn absent(principal: &EmailAddress, users: &[UserId]) -> Self {
        Self::new(
            principal,
            users.iter().cloned().map(Expect::Absent).collect(),
        )
    }

    fn new(principal: &EmailAddress, expect: Vec<Expect>) -> Self {
        // Every delegate with permissions: one answer to judge every expectation by.
        Self {
            query: GetDelegate::new(principal.clone()),
            expect,
        }
    }

    /// The GetDelegate to send.
    pub fn query(&self) -> &GetDelegate {
        &self.query
    }

    /// Judges every write by the read-back's answer.
    pub fn judge(&self, observed: &DelegateResults) -> Vec<WriteCheck> {
        self.expect.iter().map(|e| judge(e, observed)).collect()
    }

    /// Every write `Unknown` (the read-back failed).
    pub fn unknown(&self) -> Vec<WriteCheck> {
        self.expect
            .iter()
            .map(|e| WriteCheck {
                target: target(e),
                state: WriteState::Unknown,
            })
            .collect()
    }
}

fn target(e: &Expect) -> WriteTarget {
    match e {
        Expect::Present(d) => WriteTarget::Delegate(d.user_id().clone()),
        Expect::Absent(u) => WriteTarget::Delegate(u.clone()),
        Expect::Deliver(_) => WriteTarget::DeliverMeetingRequests,
    }
}

fn judge(e: &Expect, observed: &DelegateResults) -> WriteCheck {
    let state = match e {
        Expect::Present(want) => match find(observed, want.user_id()) {
            Found::Yes(have) if matches(want, have) => WriteState::Applied,
            Found::Yes(_) | Found::No => WriteState::NotApplied,
            Found::CannotTell => WriteState::Unknown,
        },
        Expect::Absent(user) => match find(observed, user) {
            Found::Yes(_) => WriteState::NotApplied,
            Found::No => WriteState::Applied,
            Found::CannotTell => WriteState::Unknown,
        },
        Expect::Deliver(want) => match &observed.deliver_meeting_requests {
            Some(have) if have == want => WriteState::Applied,
            Some(_) => WriteState::NotApplied,
            None => WriteState::Unknown,
        },
    };
    WriteCheck {
        target: target(e),
        state,
    }
}

enum Found<'a> {
    Yes(&'a crate::types::Delegate),
    No,
    /// The user has neither an SMTP address nor a SID to match by.
    CannotTell,
}

fn find<'a>(observed: &'a DelegateResults, user: &UserId) -> Found<'a> {
    if user.primary_smtp_address().is_none() && user.sid_str().is_none() {
        return Found::CannotTell;
    }
    observed
        .iter()
        .filter_map(|m| m.value.as_ref())
        .find(|d| d.user_id.same_user(user))
        .map_or(Found::No, Found::Yes)
}

/// Does the delegate the server reports carry every setting the write named?
fn matches(want: &DelegateUser, have: &crate::types::Delegate) -> bool {
    let permissions_ok =
        DelegateFolder::ALL
            .iter()
            .all(|&folder| match want.permission_set().level(folder) {
                None => true,
                Some(level) => have
                    .permissions
                    .as_ref()
                    .and_then(|p| p.level(folder))
                    .is_some_and(|l| *l == PermissionLevel::Set(level)),
            });
    let flag_ok = |want: Option<bool>, have: Option<bool>| want.is_none() || want == have;
    permissions_ok
        && flag_ok(
            want.receive_copies(),
            have.receive_copies_of_meeting_messages,
        )
        && flag_ok(want.private_items(), have.view_private_items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Operation;
    use crate::types::{DelegatePermissions, Permission};

    const ANSWER: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
      <m:GetDelegateResponse ResponseClass="Success"
          xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
          xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
        <m:ResponseCode>NoError</m:ResponseCode>
        <m:ResponseMessages>
          <m:DelegateUserResponseMessageType ResponseClass="Success">
            <m:ResponseCode>NoError</m:ResponseCode>
            <m:DelegateUser>
              <t:UserId><t:PrimarySmtpAddress>User2@example.com</t:PrimarySmtpAddress></t:UserId>
              <t:DelegatePermissions><t:CalendarFolderPermissionLevel>Author</t:CalendarFolderPermissionLevel></t:DelegatePermissions>
              <t:ReceiveCopiesOfMeetingMessages>false</t:ReceiveCopiesOfMeetingMessages>
              <t:ViewPrivateItems>false</t:ViewPrivateItems>
            </m:DelegateUser>
          </m:DelegateUserResponseMessageType>
        </m:ResponseMessages>
        <m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>
      </m:GetDelegateResponse></s:Body></s:Envelope>"#;

    fn observed() -> DelegateResults {
        let response = http::Response::new(bytes::Bytes::from_static(ANSWER.as_bytes()));
        GetDelegate::new(addr("user1@example.com"))
            .decode(&response)
            .expect("the hand-written answer decodes")
            .body
    }

    fn addr(s: &str) -> EmailAddress {
        s.parse().expect("address")
    }

    fn user(s: &str) -> UserId {
        UserId::smtp(addr(s))
    }

    fn states(rb: &ReadBack) -> Vec<WriteState> {
        rb.judge(&observed()).into_iter().map(|c| c.state).collect()
    }

    #[test]
    fn a_present_delegate_with_the_written_settings_is_applied() {
        let p = addr("user1@example.com");
        let author = DelegateUser::new(user("user2@example.com"))
            .permissions(DelegatePermissions::new().calendar(Permission::Author))
            .view_private_items(false);
        let editor = DelegateUser::new(user("user2@example.com"))
            .permissions(DelegatePermissions::new().calendar(Permission::Editor));
        let private = DelegateUser::new(user("user2@example.com")).view_private_items(true);
        let absent = DelegateUser::new(user("user3@example.com"));
        let rb = ReadBack::present(
            &p,
            &[author, editor, private, absent],
            Some(&DeliverMeetingRequests::DelegatesAndMe),
        );
        use WriteState::*;
        assert_eq!(
            states(&rb),
            [Applied, NotApplied, NotApplied, NotApplied, Applied]
        );
        let rb = ReadBack::present(&p, &[], Some(&DeliverMeetingRequests::DelegatesOnly));
        assert_eq!(states(&rb), [NotApplied]);
    }

    #[test]
    fn a_removal_is_applied_when_the_user_is_gone() {
        let p = addr("user1@example.com");
        let rb = ReadBack::absent(&p, &[user("user3@example.com"), user("USER2@example.com")]);
        assert_eq!(states(&rb), [WriteState::Applied, WriteState::NotApplied]);
    }

    #[test]
    fn what_cannot_be_matched_is_unknown() {
        let p = addr("user1@example.com");
        let by_name = UserId::distinguished(crate::types::DistinguishedUser::Default);
        let rb = ReadBack::absent(&p, &[by_name]);
        assert_eq!(states(&rb), [WriteState::Unknown]);
        let mut silent = observed();
        silent.deliver_meeting_requests = None;
        let rb = ReadBack::present(&p, &[], Some(&DeliverMeetingRequests::DelegatesAndMe));
        assert_eq!(rb.judge(&silent)[0].state, WriteState::Unknown);
        assert!(rb.unknown().iter().all(|c| c.state == WriteState::Unknown));
    }
}
