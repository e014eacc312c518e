//! The operation methods both clients have, written once: [`client_operation_methods!`]
//! expands to them inside a client's `impl` block, as plain methods (`ews-blocking`) or
//! `async` ones (`ews-async`). Each builds the operation and calls the client's `send`;
//! every decision stays in the core's [`Call`](crate::driver::Call).

/// Expands to the operation methods of a client type that has
/// `send(&self, &impl Operation) -> Result<Reply<O::Output>, Error>` (or its `async` form with
/// `client_operation_methods!(async)`). For the two drivers of this workspace.
#[macro_export]
#[doc(hidden)]
macro_rules! client_operation_methods {
    () => {
        $crate::client_operation_methods!(@ [] []);
    };
    (async) => {
        $crate::client_operation_methods!(@ [async] [.await]);
    };
    (@ [$($kw:tt)*] [$($aw:tt)*]) => {
        /// AddDelegate: gives `delegate` access to `principal`'s folders.
        ///
        /// # Errors
        /// The request as a whole failed (see [`Client::send`]); a per-user refusal
        /// (`ErrorDelegateAlreadyExists`) is in the reply.
        pub $($kw)* fn add_delegate(
            &self,
            principal: &$crate::EmailAddress,
            delegate: $crate::DelegateUser,
        ) -> Result<$crate::Reply<$crate::DelegateResults>, $crate::Error> {
            self.send(&$crate::AddDelegate::new(principal.clone(), delegate))$($aw)*
        }

        /// GetDelegate: a principal's delegates. Give the principal's address for all of
        /// them with their permissions, or a [`GetDelegate`](ews_proto::GetDelegate) to name
        /// users or leave the permissions out:
        /// `get_delegates(GetDelegate::new(principal).user(id).include_permissions(false))`.
        ///
        /// # Errors
        /// See [`Client::send`]; a named user who is not a delegate (`ErrorNotDelegate`)
        /// is in the reply.
        pub $($kw)* fn get_delegates(
            &self,
            query: impl Into<$crate::GetDelegate>,
        ) -> Result<$crate::Reply<$crate::DelegateResults>, $crate::Error> {
            self.send(&query.into())$($aw)*
        }

        /// UpdateDelegate: changes a delegate's permissions or flags (only what
        /// `delegate` sets). `DelegateUser::from(&current)` turns a delegate read with
        /// [`get_delegates`](Self::get_delegates) into one to change.
        ///
        /// # Errors
        /// See [`Client::send`]; a per-user refusal (`ErrorNotDelegate`) is in the reply.
        pub $($kw)* fn update_delegate(
            &self,
            principal: &$crate::EmailAddress,
            delegate: $crate::DelegateUser,
        ) -> Result<$crate::Reply<$crate::DelegateResults>, $crate::Error> {
            self.send(&$crate::UpdateDelegate::new(principal.clone(), delegate))$($aw)*
        }

        /// UpdateDelegate without delegates: changes only where `principal`'s meeting
        /// requests go (`DeliverMeetingRequests`, a setting of the principal's).
        ///
        /// # Errors
        /// See [`Client::send`]; `NoForward` before Exchange2010_SP1 is a usage error.
        pub $($kw)* fn update_deliver_meeting_requests(
            &self,
            principal: &$crate::EmailAddress,
            deliver: $crate::DeliverMeetingRequests,
        ) -> Result<$crate::Reply<$crate::DelegateResults>, $crate::Error> {
            self.send(&$crate::UpdateDelegate::deliver_only(principal.clone(), deliver))$($aw)*
        }

        /// RemoveDelegate: takes `user`'s delegate access away.
        ///
        /// # Errors
        /// See [`Client::send`]; a per-user refusal (`ErrorNotDelegate`) is in the reply.
        pub $($kw)* fn remove_delegate(
            &self,
            principal: &$crate::EmailAddress,
            user: $crate::UserId,
        ) -> Result<$crate::Reply<$crate::DelegateResults>, $crate::Error> {
            self.send(&$crate::RemoveDelegate::new(principal.clone(), user))$($aw)*
        }

        /// CreateItem on behalf: saves `meeting` in `principal`'s calendar and sends its
        /// invitations as "delegate on behalf of principal". Never repeated after an
        /// unknown outcome, so an attendee never gets the invitation twice.
        ///
        /// # Errors
        /// See [`Client::send`]; `ErrorAccessDenied` (not a delegate) is in the reply.
        pub $($kw)* fn send_meeting_on_behalf(
            &self,
            principal: &$crate::EmailAddress,
            meeting: $crate::NewCalendarItem,
        ) -> Result<
            $crate::Reply<<$crate::CreateItem as $crate::Operation>::Output>,
            $crate::Error,
        > {
            self.send(&$crate::CreateItem::on_behalf_of(principal.clone(), meeting))$($aw)*
        }

        /// GetItem: an item by id, or a [`GetItem`](ews_proto::GetItem) naming the
        /// principal's mailbox (`in_mailbox`, for `X-AnchorMailbox`) and extra properties.
        ///
        /// # Errors
        /// See [`Client::send`]; `ErrorItemNotFound` is in the reply.
        pub $($kw)* fn get_item(
            &self,
            item: impl Into<$crate::GetItem>,
        ) -> Result<
            $crate::Reply<<$crate::GetItem as $crate::Operation>::Output>,
            $crate::Error,
        > {
            self.send(&item.into())$($aw)*
        }

        /// FindItem: the first page of a folder (use
        /// [`FindItem::next_page`](ews_proto::FindItem::next_page) with
        /// [`Client::send`] for the rest).
        ///
        /// # Errors
        /// See [`Client::send`].
        pub $($kw)* fn find_items(
            &self,
            query: impl Into<$crate::FindItem>,
        ) -> Result<
            $crate::Reply<<$crate::FindItem as $crate::Operation>::Output>,
            $crate::Error,
        > {
            self.send(&query.into())$($aw)*
        }

        /// The calendar of `mailbox` (a principal's, read as its delegate) from `start` to
        /// `end`: every item and occurrence once, with attendees and body, however long the
        /// range and however full the calendar ([`CalendarSweep`](ews_proto::calendar::CalendarSweep)
        /// plans the requests; this only sends them).
        ///
        /// # Errors
        /// A request that failed (see [`Client::send`]), or [`Error::Calendar`](ews_proto::Error::Calendar)
        /// when the range cannot be read whole (a refused view, an overfull minute).
        pub $($kw)* fn read_calendar(
            &self,
            mailbox: &$crate::EmailAddress,
            start: $crate::jiff::Timestamp,
            end: $crate::jiff::Timestamp,
        ) -> Result<$crate::calendar::SweepResult, $crate::Error> {
            let mut sweep = $crate::calendar::CalendarSweep::new(mailbox.clone(), start, end)?;
            loop {
                match sweep.poll() {
                    $crate::calendar::SweepStep::Find(op) => {
                        let reply = self.send(&op)$($aw)*?;
                        sweep.found(reply.body);
                    }
                    $crate::calendar::SweepStep::Load(op) => {
                        let reply = self.send(&op)$($aw)*?;
                        sweep.loaded(reply.body);
                    }
                    $crate::calendar::SweepStep::Done(result) => return Ok(result?),
                }
            }
        }

        /// UpdateItem: changes calendar items ([`UpdateItem`](ews_proto::UpdateItem): typed
        /// per-field changes, the change key always sent, the send mode and conflict
        /// resolution always chosen). A stale change key is the item's
        /// `ErrorIrresolvableConflict` in the reply
        /// ([`is_irresolvable_conflict`](ews_proto::ResponseMessage::is_irresolvable_conflict));
        /// [`update_item_refetching`](Self::update_item_refetching) reads and retries.
        ///
        /// # Errors
        /// See [`Client::send`]; per-item refusals (`ErrorIrresolvableConflict`,
        /// `ErrorCalendarIsNotOrganizer`, `ErrorAccessDenied`) are in the reply.
        pub $($kw)* fn update_item(
            &self,
            update: $crate::UpdateItem,
        ) -> Result<
            $crate::Reply<<$crate::UpdateItem as $crate::Operation>::Output>,
            $crate::Error,
        > {
            self.send(&update)$($aw)*
        }

        /// UpdateItem with a bounded refetch-and-retry of stale change keys
        /// ([`StaleKeyRetry`](ews_proto::StaleKeyRetry) plans it; this only sends): the items
        /// answered `ErrorIrresolvableConflict` are read again (GetItem, ids only) and their
        /// same changes sent again with the current change key, at most `max_retries`
        /// times. One answer per item change, in request order; an item still stale after
        /// the last retry keeps its `ErrorIrresolvableConflict`.
        ///
        /// # Errors
        /// A request that failed (see [`Client::send`]), or
        /// [`Error::StaleKeyRetry`](ews_proto::Error::StaleKeyRetry) when the server's
        /// answers could not be retried (a count mismatch, a refetch without a change key).
        pub $($kw)* fn update_item_refetching(
            &self,
            update: $crate::UpdateItem,
            max_retries: u32,
        ) -> Result<<$crate::UpdateItem as $crate::Operation>::Output, $crate::Error> {
            let mut retry = $crate::StaleKeyRetry::new(update, max_retries);
            loop {
                match retry.poll() {
                    $crate::RetryStep::Update(op) => {
                        let reply = self.send(&op)$($aw)*?;
                        retry.updated(reply.body);
                    }
                    $crate::RetryStep::Refetch(op) => {
                        let reply = self.send(&op)$($aw)*?;
                        retry.refetched(reply.body);
                    }
                    $crate::RetryStep::Done(result) => return Ok(result?),
                }
            }
        }

        /// DeleteItem: moves an item of the caller's mailbox to Deleted Items; for a
        /// meeting, `cancellations` says whether the attendees are told.
        ///
        /// # Errors
        /// See [`Client::send`].
        pub $($kw)* fn delete_item(
            &self,
            id: $crate::ItemId,
            cancellations: $crate::SendMeetingCancellations,
        ) -> Result<
            $crate::Reply<<$crate::DeleteItem as $crate::Operation>::Output>,
            $crate::Error,
        > {
            self.send(
                &$crate::DeleteItem::new(id, $crate::DeleteType::MoveToDeletedItems)
                    .cancellations(cancellations),
            )$($aw)*
        }

        /// CancelCalendarItem in `principal`'s mailbox (with `X-AnchorMailbox`): a delegate
        /// cancels a meeting it runs for the principal; the attendees get a cancellation
        /// with `note`, and the meeting stays in the calendar marked cancelled.
        ///
        /// # Errors
        /// See [`Client::send`]; `ErrorCalendarIsNotOrganizer` is in the reply.
        pub $($kw)* fn cancel_meeting_on_behalf(
            &self,
            principal: &$crate::EmailAddress,
            meeting: $crate::ItemId,
            note: Option<$crate::Body>,
        ) -> Result<
            $crate::Reply<<$crate::CancelMeeting as $crate::Operation>::Output>,
            $crate::Error,
        > {
            let mut op = $crate::CancelMeeting::new(meeting).in_mailbox(principal.clone());
            if let Some(note) = note {
                op = op.note(note);
            }
            self.send(&op)$($aw)*
        }

        /// Accepts, tentatively accepts or declines the meeting request `request` held in
        /// `mailbox` (the delegate's own, when `DeliverMeetingRequests` forwards the
        /// principal's requests to it), and sends the answer to the organizer.
        ///
        /// # Errors
        /// See [`Client::send`]; `ErrorCalendarMeetingRequestIsOutOfDate` is in the reply.
        pub $($kw)* fn respond_to_meeting(
            &self,
            mailbox: &$crate::EmailAddress,
            request: $crate::ItemId,
            answer: $crate::MeetingAnswer,
        ) -> Result<
            $crate::Reply<<$crate::RespondToMeeting as $crate::Operation>::Output>,
            $crate::Error,
        > {
            self.send(&$crate::RespondToMeeting::new(answer, request).in_mailbox(mailbox.clone()))$($aw)*
        }
    };
}
