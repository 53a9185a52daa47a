"""Template tags of live regions (desk/live.py): `{% live_attrs url version merge %}`, `rows|live_rows_version`."""

from django import template

from desk.live import live_attrs as region_attrs
from desk.live_admin import rows_version

register = template.Library()


@register.simple_tag
def live_attrs(url: str, version: str, merge: str = "swap") -> str:
    """Make the element this is written in (it needs an id) a live region polling `url`."""
    return region_attrs(url=url, version=version, merge=merge)


@register.filter
def live_rows_version(rows) -> str:
    """Return the version of a changelist's page of rows (the same one its polls are answered with)."""
    return rows_version(rows)
