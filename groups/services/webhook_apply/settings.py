"""Apply `group_settings_update` and `group_status_update`: settings Meta applied, suspensions (spec §6.4, §6.5)."""

from dataclasses import dataclass, field
from datetime import datetime

from groups.models import Group
from groups.services.common import EventType, WebhookOrigin, group_event_record, is_newer
from groups.services.operations import operation_finish
from groups.services.webhook_apply.settle import WEBHOOK, Kind, OpState, group_for_webhook, operation_match
from outbox import event_types
from outbox.services import event_record


@dataclass(frozen=True)
class SettingOutcome:
    """One setting of a `group_settings_update` item: applied or not, its text, its errors."""

    succeeded: bool
    text: str | None = None
    sha256: str | None = None
    errors: list[dict] = field(default_factory=list)

    def as_outcome(self) -> dict:
        """Return the setting as an operation's outcome records it."""
        return {"updated": self.succeeded, **({"text": self.text} if self.text is not None else {}),
                **({"sha256": self.sha256} if self.sha256 else {}), **({"errors": self.errors} if self.errors else {})}


def _operation_kinds(reported: dict[str, SettingOutcome]) -> list[str]:
    """Return which operations may have asked for the settings an item reports (a picture is its own call)."""
    if set(reported) == {"picture"}:
        return [Kind.UPDATE_PICTURE]
    if not reported or "picture" in reported:
        return [Kind.UPDATE_SETTINGS, Kind.UPDATE_PICTURE]
    return [Kind.UPDATE_SETTINGS]


def group_settings_apply(
    *,
    group_id: str,
    request_id: str | None,
    subject: SettingOutcome | None,
    description: SettingOutcome | None,
    picture: SettingOutcome | None,
    errors: list[dict],
    at: datetime,
    origin: WebhookOrigin | None = None,
) -> Group:
    """Apply each setting Meta reports as updated; record the rest as failed, per setting."""
    group = group_for_webhook(group_id)
    reported = {name: o for name, o in (("subject", subject), ("description", description), ("picture", picture))
                if o is not None}
    operation = operation_match(group=group, request_id=request_id, kinds=_operation_kinds(reported))
    applied = is_newer(at, group.settings_changed_at)
    if applied:
        _group_settings_write(group, subject=subject, description=description, picture=picture, at=at)
    outcome = {name: o.as_outcome() for name, o in reported.items()}
    succeeded = {name: v for name, v in outcome.items() if v["updated"]}
    failed = {name: v for name, v in outcome.items() if not v["updated"]}
    if succeeded:
        group_event_record(group=group, type=EventType.SETTINGS_UPDATED, source=WEBHOOK, occurred_at=at,
                           origin=origin, detail={"settings": succeeded, **({} if applied else {"applied": False})})
    if failed or (errors and not reported):
        group_event_record(group=group, type=EventType.SETTINGS_FAILED, source=WEBHOOK, occurred_at=at,
                           origin=origin, detail={"settings": failed, "errors": errors})
    if operation is not None and operation.state == OpState.PENDING:
        if not failed and not errors:
            state = OpState.SUCCEEDED
        elif succeeded:
            state = OpState.PARTIALLY_FAILED
        else:
            state = OpState.FAILED
        operation_errors = errors or [e for v in failed.values() for e in v.get("errors", [])]
        operation_finish(operation, group, state=state, errors=operation_errors, outcome={"settings": outcome},
                         source=WEBHOOK, at=at, write_event=False)
    return group


def _group_settings_write(group: Group, *, subject: SettingOutcome | None, description: SettingOutcome | None,
                          picture: SettingOutcome | None, at: datetime) -> None:
    """Copy the texts Meta applied onto the group (only where `update_successful`), as of `at`."""
    changed = []
    if subject is not None and subject.succeeded and subject.text is not None:
        group.subject = subject.text.strip()[: Group.SUBJECT_MAX_LENGTH]
        changed.append("subject")
    if description is not None and description.succeeded and description.text is not None:
        group.description = description.text[: Group.DESCRIPTION_MAX_LENGTH]
        changed.append("description")
    if changed or (picture is not None and picture.succeeded):
        group.settings_changed_at = at
        group.save(update_fields=[*changed, "settings_changed_at", "updated_at"])
        updated = [*changed, *(["picture"] if picture is not None and picture.succeeded else [])]
        event_record(type=event_types.GROUP_UPDATED, obj=group, occurred_at=at, detail={"updated": updated})


def group_suspension_apply(*, group_id: str, suspended: bool, at: datetime,
                           origin: WebhookOrigin | None = None) -> Group:
    """Set or clear `suspended`, unless a newer suspension event is already applied."""
    group = group_for_webhook(group_id)
    applied = is_newer(at, group.suspension_changed_at)
    if applied:
        changed = group.suspended != suspended
        group.suspended = suspended
        group.suspension_changed_at = at
        group.save(update_fields=["suspended", "suspension_changed_at", "updated_at"])
        if changed:
            event_record(type=event_types.GROUP_SUSPENDED if suspended else event_types.GROUP_UNSUSPENDED, obj=group,
                         occurred_at=at)
    group_event_record(
        group=group, type=EventType.SUSPENDED if suspended else EventType.SUSPENSION_CLEARED, source=WEBHOOK,
        occurred_at=at, origin=origin, detail={} if applied else {"applied": False, "why": "older than stored state"},
    )
    return group
