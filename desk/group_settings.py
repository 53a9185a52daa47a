"""The group's settings page ("Edit settings", `<id>/settings/`): the stock form of its subject and description, and
the facts about the group shown as on the workspace (the group ID shortened with a copy button, times relative with
the exact time on hover, people by name).

Members, join requests, operations, pins and the timeline are the workspace's, where they read as sentences: the
stock inlines showed them again as raw tables (operations' requests and outcomes as JSON, times with microseconds,
ids cut mid-word, wider than a 1,400 px window). Mixed into the groups admin where the admin site is composed
(desk.admin), so that the groups app's own admin stays free of the desk's presentation helpers.
"""

from django.contrib import admin

from desk.templatetags.desk import short_id, when, when_by
from groups.models import Group

SETTINGS = ("phone_number", "subject", "description", "join_approval_mode")
FACTS = ("group_id_shown", "state", "invite_link", "members", "last_error_text", "created", "last_synced")


class GroupSettingsMixin:
    """Mixed in before `GroupAdmin`: its change form shows the settings and the facts, nothing else."""

    def get_inlines(self, request, obj):
        return [] if obj is not None else super().get_inlines(request, obj)

    def get_fields(self, request, obj=None):
        return (*SETTINGS, *FACTS) if obj is not None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return super().get_readonly_fields(request, obj)
        fixed = super().get_readonly_fields(request, obj)  # Which settings may change now (GroupAdmin decides).
        return (*[name for name in SETTINGS if name in fixed], *FACTS)

    @admin.display(description="Group ID")
    def group_id_shown(self, group: Group) -> str:
        return short_id(group.group_id, "group ID")

    @admin.display(description="Members")
    def members(self, group: Group) -> str:
        return f"{group.participant_count}/{Group.MAX_PARTICIPANTS}"

    @admin.display(description="Created")
    def created(self, group: Group) -> str:
        return when_by(group.created_at, group.created_by)

    @admin.display(description="Last synced from Meta")
    def last_synced(self, group: Group) -> str:
        return when(group.last_synced_at) if group.last_synced_at else "Never"
