"""Delete processed and ignored webhook events past the retention (never pending or failed)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from webhooks.services import webhook_events_delete_old


class Command(BaseCommand):
    help = "Delete processed and ignored webhook events older than --days (default WEBHOOK_EVENT_RETENTION_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.WEBHOOK_EVENT_RETENTION_DAYS)

    def handle(self, *args, **options):
        count = webhook_events_delete_old(older_than_days=options["days"])
        self.stdout.write(f"{count} event(s) deleted.")
