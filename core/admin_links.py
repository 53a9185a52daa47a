"""Links between admin screens of different apps, by kind: an app below links to a page of an app above
without naming it. The app that serves the page registers its URL name in its `AppConfig.ready()`.
"""

from django.urls import NoReverseMatch, reverse

_URL_NAMES: dict[str, str] = {}


def admin_link_register(kind: str, url_name: str) -> None:
    """Say which URL name serves pages of `kind` (e.g. "webhook_event" → "admin:webhooks_webhookevent_change")."""
    _URL_NAMES[kind] = url_name


def admin_link(kind: str, *args) -> str | None:
    """Return the URL of the page of `kind`, or None when no installed app serves it."""
    url_name = _URL_NAMES.get(kind)
    if url_name is None:
        return None
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return None
