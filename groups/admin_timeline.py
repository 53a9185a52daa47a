"""Who (or what) is behind a group's timeline event, for the workspace's timeline and the events list."""

from django.utils.html import format_html

from core.admin_links import admin_link
from core.models import Source
from groups.models import GroupEvent


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
