"""The group page's timeline: every event, oldest first, with who (or what) is behind it."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin_links import admin_link
from core.models import Source
from groups.models import Group, GroupEvent

TIMELINE_LIMIT = 200  # The group page shows the newest events; the full timeline is one link away.


def event_who(event: GroupEvent) -> str:
    """Return who is behind a timeline event: the staff user, else the webhook (linked) or the background task."""
    if event.actor_id:
        return event.actor.get_username()
    if event.source == Source.WEBHOOK and event.webhook_event_id:
        url = admin_link("webhook_event", event.webhook_event_id)
        if url is None:
            return f"Webhook #{event.webhook_event_id}"
        return format_html('<a href="{}">Webhook #{}</a>', url, event.webhook_event_id)
    return event.get_source_display()


def _detail_text(detail: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in (detail or {}).items() if value not in (None, "", [], {}))


def group_timeline_html(group: Group, *, limit: int = TIMELINE_LIMIT) -> str:
    """Return the group's timeline, oldest first, as one table (the newest `limit` events)."""
    newest = list(group.events.select_related("actor").order_by("-occurred_at", "-pk")[:limit])
    if not newest:
        return "No events yet."
    rows = [
        (event.occurred_at, event.type, event.get_type_display(), event_who(event), _detail_text(event.detail))
        for event in reversed(newest)
    ]
    more = ""
    if len(newest) == limit:
        url = reverse("admin:groups_groupevent_changelist") + f"?group__id__exact={group.pk}"
        more = format_html('<p><a href="{}">Older events…</a></p>', url)
    return format_html(
        '{}<table class="group-timeline"><thead><tr><th>When</th><th>What</th><th>Who</th><th>Detail</th></tr>'
        "</thead><tbody>{}</tbody></table>",
        more,
        format_html_join("", '<tr class="event-{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                         [(t, at, label, who, detail) for at, t, label, who, detail in rows]),
    )
