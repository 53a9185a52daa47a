"""The outbox: one row per event, written in the same transaction as the change it reports."""

import os

from django.db import models


def new_event_id() -> str:
    """Return a new event id (128 random bits): sent as `webhook-id`, the same on every attempt and resend."""
    return f"evt_{os.urandom(16).hex()}"


class OutboxEvent(models.Model):
    """One event: its type, when it happened, the object it is about (as the REST API shows it) and its order."""

    event_id = models.CharField(max_length=40, unique=True, default=new_event_id, editable=False)
    type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(help_text="Meta's time for what a webhook reported, else ours.")
    object_type = models.CharField(max_length=32, help_text="e.g. message, group, participant, pin.")
    object_id = models.BigIntegerField(help_text="Our id of the object.")
    # 1, 2, 3... per object: integrators order one object's events by it (deliveries run in parallel and retry).
    sequence = models.PositiveIntegerField()
    data = models.JSONField(help_text="The object as the REST API shows it, when the event happened.")
    detail = models.JSONField(default=dict, blank=True, help_text="What the event adds to the object, e.g. a receipt.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # Declared here rather than db_index=True: PostgreSQL then gets no second `_like` index (for LIKE queries,
        # which nothing runs), one index fewer to write per event (migration 0002 drops event_id's too).
        indexes = [models.Index(fields=["type"], name="outbox_event_type_idx")]
        constraints = [
            # Also the look-up of an object's last sequence number.
            models.UniqueConstraint(
                fields=["object_type", "object_id", "sequence"], name="outbox_event_unique_sequence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.object_type} #{self.object_id} ({self.sequence})"

    def body(self) -> dict:
        """Return the JSON body delivered to integrators (docs/events.md)."""
        return {
            "id": self.event_id,
            "type": self.type,
            "timestamp": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "sequence": self.sequence,
            "object": {"type": self.object_type, "id": self.object_id},
            "data": self.data,
            "detail": self.detail,
        }
