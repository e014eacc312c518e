"""The delegate story, told by a real third-party EWS client (exchangelib) to ews-sim.

Usage: python tour.py EWS_URL

Only exchangelib's ordinary public API is used, except for AddDelegate and
RemoveDelegate, which exchangelib lacks: those two are raw SOAP posts (urllib). No
folder object is built by hand: every folder comes from `account.calendar`,
`account.inbox`, `account.trash`, which exchangelib resolves with GetFolder.

The accounts are the simulator's standard ones: user1 is the principal, user2 its
delegate (Editor on the calendar), user3 an attendee. Checks fail with AssertionError
(exit 1); the last line says how many checks passed.
"""

import base64
import datetime
import sys
import urllib.request
import uuid

from exchangelib import (
    BASIC,
    DELEGATE,
    Account,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
)
from exchangelib.items import MeetingCancellation, MeetingRequest, SEND_TO_ALL_AND_SAVE_COPY

PRINCIPAL = ("user1@example.com", "Passw0rd-1")
DELEGATE_USER = ("user2@example.com", "Passw0rd-2")
ATTENDEE = ("user3@example.com", "Passw0rd-3")

SOAP = """<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
            xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
            xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header>
  <s:Body>{body}</s:Body>
</s:Envelope>"""

ADD_DELEGATE = """<m:AddDelegate>
  <m:Mailbox><t:EmailAddress>{principal}</t:EmailAddress></m:Mailbox>
  <m:DelegateUsers>
    <t:DelegateUser>
      <t:UserId><t:PrimarySmtpAddress>{delegate}</t:PrimarySmtpAddress></t:UserId>
      <t:DelegatePermissions>
        <t:CalendarFolderPermissionLevel>Editor</t:CalendarFolderPermissionLevel>
      </t:DelegatePermissions>
      <t:ReceiveCopiesOfMeetingMessages>false</t:ReceiveCopiesOfMeetingMessages>
      <t:ViewPrivateItems>false</t:ViewPrivateItems>
    </t:DelegateUser>
  </m:DelegateUsers>
  <m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>
</m:AddDelegate>"""

REMOVE_DELEGATE = """<m:RemoveDelegate>
  <m:Mailbox><t:EmailAddress>{principal}</t:EmailAddress></m:Mailbox>
  <m:UserIds><t:UserId><t:PrimarySmtpAddress>{delegate}</t:PrimarySmtpAddress></t:UserId></m:UserIds>
</m:RemoveDelegate>"""

checks = 0


def check(condition, what):
    global checks
    assert condition, what
    checks += 1
    print(f"ok {checks} - {what}")


