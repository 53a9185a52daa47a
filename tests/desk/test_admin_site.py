"""The admin site is composed in one place: desk.admin registers every screen, no app module registers one."""

import re
from pathlib import Path

from django.apps import apps
from django.contrib import admin

from desk.admin import SCREENS

ROOT = Path(__file__).resolve().parents[2]
LOWER_APPS = ("core", "outbox", "groups", "messaging", "webhooks", "integrations")


def test_every_screen_of_the_site_is_the_one_desk_admin_lists():
    # given
    listed = dict(SCREENS)
    ours = [model for label in LOWER_APPS for model in apps.get_app_config(label).get_models()]
    # then: each model of ours shown in the admin is shown by the class desk.admin names, and only those are
    registered = [model for model in ours if admin.site.is_registered(model)]
    assert set(registered) == set(listed)
    for model in registered:
        assert type(admin.site.get_model_admin(model)) is listed[model], model


def test_no_app_below_the_desk_registers_or_changes_an_admin_screen():
    # A screen registered elsewhere, or another app's admin changed in place, would be a second pattern.
    pattern = re.compile(r"@admin\.register\(|\bsite\.register\(|\bsite\._registry\b|\.get_model_admin\(")
    offenders = [
        str(path.relative_to(ROOT))
        for app in LOWER_APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and pattern.search(path.read_text())
    ]
    assert offenders == []
