"""The raw store of every webhook Meta delivered, and what processing made of it."""

from django.db import models


class WebhookEvent(models.Model):
    """One signed POST body, stored (committed) before anything parses it."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored (no handler)"

    # Every column the webhook's INSERT does not write (webhooks.services.record.RECORDED_FIELDS) has a db_default
    # equal to its default: the row is the one save() would store. Both are spelled out: a db_default alone would
    # give new objects in Python a placeholder instead of the value.
    received_at = models.DateTimeField(db_index=True)
    body = models.BinaryField(help_text="The exact bytes Meta signed.")
    # Unique (a constraint in Meta, so PostgreSQL gets no LIKE index too) so an identical redelivery is recognised
    # instead of stored twice.
    sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=dict, blank=True)
    deliveries = models.PositiveIntegerField(
        default=1, db_default=1, help_text="How many times Meta delivered this body."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_default=State.PENDING)
    fields = models.JSONField(default=list, db_default=[], blank=True, help_text="The change fields in the body.")
    attempts = models.PositiveIntegerField(default=0, db_default=0, help_text="How many times processing ran.")
    # Counted by each claim, zeroed by each outcome stored (and by a replay): claims whose processing never ended,
    # e.g. its worker was killed for memory. At webhooks.services.drain.MAX_UNFINISHED_ATTEMPTS the event fails.
    unfinished_attempts = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Claims in a row whose processing did not finish (its worker died)."
    )
    # While set and in the future, one worker owns the event; an expired claim can be taken over.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The task holding the claim: its own retry (after a database outage) may take it back at once.
    claimed_by = models.CharField(max_length=64, blank=True, default="", db_default="")
    processed_at = models.DateTimeField(null=True, blank=True)
    item_counts = models.JSONField(default=dict, db_default={}, blank=True, help_text="Items per outcome.")
    item_failures = models.JSONField(
        default=list, db_default=[], blank=True, help_text="Each item that failed or was ignored."
    )
    error = models.TextField(blank=True, default="", db_default="")
    traceback = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        permissions = [("reprocess_webhookevent", "Can reprocess webhook events")]
        indexes = [
            # The drain's claim order, exactly (id breaks ties of received_at): a claim reads the first rows of
            # this index instead of sorting every pending event, bodies and all, as it did on (state, received_at).
            models.Index(fields=["state", "received_at", "id"], name="webhook_event_claim_order"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["sha256"], name="webhook_event_unique_sha256"),
        ]

    def __str__(self) -> str:
        return f"Webhook event {self.pk} ({self.state})"


class SignatureRejection(models.Model):
    """How many POSTs failed the signature check in one hour; the body of such a request is never stored."""

    hour = models.DateTimeField(unique=True, help_text="The start of the hour (UTC).")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-hour"]

    def __str__(self) -> str:
        return f"{self.count} rejected at {self.hour:%Y-%m-%d %H:00}"


class WebhookAuditAction(models.TextChoices):
    """The staff actions on webhook events written to the audit log (registered in `WebhooksConfig.ready`)."""

    WEBHOOK_EVENT_REPROCESS = "webhook_event_reprocess", "Reprocess webhook event"