def raw_soap(url, credentials, body):
    """POSTs one SOAP request with Basic auth; returns the response text."""
    user, password = credentials
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(
        url,
        data=SOAP.format(body=body).encode("utf-8"),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "Authorization": f"Basic {token}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.read().decode("utf-8")


def account(url, mailbox, credentials):
    """An exchangelib Account for `mailbox`, authenticated as `credentials` (Basic)."""
    config = Configuration(
        service_endpoint=url,
        credentials=Credentials(*credentials),
        auth_type=BASIC,
    )
    return Account(mailbox, config=config, autodiscover=False, access_type=DELEGATE)


def main(url):
    subject = f"Budget review {uuid.uuid4().hex[:8]}"

    # Set up the delegate (raw SOAP: exchangelib has no AddDelegate).
    answer = raw_soap(url, PRINCIPAL, ADD_DELEGATE.format(principal=PRINCIPAL[0], delegate=DELEGATE_USER[0]))
    check("<m:ResponseCode>NoError</m:ResponseCode>" in answer, "AddDelegate (raw SOAP) succeeded")

    principal = account(url, PRINCIPAL[0], PRINCIPAL)
    # The principal's mailbox, opened by the delegate with its own credentials.
    on_behalf = account(url, PRINCIPAL[0], DELEGATE_USER)
    attendee = account(url, ATTENDEE[0], ATTENDEE)

    # 1. Read the delegates through exchangelib.
    delegates = principal.delegates
    by_address = {d.user_id.primary_smtp_address.lower(): d for d in delegates}
    check(DELEGATE_USER[0] in by_address, "account.delegates lists the delegate")
    check(
        by_address[DELEGATE_USER[0]].delegate_permissions.calendar_folder_permission_level == "Editor",
        "the delegate is Editor on the calendar",
    )

    # 2. The delegate puts a meeting in the principal's calendar (account.calendar).
    calendar = on_behalf.calendar
    check(calendar.name == "Calendar", "account.calendar resolves the principal's calendar (GetFolder)")
    tz = EWSTimeZone("UTC")
    start = EWSDateTime.from_datetime(
        datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, second=0, minute=0)
        + datetime.timedelta(days=2)
    ).astimezone(tz)
    meeting = CalendarItem(
        account=on_behalf,
        folder=calendar,
        subject=subject,
        body="Numbers for Q3.",
        start=start,
        end=start + datetime.timedelta(hours=1),
        location="Room 4",
        required_attendees=[ATTENDEE[0]],
    )
    meeting.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    check(meeting.id is not None, "the delegate created the meeting")

    found = list(on_behalf.calendar.filter(subject=subject))
    check(len(found) == 1, "the meeting is in the principal's calendar (filter by subject)")
    check(
        found[0].organizer.email_address.lower() == PRINCIPAL[0],
        "the principal organizes it",
    )
    later = list(on_behalf.calendar.filter(start__gt=start - datetime.timedelta(hours=1), subject=subject))
    check(len(later) == 1, "a filter on the start time finds it")
    none = list(on_behalf.calendar.filter(start__gt=start + datetime.timedelta(hours=1), subject=subject))
    check(len(none) == 0, "a filter on a later start time does not")
    check(
        list(on_behalf.calendar.filter(subject="no such meeting")) == [],
        "a filter on another subject finds nothing",
    )

    # 3. The attendee's inbox, filtered by subject.
    invitations = [i for i in attendee.inbox.filter(subject=subject) if isinstance(i, MeetingRequest)]
    check(len(invitations) == 1, "the attendee got the invitation (inbox filtered by subject)")
    invitation = invitations[0]
    check(invitation.author.email_address.lower() == PRINCIPAL[0], "it is From the principal")
    check(invitation.sender.email_address.lower() == DELEGATE_USER[0], "and Sender is the delegate")
    by_sender = list(attendee.inbox.filter(sender=DELEGATE_USER[0], subject=subject))
    check(len(by_sender) == 1, "a filter on the sender finds it")
    other_sender = list(attendee.inbox.filter(sender="user4@example.com", subject=subject))
    check(other_sender == [], "a filter on another sender does not")

    # The attendee accepts; the organizer (the principal) gets the answer.
    invitation.accept(body="I'll be there.")
    accepted = list(attendee.calendar.filter(subject=subject))
    check(len(accepted) == 1, "the accepted meeting is in the attendee's calendar")
    check(accepted[0].my_response_type == "Accept", "marked Accept")
    answers = list(principal.inbox.filter(subject=f"Accepted: {subject}"))
    check(len(answers) == 1, "the principal got the acceptance")

    # 4. The principal, the meeting's organizer, cancels it. (A delegate's cancel() would
    # need the principal's Sent Items: exchangelib saves the copy there, and delegate
    # permissions do not reach that folder, on Exchange as here.)
    own = list(principal.calendar.filter(subject=subject))
    check(len(own) == 1 and own[0].id == found[0].id, "the principal sees the same meeting")
    own[0].cancel()
    cancellations = [
        i for i in attendee.inbox.filter(subject__contains=subject) if isinstance(i, MeetingCancellation)
    ]
    check(len(cancellations) == 1, "the attendee got the cancellation")
    check(cancellations[0].subject == f"Canceled: {subject}", "its subject says Canceled")
    check(
        list(on_behalf.calendar.filter(subject=subject)) == [],
        "the meeting left the principal's calendar",
    )
    trashed = list(principal.trash.filter(subject=subject))
    check(len(trashed) == 1 and trashed[0].is_cancelled, "it is in Deleted Items, cancelled")
    check(
        [m.is_cancelled for m in attendee.calendar.filter(subject=subject)] == [True],
        "the attendee's copy is marked cancelled",
    )

    # Tear down (raw SOAP: exchangelib has no RemoveDelegate).
    answer = raw_soap(url, PRINCIPAL, REMOVE_DELEGATE.format(principal=PRINCIPAL[0], delegate=DELEGATE_USER[0]))
    check("<m:ResponseCode>NoError</m:ResponseCode>" in answer, "RemoveDelegate (raw SOAP) succeeded")
    check(
        all(d.user_id.primary_smtp_address.lower() != DELEGATE_USER[0] for d in principal.delegates),
        "account.delegates no longer lists the delegate",
    )
    print(f"exchangelib: {checks} passed, 0 failed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tour.py EWS_URL")
    main(sys.argv[1])
