"""Admin building blocks shared by every app: read-only screens, and stored JSON shown as tables people read."""

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

EMPTY = "-"
# A list of dicts nesting at most this deep (an outcome per participant with its error) reads best as one table
# with a column per key; deeper ones (a webhook's entries > changes > statuses > errors) as one table per item.
COLUMNS_DEPTH = 2
TOKEN_LENGTH = 28  # A value this long without a space is an id or a token (a wamid, a hash), not a word or an enum.


def exact_time(value) -> str:
    """Return a time in the configured TIME_ZONE, to the second, with the zone's name (never microseconds)."""
    if not value:
        return EMPTY
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


def _label(key) -> str:
    return str(key).replace("_", " ").strip().capitalize() or EMPTY


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return EMPTY if value in (None, "") else str(value)


def _depth(value) -> int:
    """How deeply a stored value nests: 0 for a plain value, 1 for a flat dict or list, and so on."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def readable_html(value) -> SafeString:
    """Return stored JSON (Meta's objects, our details and outcomes) as nested tables and lists, never as JSON.

    A dict is a two-column table (its keys as labels), a list of shallow dicts one table with a column per key (deeper
    ones one table each), a list of plain values a comma-separated line; empty values are a dash.
    """
    if value in (None, "", {}, []):
        return format_html("{}", EMPTY)
    if isinstance(value, dict):
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>",
                                ((_label(key), readable_html(item)) for key, item in value.items()))
        return format_html('<table class="readable"><tbody>{}</tbody></table>', rows)
    if isinstance(value, list):
        if all(isinstance(item, dict) for item in value) and max(map(_depth, value)) <= COLUMNS_DEPTH:
            keys = list(dict.fromkeys(key for item in value for key in item))
            head = format_html_join("", "<th>{}</th>", ((_label(key),) for key in keys))
            body = format_html_join("", "<tr>{}</tr>", (
                (format_html_join("", "<td>{}</td>", ((readable_html(item.get(key)),) for key in keys)),)
                for item in value))
            return format_html('<table class="readable"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
                               head, body)
        if any(isinstance(item, dict | list) for item in value):
            # Deeply nested items (a webhook's entries, changes, statuses): one labelled table each, stacked. As
            # columns, every level's columns added up to wider than the page and squeezed words apart.
            return format_html_join("", "{}", ((readable_html(item),) for item in value))
        return format_html_join(", ", "{}", ((readable_html(item),) for item in value))
    text = _scalar(value)
    if len(text) >= TOKEN_LENGTH and not any(char.isspace() for char in text):
        # An id or token (a wamid, a BSUID, a hash) has no spaces to wrap at: marked, its start is shown, cut with an
        # ellipsis (CSS), as lists show long ids; the element keeps the whole id for copying, and its title shows it.
        return format_html('<span class="token" title="{}">{}</span>', text, text)
    return format_html("{}", text)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A history or record written only by services: staff read it; nobody adds, edits or deletes it here.

    Its JSON fields are shown through `readable_html`, not as Django's JSON text: no page shows a raw dict.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return [self._readable(name) for name in super().get_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        return [self._readable(name) for name in super().get_readonly_fields(request, obj)]

    def _readable(self, name):
        """Return a JSON field's name as a display function (one per field, so form and page agree); else `name`."""
        try:
            field = self.model._meta.get_field(name) if isinstance(name, str) else None
        except FieldDoesNotExist:
            return name
        if not isinstance(field, models.JSONField):
            return name
        shown = self.__dict__.setdefault("_readable_fields", {})
        if name not in shown:
            def show(obj, _name=name):
                return readable_html(getattr(obj, _name))

            show.__name__ = name
            show.short_description = field.verbose_name
            shown[name] = show
        return shown[name]
