"""Kinds registered by the app that owns them: the audit log's actions and the group timeline's event types.

The bottom apps store a kind as text and know none of the apps above; each app registers its own `TextChoices`
in its `AppConfig.ready()`, and the fields list them through the `*_choices` callables (Django calls them when
it needs the choices: forms, filters, `get_<field>_display`).
"""

from django.db import models


class KindRegistry:
    """The values (and labels) one field may hold, in registration order."""

    def __init__(self, name: str):
        self.name = name
        self._labels: dict[str, str] = {}

    def register(self, kinds: type[models.TextChoices]) -> None:
        """Add every member of `kinds`; a value registered twice must mean the same thing."""
        for value, label in kinds.choices:
            if self._labels.get(value, label) != label:
                raise ValueError(f"{self.name}: {value!r} is registered as {self._labels[value]!r} already")
            self._labels[value] = label

    def choices(self) -> list[tuple[str, str]]:
        return list(self._labels.items())


audit_actions = KindRegistry("audit actions")
timeline_types = KindRegistry("group timeline types")


def audit_action_choices() -> list[tuple[str, str]]:
    """Return every registered audit action (the choices of `AuditEntry.action`)."""
    return audit_actions.choices()


def timeline_type_choices() -> list[tuple[str, str]]:
    """Return every registered timeline event type (the choices of `GroupEvent.type`)."""
    return timeline_types.choices()
