"""The audit log: one entry per staff action, written by the service that performs it (never by views)."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import AuditEntry

REASON_MAX_LENGTH = 2000


def _group_of(target: Any) -> models.Model | None:
    """Return the group a target is, or belongs to (by the model `AuditEntry.group` points at, never by name)."""
    group_model = AuditEntry._meta.get_field("group").related_model
    if isinstance(target, group_model):
        return target
    group = getattr(target, "group", None)
    return group if isinstance(group, group_model) else None


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    reason: str = "",
    detail: dict | None = None,
    source: str,
) -> AuditEntry | None:
    """Write who did `action` to `target` and why; nothing when no signed-in user is behind it (tasks, webhooks).

    Call it inside the transaction that makes the change, so an entry exists exactly when the change does.
    """
    if not getattr(actor, "is_authenticated", False):
        return None
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=actor.get_username()[:150],
        action=action,
        source=source,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        group=_group_of(target),
        reason=(reason or "").strip()[:REASON_MAX_LENGTH],
        detail=detail or {},
    )
