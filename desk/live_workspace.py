"""The group workspace's live regions (desk/workspace.py): what each region shows, and so what its version reads.

Every version of a page is read in one query (the group's row and one index lookup per kind of row it shows):
every open workspace asks once a second per region. Relative times ("2 min ago") are on every region, so each
version also moves with the minute.
"""

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from desk.live import live_version
from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant
from messaging.models import InboundMessage, OutboundMessage, Pin


def _newest(rows: QuerySet, field: str) -> Subquery:
    return Subquery(rows.filter(group_id=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])


def _marks(region: str, before: datetime | None) -> list:
    """Return what moves when `region` would show something else."""
    if region == "header":
        return ["updated_at"]
    if region == "members":
        return ["updated_at", _newest(Participant.objects, "updated_at"), _newest(JoinRequest.objects, "updated_at")]
    if region == "timeline":
        return [_newest(GroupEvent.objects, "pk"), _newest(GroupOperation.objects, "updated_at")]
    # The conversation: its messages (counts and receipts move their updated_at), what people wrote, the pins on
    # top, and people's names on the bubbles.
    outbound = OutboundMessage.objects.filter(created_at__lt=before) if before else OutboundMessage.objects
    return [_newest(outbound, "pk"), _newest(outbound, "updated_at"), _newest(InboundMessage.objects, "pk"),
            _newest(Pin.objects, "updated_at"), _newest(Participant.objects, "updated_at")]


def workspace_versions(*, group_id: int, regions: tuple[str, ...], before: datetime | None = None) -> dict[str, str]:
    """Return the version of each of `regions` (header, conversation, members, timeline) of a group's workspace.

    `before`: the conversation shows the page of messages older than it (its "Older messages" link).
    """
    marks = {region: _marks(region, before) for region in regions}
    columns = [mark for region in regions for mark in marks[region]]
    row = Group.objects.filter(pk=group_id).values_list(*columns).first() or (None,) * len(columns)
    minute = timezone.now().replace(second=0, microsecond=0)
    versions, at = {}, 0
    for region in regions:
        versions[region] = live_version(region, row[at:at + len(marks[region])], minute)
        at += len(marks[region])
    return versions
