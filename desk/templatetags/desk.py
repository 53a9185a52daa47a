"""The desk's presentation helpers: times, long ids and people, shown the same way on every staff page.

Load with `{% load desk %}` and put `{% desk_assets %}` in the page's head (extrastyle block) once: it links the
stylesheet of these pieces and the script behind the copy buttons (a static file, so a Content-Security-Policy
without 'unsafe-inline' allows it).

- `{{ value|when }}`: a `<time>` saying "2 min ago" (or "in 3 days"), the exact time in `TIME_ZONE` on hover.
- `{{ value|exact }}`: that exact time as text, "2026-12-06 21:10:43 UTC" (no microseconds).
- `{{ wamid|short_id }}`: a long id (wamid, group id, request id) cut to its ends, with a copy button.
- `{{ participant|person }}`: a person by name first, their phone number (or BSUID) second.
"""

from datetime import datetime

from django import template
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

NONE = "\u2013"  # An en dash where there is no value, as Django's admin shows an empty field.
SHORT_ID_KEEP = 8  # Characters kept at each end: enough to tell ids apart at a glance and match them by eye.


def relative(value: datetime, *, now: datetime | None = None) -> str:
    """Return how long ago (or until) `value` is, for people: "just now", "5 min ago", "in 3 h", "4 days ago"."""
    seconds = int(((now or timezone.now()) - value).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "just now" if not future else "in a moment"
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size:
            count = round(seconds / size) if size <= 3600 else seconds // size
            label = unit if unit in ("h", "min") or count == 1 else f"{unit}s"
            return f"in {count} {label}" if future else f"{count} {label} ago"
    return "just now"


@register.filter
def exact(value: datetime | None) -> str:
    """Return the time in the configured TIME_ZONE, to the second, with the zone's name."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


@register.filter
def when(value: datetime | None) -> str:
    """Return a `<time>` reading "2 min ago" with the exact local time as its title; NONE when there is none."""
    if not value:
        return NONE
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(timespec="seconds"), exact(value),
                       relative(value))


def when_by(value: datetime | None, user) -> str:
    """Return `when(value)` followed by "by" the staff user's name (their username when they have none), if any."""
    if user is None:
        return when(value)
    return format_html("{} by {}", when(value), user.get_full_name() or user.get_username())


@register.filter
def short_id(value: str | None, label: str = "id") -> str:
    """Return a long id cut to its two ends (the whole id on hover) and a button that copies the whole id."""
    if not value:
        return NONE
    value = str(value)
    shown = value if len(value) <= 2 * SHORT_ID_KEEP + 3 else f"{value[:SHORT_ID_KEEP]}…{value[-SHORT_ID_KEEP:]}"
    return format_html(
        '<span class="short-id"><code title="{}">{}</code>'
        '<button type="button" class="copy-button" data-copy="{}" aria-label="Copy the {}" title="Copy">Copy</button>'
        "</span>",
        value, shown, value, label,
    )


def identity_of(obj) -> tuple[str, str]:
    """Return (name, identity) of a participant, join request, receipt or inbound message: whichever it carries.

    The identity is the phone number with its "+", else the BSUID. A row linked to its participant takes the
    participant's name (the newest one Meta gave).
    """
    participant = getattr(obj, "participant", None)
    name = (getattr(participant, "name", "") or getattr(obj, "name", "") or getattr(obj, "contact_name", "")
            or getattr(obj, "username", "") or getattr(obj, "contact_username", ""))
    phone = next((v for v in (getattr(obj, attr, None) for attr in ("wa_id", "from_wa_id", "participant_wa_id"))
                  if v), None) or getattr(participant, "wa_id", None)
    bsuid = next((v for v in (getattr(obj, attr, None) for attr in ("user_id", "from_user_id", "participant_user_id"))
                  if v), None) or getattr(participant, "user_id", None)
    return name, f"+{phone}" if phone else (bsuid or "")


@register.filter
def person(obj) -> str:
    """Return a person as `<span class="person">`: the name first, the phone number or BSUID after it, smaller."""
    if obj is None:
        return NONE
    name, identity = identity_of(obj)
    if not name:
        return format_html('<span class="person"><span class="person-name">{}</span></span>', identity or "someone")
    return format_html('<span class="person"><span class="person-name">{}</span> <span class="person-id">{}</span>'
                       "</span>", name, identity)


@register.simple_tag
def desk_assets() -> str:
    """Return the `<link>` and `<script>` the helpers above need (static files: no inline code for the CSP)."""
    return format_html('<link rel="stylesheet" href="{}"><script src="{}" defer></script>',
                       static("desk/desk.css"), static("desk/desk.js"))
