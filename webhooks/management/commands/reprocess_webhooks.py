"""Replay stored webhook events: `reprocess_webhooks --failed --since 2026-11-01`."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from webhooks.models import WebhookEvent
from webhooks.services import webhook_events_reprocess


class Command(BaseCommand):
    help = "Process failed and/or ignored webhook events again (handlers make repeats no-ops)."

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="Replay failed events.")
        parser.add_argument("--ignored", action="store_true", help="Replay ignored events (e.g. after a new handler).")
        parser.add_argument("--pending", action="store_true", help="Replay events stuck in pending.")
        parser.add_argument("--since", help="Only events received at or after this ISO date or datetime (UTC).")

    def handle(self, *args, **options):
        states = [
            state
            for flag, state in (
                ("failed", WebhookEvent.State.FAILED),
                ("ignored", WebhookEvent.State.IGNORED),
                ("pending", WebhookEvent.State.PENDING),
            )
            if options[flag]
        ]
        if not states:
            raise CommandError("Say which events to replay: --failed, --ignored and/or --pending.")
        since = None
        if options["since"]:
            since = parse_datetime(options["since"])
            if since is None and (day := parse_date(options["since"])):
                since = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if since is None:
                raise CommandError(f"--since: not an ISO date or datetime: {options['since']!r}")
            if timezone.is_naive(since):
                since = timezone.make_aware(since, UTC)
        count = webhook_events_reprocess(states=states, since=since)
        self.stdout.write(f"{count} event(s) queued for reprocessing.")
