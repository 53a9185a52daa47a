"""Data: the support desk's roles as Django groups (issue 8): Support agent, Support lead, Auditor.

It lives in webhooks because webhooks depends on every other app, so all their permissions exist by now.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ("groups", "messaging", "webhooks")

AGENT_EXTRA = [
    ("messaging", "add_outboundmessage"),  # compose, send and retry
    ("messaging", "add_pin"),
    ("messaging", "change_pin"),  # unpin
]
LEAD_EXTRA = [
    ("groups", "delete_group_at_meta"),
    ("groups", "reset_invite_link"),
    ("groups", "remove_participant"),
    ("groups", "decide_joinrequest"),
    ("webhooks", "reprocess_webhookevent"),
]
ROLES = {
    "Support agent": AGENT_EXTRA,
    "Support lead": AGENT_EXTRA + LEAD_EXTRA,
    "Auditor": [],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after `migrate` (post_migrate): make them now, so this can grant them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view_all = list(Permission.objects.filter(content_type__app_label__in=APPS, codename__startswith="view_"))
    for name, extra in ROLES.items():
        granted = list(view_all)
        for app_label, codename in extra:
            granted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(granted)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("groups", "0004_audit_entry_and_permissions"),
        ("messaging", "0002_pins"),
        ("webhooks", "0002_signature_rejection"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
