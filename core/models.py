"""What every app's models share: time stamps, the source of a change, and the audit log."""

from django.conf import settings
from django.db import models

from core.kinds import audit_action_choices


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Source(models.TextChoices):
    """Who caused a change: written on every history row."""

    ADMIN = "admin", "Admin"
    API = "api", "REST API"
    WEBHOOK = "webhook", "Webhook"
    TASK = "task", "Background task"


class AuditEntry(models.Model):
    """One staff action (admin or REST): who did what to which object, when and why; written by `audit_record`.

    It lives in the bottom app so every app's services can write it; the target is named by content type and
    id (not a foreign key per model) so any model can be a target and history survives the target's deletion.
    Its actions are registered by the apps that perform them (`core.kinds.audit_actions`).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the entry must still say who it was after the user is deleted.
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=40, choices=audit_action_choices, db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    target_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    # The group concerned, when there is one: the group page lists its audit entries. Named by label, so core
    # imports nothing of groups; `audit_record` fills it from the target without naming the model either.
    group = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # The entries keep the label they were created under: their table (groups_auditentry), content type, the
        # `groups.view_auditentry` permission the support roles hold and the admin URL /admin/groups/auditentry/
        # all derive from it, and all stay as they were. Its migrations therefore stay in groups/migrations.
        app_label = "groups"
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["actor", "-created_at"]), models.Index(fields=["action", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_username}: {self.get_action_display()} {self.target_repr}".strip()
