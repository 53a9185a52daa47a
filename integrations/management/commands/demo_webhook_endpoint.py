"""`make run`: register the sandbox's demo receiver as a webhook endpoint and write its signing secret to stdout."""

from django.core.management.base import BaseCommand

from integrations.models import WebhookEndpoint
from integrations.services.endpoints import endpoint_create, endpoint_secret_rotate

DESCRIPTION = "Sandbox demo receiver (make run)"


class Command(BaseCommand):
    help = ("Create (or, when it exists, give a new secret to) the endpoint at --url receiving every event; write "
            "only its signing secret to stdout, for the caller to hand to the receiver (never shown or logged).")

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True)

    def handle(self, *args, url: str, **options):
        endpoint = WebhookEndpoint.objects.filter(url=url).first()
        # A restarted sandbox has forgotten the secret: a new one (the old one still signs for a day) is simplest.
        result = endpoint_secret_rotate(endpoint=endpoint) if endpoint else endpoint_create(
            url=url, description=DESCRIPTION)
        self.stdout.write(result.secret)
