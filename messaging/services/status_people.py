"""The people a batch of statuses names: found in one read, created, linked or merged when needed, profiles kept.

Also the re-keying of a person's receipts and status history when their identity changes (a phone and a BSUID
linked, or two rows merged).
"""

from datetime import datetime
from typing import NamedTuple

from django.db.models import Q
from django.utils import timezone

from config.bulk import bulk_update_rows
from groups.identity import normalize_wa_id
from groups.models import Participant
from groups.services.participants import (
    PROFILE_FIELDS,
    participant_get_or_create,
    participant_profile,
    profile_merge,
)
from messaging.events import StatusEvent, participant_key
from messaging.models import InboundMessage, MessageReceipt, MessageStatusChange, OutboundMessage


class Person(NamedTuple):
    """A participant as a status batch needs it (read as tuples: most batches name hundreds)."""

    pk: int
    group_id: int
    wa_id: str | None
    user_id: str | None
    parent_user_id: str
    username: str
    name: str
    profile_seen_at: datetime | None

    @classmethod
    def of(cls, participant: Participant) -> "Person":
        return cls._make(getattr(participant, name) for name in cls._fields)

    @property
    def key(self) -> str:
        """Return the key the person's receipts and history rows share (phone when known, else BSUID)."""
        return participant_key(wa_id=self.wa_id, user_id=self.user_id)


def change_rank(*, timestamp, wa_id: str, user_id: str) -> tuple:
    """Order two items of one event (same message, status and person): the earliest wins, then by what they name."""
    return (timestamp is None, timestamp or 0, wa_id or "", user_id or "")


def _stored_rank(change: MessageStatusChange) -> tuple:
    return change_rank(timestamp=change.timestamp, wa_id=change.participant_wa_id, user_id=change.participant_user_id)


def participants_of(naming: list[tuple[int, OutboundMessage, StatusEvent]]) -> dict[int, Person]:
    """Return the participant each per-participant item (index, message, event) names.

    Most items name someone already known by exactly this identity: found in one read per batch. The others go
    through participant_get_or_create (which may merge rows and re-key their history) before anything else is read,
    so every item then resolves to the rows as they end. Names from the body's `contacts[]` follow (C4).
    """
    if not naming:
        return {}
    people: dict[int, list[Person]] = {}
    # Only the rows that share a phone or a BSUID with an item: most members of the batch's groups are named by none.
    wa_ids = {normalize_wa_id(event.participant_wa_id) for _i, _m, event in naming} - {None, ""}
    user_ids = {event.participant_user_id for _i, _m, event in naming} - {None, ""}
    named = Participant.objects.filter(Q(wa_id__any=wa_ids) | Q(user_id__any=user_ids),
                                       group_id__any={message.group_id for _i, message, _e in naming})
    for person in map(Person._make, named.values_list(*Person._fields)):
        people.setdefault(person.group_id, []).append(person)
    for _index, message, event in naming:
        wa_id, user_id = normalize_wa_id(event.participant_wa_id), event.participant_user_id
        if _known_participant(people.get(message.group_id, []), wa_id=wa_id, user_id=user_id) is None:
            participant_get_or_create(group=message.group, wa_id=wa_id, user_id=user_id)
            rows = Participant.objects.filter(group_id=message.group_id).values_list(*Person._fields)
            people[message.group_id] = list(map(Person._make, rows))
    found = {}
    for index, message, event in naming:
        wa_id, user_id = normalize_wa_id(event.participant_wa_id), event.participant_user_id
        found[index] = _known_participant(people.get(message.group_id, []), wa_id=wa_id, user_id=user_id) or \
            Person.of(participant_get_or_create(group=message.group, wa_id=wa_id, user_id=user_id)[0])
    _profiles_fold(naming, found)
    return found


def _known_participant(people: list[Person], *, wa_id: str | None, user_id: str | None) -> Person | None:
    """Return whom participant_get_or_create would return with nothing to create, link or merge; else None."""
    by_phone = next((p for p in people if p.wa_id == wa_id), None) if wa_id else None
    by_bsuid = next((p for p in people if p.user_id == user_id), None) if user_id else None
    if by_phone is not None and by_bsuid is not None and by_phone.pk != by_bsuid.pk:
        if not (by_phone.user_id or by_bsuid.wa_id):
            return None  # Two rows of one person: merged by participant_get_or_create.
        found = by_phone
    else:
        found = by_phone or by_bsuid
    if found is None:
        return None
    if wa_id and not found.wa_id and not any(p.wa_id == wa_id for p in people):
        return None  # A phone to add to the person.
    if user_id and not found.user_id and not any(p.user_id == user_id for p in people):
        return None  # A BSUID to add.
    return found


