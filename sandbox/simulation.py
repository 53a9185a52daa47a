"""The living side of the fake Meta: what happens after a call, and what simulated people do on their own."""

from __future__ import annotations

import random
from collections.abc import Callable

from sandbox import events
from sandbox.config import SandboxConfig
from sandbox.delivery import WebhookDispatcher
from sandbox.errors import status_error, webhook_error
from sandbox.scheduler import Scheduler
from sandbox.state import MAX_PARTICIPANTS, Group, JoinRequest, Message, Person, World, now

# Marker words (sandbox/README.md): failures on demand.
FAIL_CREATE = "FAILME"
SUSPEND = "SUSPENDME"
FAIL_SETTINGS = "FAILSETTINGS"
FAIL_DELETE = "FAILDELETE"
FAIL_SEND = "FAILSEND"


class Refused(Exception):
    """A control-API request that cannot happen (unknown group, full group, ...)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Simulator:
    """Schedule the webhooks that follow each call, and the comings and goings of simulated people."""

    def __init__(self, *, config: SandboxConfig, world: World, scheduler: Scheduler, dispatcher: WebhookDispatcher,
                 rng: random.Random):
        self.config = config
        self.world = world
        self.scheduler = scheduler
        self.dispatcher = dispatcher
        self.rng = rng

    def delay(self, low: float, high: float) -> float:
        """Return a realistic delay in seconds, scaled by --delay-scale."""
        return self.rng.uniform(low, high) * self.config.delay_scale

    def later(self, delay: float, job: Callable[[], None]) -> None:
        self.scheduler.call_later(delay, job)

    def emit(self, group_or_phone_id: str, field: str, *items: dict) -> None:
        """Deliver a group webhook for the group's (or the given) number now."""
        group = self.world.groups.get(group_or_phone_id)
        phone = self.world.phone_number(group.phone_number_id if group else group_or_phone_id)
        self.dispatcher.send(events.groups_body(phone, field, *items))

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def group_create_requested(self, pending: dict) -> None:
        self.later(self.delay(1, 3), lambda: self._complete_create(pending["request_id"]))

    def _complete_create(self, request_id: str) -> None:
        with self.world.lock:
            pending = self.world.pending_creates.pop(request_id, None)
            if pending is None:  # Reset meanwhile.
                return
            if FAIL_CREATE in pending["subject"]:
                error = webhook_error(131000, f"The sandbox fails creates whose subject contains {FAIL_CREATE}.",
                                      title="Something went wrong")
                self.emit(pending["phone_number_id"], "group_lifecycle_update",
                          events.create_failed(pending, now(), error))
                return
            phone = self.world.phone_number(pending["phone_number_id"])
            group = Group(
                group_id=self.world.new_group_id(phone.display_phone_number),
                phone_number_id=phone.phone_number_id,
                subject=pending["subject"],
                description=pending["description"],
                join_approval_mode=pending["join_approval_mode"],
                creation_timestamp=now(),
                request_id=request_id,
                invite_link=self.world.new_invite_link(),
            )
            self.world.groups[group.group_id] = group
            self.emit(group.group_id, "group_lifecycle_update", events.create_succeeded(group, now()))
        if SUSPEND in group.subject:
            self.later(self.delay(3, 6), lambda: self.set_suspended(group.group_id, suspended=True))
        at = 0.0
        for _ in range(self.config.auto_join):
            at += self.delay(4, 12)
            self.later(at, lambda: self._arrival(group.group_id))

    def group_delete_requested(self, group: Group, request_id: str) -> None:
        fail = FAIL_DELETE in group.subject
        if not fail:
            group.deleting = True  # From now on Graph calls see an unknown group.
        self.later(self.delay(1, 3), lambda: self._complete_delete(group, request_id, fail))

    def _complete_delete(self, group: Group, request_id: str, fail: bool) -> None:
        with self.world.lock:
            if fail:
                error = webhook_error(131000, f"The sandbox fails deletes of groups whose subject contains "
                                              f"{FAIL_DELETE}.", title="Something went wrong")
                item = events.delete_result(group, request_id, now(), error)
                self.emit(group.group_id, "group_lifecycle_update", item)
                return
            group.deleted, group.deleting = True, False
            group.participants.clear()
            self.emit(group.group_id, "group_lifecycle_update", events.delete_result(group, request_id, now()))

    def set_suspended(self, group_id: str, *, suspended: bool) -> None:
        """Suspend a group or clear its suspension, and tell the app (group_status_update)."""
        with self.world.lock:
            group = self.world.live_group(group_id)
            if group is None or group.suspended == suspended:
                return
            group.suspended = suspended
            kind = "group_suspend" if suspended else "group_suspend_cleared"
            self.emit(group.group_id, "group_status_update", events.status_change(group, kind, now()))

    # -- settings and removals -----------------------------------------------------------------------------------

    def settings_requested(self, group: Group, request_id: str, changes: dict) -> None:
        """Apply the changes later; `changes` may hold subject, description and picture (sha256, error)."""
        self.later(self.delay(1, 3), lambda: self._complete_settings(group, request_id, changes))
        subject = changes.get("subject") or ""
        if SUSPEND in subject and FAIL_SETTINGS not in subject:
            self.later(self.delay(4, 8), lambda: self.set_suspended(group.group_id, suspended=True))

    def _complete_settings(self, group: Group, request_id: str, changes: dict) -> None:
        with self.world.lock:
            if not group.active:
                return
            results: dict = {}
            failures: list[dict] = []

            def outcome(key: str, body: dict, error: dict | None) -> None:
                body["update_successful"] = error is None
                if error is not None:
                    body["errors"] = [error]
                    failures.append(error)
                results[key] = body

            if "picture" in changes:
                picture = changes["picture"]
                outcome("profile_picture", {"mime_type": "image/jpeg", "sha256": picture["sha256"]}, picture["error"])
            for key, attribute in (("group_subject", "subject"), ("group_description", "description")):
                if attribute not in changes:
                    continue
                text = changes[attribute]
                error = None
                if group.suspended:
                    error = webhook_error(131207, "The group is suspended; its settings cannot be changed.")
                elif FAIL_SETTINGS in text:
                    error = webhook_error(131000, f"The sandbox refuses {attribute}s containing {FAIL_SETTINGS}.",
                                          title="Something went wrong")
                else:
                    setattr(group, attribute, text)
                outcome(key, {"text": text}, error)
            top = None
            if failures:
                applied = len(failures) < len(results)
                details = "Only some of the requested settings were applied." if applied else \
                    "None of the requested settings were applied."
                top = webhook_error(failures[0]["code"], details, title=failures[0]["title"])
            self.emit(group.group_id, "group_settings_update",
                      events.settings_result(group, request_id, now(), results, top))

    def removal_requested(self, group: Group, request_id: str, inputs: list[str]) -> None:
        self.later(self.delay(1, 2), lambda: self._complete_removal(group, request_id, inputs))

    def _complete_removal(self, group: Group, request_id: str, inputs: list[str]) -> None:
        with self.world.lock:
            if not group.active:
                return
            removed, failed = [], []
            for value in inputs:
                # The `user` may be a phone (with or without +), a BSUID or a parent BSUID; `input` echoes it (C1).
                person = next((p for p in group.participants.values() if p.is_named_by(value)), None)
                if person is not None:
                    del group.participants[person.wa_id]
                    group.removed.add(person.wa_id)
                    removed.append(value)
                else:
                    failed.append((value, webhook_error(131212, "The user given in the request is not a "
                                                                "participant of this group.")))
            error = None
            if failed and removed:
                error = webhook_error(131201, "One or more of the requested participants could not be removed.",
                                      title="Not All Participants Remove Succeeded",
                                      message="Failed to remove some participants from the group")
            elif failed:
                error = webhook_error(131212, "None of the users given in the request are participants of "
                                              "this group.")
            self.emit(group.group_id, "group_participants_update", events.participants_removed(
                group, request_id, now(), removed=removed, failed=failed, error=error))

    def join_requests_approved(self, group: Group, people: list[Person]) -> None:
        def complete() -> None:
            with self.world.lock:
                if group.active:
                    self.emit(group.group_id, "group_participants_update",
                              events.join_request_approved(group, people, now()))
            for person in people:
                self._maybe_leave_later(group, person)

        self.later(self.delay(0.5, 2), complete)

    # -- simulated people ----------------------------------------------------------------------------------------

    def _arrival(self, group_id: str) -> None:
        with self.world.lock:
            group = self.world.live_group(group_id)
            if group is None or len(group.participants) >= MAX_PARTICIPANTS:
                return
            person = self.world.pick_newcomer(group)
            try:
                result = self.person_arrives(group, person)
            except Refused:
                return
        if "join_request_id" in result and self.rng.random() < 0.15:
            self.later(self.delay(20, 60), lambda: self._revoke_if_pending(group, result["join_request_id"]))

    def person_arrives(self, group: Group, person: Person) -> dict:
        """Join by the link (auto_approve) or ask to join (approval_required); webhook at once."""
        with self.world.lock:
            if person.wa_id in group.participants:
                raise Refused(409, f"{person.wa_id} is already a participant")
            if person.wa_id in group.removed:
                raise Refused(409, f"{person.wa_id} was removed by the business; the link no longer works for them")
            if group.invite_link is None:
                raise Refused(409, "the group has no invite link (it was deleted)")
            if group.join_approval_mode == "approval_required":
                if any(jr.wa_id == person.wa_id for jr in group.pending_requests()):
                    raise Refused(409, f"{person.wa_id} already asked to join")
                request = JoinRequest(self.world.new_join_request_id(person.wa_id, group), person.wa_id, now())
                group.join_requests[request.join_request_id] = request
                self.emit(group.group_id, "group_participants_update",
                          events.join_request_event(group, request, "group_join_request_created", now()))
                return {"wa_id": person.wa_id, "join_request_id": request.join_request_id}
            if len(group.participants) >= MAX_PARTICIPANTS:
                raise Refused(409, "the group is full (8 participants)")
            group.participants[person.wa_id] = person
            self.emit(group.group_id, "group_participants_update", events.joined_via_link(group, [person], now()))
        self._maybe_leave_later(group, person)
        return {"wa_id": person.wa_id, "joined": True}

    def _maybe_leave_later(self, group: Group, person: Person) -> None:
        if self.rng.random() < self.config.leave_rate:
            self.later(self.delay(30, 120), lambda: self._leave_if_member(group, person.wa_id))

    def _leave_if_member(self, group: Group, wa_id: str) -> None:
        with self.world.lock:
            if group.active and wa_id in group.participants:
                self.person_leaves(group, group.participants[wa_id])

    def person_leaves(self, group: Group, person: Person, *, with_request_id: bool = False) -> None:
        """Let a person leave; `with_request_id` sends the BSUID page's shape (a request_id, no initiated_by)."""
        with self.world.lock:
            group.participants.pop(person.wa_id, None)
            request_id = self.world.new_request_id() if with_request_id else None
            self.emit(group.group_id, "group_participants_update",
                      events.participant_left(group, person, now(), request_id=request_id))

    def _revoke_if_pending(self, group: Group, join_request_id: str) -> None:
        with self.world.lock:
            request = group.join_requests.get(join_request_id)
            if group.active and request is not None and request.state == "pending":
                self.revoke(group, request)

    def revoke(self, group: Group, request: JoinRequest) -> None:
        with self.world.lock:
            request.state = "revoked"
            self.emit(group.group_id, "group_participants_update",
                      events.join_request_event(group, request, "group_join_request_revoked", now()))

    def inbound_text(self, group: Group, person: Person, text: str, *, plus: bool = False) -> str:
        with self.world.lock:
            phone = self.world.phone_number(group.phone_number_id)
            wamid = self.world.new_wamid(person.wa_id)
            self.dispatcher.send(events.inbound_text(phone, group, person, wamid, text, now(), plus=plus))
            return wamid

    # -- message statuses ----------------------------------------------------------------------------------------

    def message_accepted(self, message: Message, *, fail_details: str | None = None) -> None:
        """Schedule `sent` (or `failed`), then per-participant `delivered` and `read`, aggregated in batches."""
        sent_at = self.delay(0.3, 1.0)
        if fail_details is not None:
            error = status_error(131020, fail_details)
            self.later(sent_at, lambda: self._statuses(message, [("failed", None, [error])]))
            return
        pricing = events.MARKETING if message.type == "template" else events.FREE_SERVICE
        if message.recipient_type == "individual":
            pricing = events.INDIVIDUAL_UTILITY
        delivered = sorted((sent_at + self.delay(1, 4), wa_id) for wa_id in message.recipients)
        reads = []
        if message.type != "pin" and message.recipient_type == "group":
            reads = sorted((at + self.delay(3, 30), wa_id) for at, wa_id in delivered
                           if self.rng.random() < self.config.read_rate)
        reorder = bool(delivered) and self.rng.random() < self.config.reorder_rate
        if reorder:
            sent_at = delivered[-1][0] + self.delay(0.2, 1.0)  # Meta does not promise order (spec §7.4).
        else:
            self.later(sent_at, lambda: self._statuses(message, [("sent", None, None)]))
        for state, timeline in (("delivered", delivered), ("read", reads)):
            for batch in self._batches(timeline):
                entries = [(state, wa_id, pricing if state == "delivered" else None) for _at, wa_id in batch]
                self.later(batch[-1][0], lambda entries=entries: self._statuses(message, entries))
            if reorder and state == "delivered":  # Scheduled after the deliveries: it runs after them on a tie.
                self.later(sent_at, lambda: self._statuses(message, [("sent", None, None)]))

    def _batches(self, timeline: list[tuple[float, str]]) -> list[list[tuple[float, str]]]:
        """Split one message's per-participant events into bodies of 1 to 3 statuses, as Meta aggregates."""
        batches, index = [], 0
        while index < len(timeline):
            size = self.rng.randint(1, 3)
            batches.append(timeline[index:index + size])
            index += size
        return batches

    def _statuses(self, message: Message, entries: list[tuple]) -> None:
        ts = now()
        items, people = [], []
        for state, participant_or_none, extra in entries:
            if state == "failed":
                items.append(events.status(message, "failed", ts, errors=extra))
            elif state == "sent":
                items.append(events.status(message, "sent", ts))
            else:
                person = self.world.people.get(participant_or_none) or Person(participant_or_none, "")
                people.append(person)
                items.append(events.status(message, state, ts, person=person, pricing=extra))
            with self.world.lock:
                message.statuses.append(state if participant_or_none is None else f"{state}:{participant_or_none}")
        phone = self.world.phone_number(message.phone_number_id)
        self.dispatcher.send(events.statuses_body(phone, items, people))
