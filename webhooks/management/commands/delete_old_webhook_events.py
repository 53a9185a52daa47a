"""Delete processed and ignored webhook events past the retention (never pending or failed)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from webhooks.services import MIN_RETENTION_DAYS, webhook_events_delete_old


class Command(BaseCommand):
    help = "Delete processed and ignored webhook events older than --days (default WEBHOOK_EVENT_RETENTION_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=settings.WEBHOOK_EVENT_RETENTION_DAYS)

    def handle(self, *args, **options):
        if options["days"] < MIN_RETENTION_DAYS:
            raise CommandError(f"--days must be at least {MIN_RETENTION_DAYS}: Meta redelivers for up to 7 days.")
        count = webhook_events_delete_old(older_than_days=options["days"])
        self.stdout.write(f"{count} event(s) deleted.")