def _profiles_fold(naming: list[tuple[int, OutboundMessage, StatusEvent]], found: dict[int, Person]) -> None:
    """Keep what the items' `contacts[]` say of each person, newest by Meta's time, in one write for the batch."""
    profiles: dict[int, tuple[dict[str, str], datetime | None]] = {}
    changed: set[int] = set()
    for index, _message, event in naming:
        given = participant_profile(parent_user_id=event.participant_parent_user_id,
                                    username=event.participant_username, name=event.participant_name)
        if not given:
            continue
        person = found[index]
        current, seen_at = profiles.get(person.pk) or ({n: getattr(person, n) for n in PROFILE_FIELDS},
                                                        person.profile_seen_at)
        updates, new_seen_at = profile_merge(current, seen_at=seen_at, profile=given, at=event.timestamp)
        profiles[person.pk] = ({**current, **updates}, new_seen_at)
        if updates or new_seen_at != seen_at:
            changed.add(person.pk)
    now = timezone.now()
    rows = [Participant(pk=pk, **profiles[pk][0], profile_seen_at=profiles[pk][1], updated_at=now)
            for pk in sorted(changed)]
    bulk_update_rows(rows, fields=[*PROFILE_FIELDS, "profile_seen_at", "updated_at"])


def participant_rows_rekey(*, participant: Participant, merged_ids: list[int] | tuple[int, ...] = ()) -> None:
    """Re-key a person's receipts and status history after their identity changed or rows were merged into them.

    Two rows of one event (or two receipts of one message) that named the person differently become one: the
    earliest item wins in history, receipts keep the earliest times, and the messages' counts follow.
    Runs inside the caller's transaction, which holds the group's lock.
    """
    ids = [participant.pk, *merged_ids]
    key = participant_key(wa_id=participant.wa_id, user_id=participant.user_id)
    if merged_ids:
        InboundMessage.objects.filter(participant_id__in=merged_ids).update(participant=participant)
    mine = Q(participant_id__in=ids) | Q(participant_key=key, message__group_id=participant.group_id)
    _history_rekey(participant, mine=mine, key=key)
    _receipts_rekey(participant, mine=mine, key=key)


def _history_rekey(participant: Participant, *, mine: Q, key: str) -> None:
    events: dict[tuple[int, str], list[MessageStatusChange]] = {}
    for change in MessageStatusChange.objects.filter(mine).exclude(participant_key="").order_by("pk"):
        events.setdefault((change.message_id, change.status), []).append(change)
    for (_message_id, status), changes in events.items():
        changes.sort(key=_stored_rank)
        winner, losers = changes[0], changes[1:]
        MessageStatusChange.objects.filter(pk__in=[c.pk for c in losers]).delete()
        MessageStatusChange.objects.filter(pk=winner.pk).update(
            participant=participant, participant_key=key, event_key=f"{status}|{key}"
        )


def _receipts_rekey(participant: Participant, *, mine: Q, key: str) -> None:
    receipts: dict[int, list[MessageReceipt]] = {}
    for receipt in MessageReceipt.objects.filter(mine).order_by("pk"):
        receipts.setdefault(receipt.message_id, []).append(receipt)
    for message_id, rows in receipts.items():
        keep, others = rows[0], rows[1:]
        delivered = [r.delivered_at for r in rows if r.delivered_at is not None]
        read = [r.read_at for r in rows if r.read_at is not None]
        MessageReceipt.objects.filter(pk__in=[r.pk for r in others]).delete()
        MessageReceipt.objects.filter(pk=keep.pk).update(
            participant=participant, participant_key=key, participant_wa_id=participant.wa_id or "",
            participant_user_id=participant.user_id or "", delivered_at=min(delivered) if delivered else None,
            read_at=min(read) if read else None, updated_at=timezone.now(),
        )
        if others:
            counts = MessageReceipt.objects.filter(message_id=message_id)
            OutboundMessage.objects.filter(pk=message_id).update(
                delivered_count=counts.filter(delivered_at__isnull=False).count(),
                read_count=counts.filter(read_at__isnull=False).count(), updated_at=timezone.now(),
            )


def on_participant_identity_changed(sender, *, participant: Participant, merged_ids: list[int], **kwargs) -> None:
    participant_rows_rekey(participant=participant, merged_ids=merged_ids)
