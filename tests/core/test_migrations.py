"""The core/desk move's migrations over a database at the schema before them (PostgreSQL): no row is lost or changed."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.models import AuditEntry
from groups.models import GroupEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

# The last migration of groups before the audit actions and timeline types became registered kinds.
BEFORE = [("groups", "0005_participant_profile_seen_at")]
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_kinds_migration_keeps_every_audit_entry_and_timeline_event_of_every_app():
    assert connection.vendor == "postgresql"  # Run by `make test-services` (tests/with_services.sh).
    try:
        # given: the database at the schema before, with rows of each app's kinds written through that schema
        executor = _migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        number = old.get_model("groups", "PhoneNumber").objects.create(
            phone_number_id="1", display_phone_number="15550001", waba_id="2"
        )
        group = old.get_model("groups", "Group").objects.create(phone_number=number, subject="Order 1", state="active")
        events = {
            kind: old.get_model("groups", "GroupEvent").objects.create(
                group=group, type=kind, occurred_at=AT, source="webhook", detail={"n": kind}
            ).pk
            for kind in ("created", "message_sent", "pinned", "pin_replaced")
        }
        entries = {
            action: old.get_model("groups", "AuditEntry").objects.create(
                actor_username="staff", action=action, source="admin", group=group, reason=f"why {action}"
            ).pk
            for action in ("group_delete", "message_retry", "pin_create", "webhook_event_reprocess")
        }
        # when
        _migrate(_latest())
        # then: every row is there, unchanged, and each kind reads with the label its app registers
        for kind, pk in events.items():
            event = GroupEvent.objects.get(pk=pk)
            assert (event.type, event.group_id, event.detail, event.occurred_at) == (kind, group.pk, {"n": kind}, AT)
        assert GroupEvent.objects.get(pk=events["pinned"]).get_type_display() == "Message pinned"
        for action, pk in entries.items():
            entry = AuditEntry.objects.get(pk=pk)
            assert (entry.action, entry.group_id, entry.reason) == (action, group.pk, f"why {action}")
        assert AuditEntry.objects.get(pk=entries["webhook_event_reprocess"]).get_action_display() == (
            "Reprocess webhook event"
        )
    finally:
        _migrate(_latest())
