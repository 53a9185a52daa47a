"""Times in the admin's lists read as the desk's times everywhere: "4 min ago", the exact local time on hover.

One policy, applied where every screen is registered (desk/admin.py), so that no list shows Django's
"Dec. 7, 2026, 12:39 a.m." and a new screen cannot forget it. The apps' admins keep naming their plain fields in
`list_display` (they may not import the desk); each datetime field among them becomes a `<name>_shown` column that
still sorts by the field.
"""

from types import MethodType

from django.contrib import admin
from django.db import models
from django.utils.text import capfirst

from desk.templatetags.desk import when


def time_column(name: str, description: str):
    """Return an admin method (a column or read-only field) showing the datetime field `name` with `when`, sorting by
    it: assign it in a `ModelAdmin` class body, as `<name>_shown`."""

    @admin.display(description=description, ordering=name)
    def shown(model_admin, obj) -> str:
        return when(getattr(obj, name))

    shown.__name__ = f"{name}_shown"
    return shown


def show_list_times_relative(model_admin: admin.ModelAdmin) -> None:
    """Replace each datetime field of `model_admin`'s list by its `time_column` (an attribute of this admin)."""
    times = {f.name: f for f in model_admin.model._meta.get_fields() if isinstance(f, models.DateTimeField)}
    display = []
    for name in model_admin.list_display:
        if isinstance(name, str) and name in times:
            column = time_column(name, capfirst(times[name].verbose_name))
            setattr(model_admin, column.__name__, MethodType(column, model_admin))
            name = column.__name__
        display.append(name)
    model_admin.list_display = display
