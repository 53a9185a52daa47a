"""Seed demo groups and messages through the app's own services, so `make run` starts alive.

Meant for the sandbox (`make run`): every call goes to the sandbox like any other, and the groups
become active, gain participants and the messages get their statuses by webhook, as with Meta.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.models import Source
from groups.models import Group
from groups.services import group_create, phone_number_register_configured
from messaging.services import message_create

DEMO_PREFIX = "Demo: "
DEMO_GROUPS = [
    (f"{DEMO_PREFIX}Customer support", "Questions about orders and deliveries.", Group.JoinApprovalMode.AUTO_APPROVE),
    (f"{DEMO_PREFIX}Beta testers", "Early access to new features.", Group.JoinApprovalMode.AUTO_APPROVE),
    (f"{DEMO_PREFIX}VIP onboarding", "Each member is approved by the team.", Group.JoinApprovalMode.APPROVAL_REQUIRED),
]
DEMO_MESSAGES = [
    "Welcome! This group is run with Groupdesk. Ask us anything here.",
    "Our support hours are 8:00-20:00 CET, Monday to Saturday.",
]


class Command(BaseCommand):
    help = "Create demo groups and messages through the sandbox (once; skipped when demo groups exist)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=45.0, help="Seconds to wait for groups and participants.")

    def handle(self, *args, **options):
        if not settings.WHATSAPP_SANDBOX:
            raise CommandError("seed_demo talks to the sandbox only: set WHATSAPP_SANDBOX=true (make run does).")
        if Group.objects.filter(subject__startswith=DEMO_PREFIX).exists():
            self.stdout.write("Demo data already there.")
            return
        phone_number = phone_number_register_configured()
        groups = [
            group_create(
                phone_number=phone_number,
                subject=subject,
                description=description,
                join_approval_mode=mode,
                source=Source.TASK,
            )
            for subject, description, mode in DEMO_GROUPS
        ]
        ready = self._wait_for_members(groups, timeout=options["wait"])
        for group in ready:
            for body in DEMO_MESSAGES:
                message_create(group=group, type="text", content={"body": body, "preview_url": False},
                               source=Source.TASK)
        self.stdout.write(
            f"Seeded {len(groups)} demo groups; sent {len(ready) * len(DEMO_MESSAGES)} messages "
            f"to the {len(ready)} that have members so far."
        )

    def _wait_for_members(self, groups: list[Group], *, timeout: float) -> list[Group]:
        """Wait until every group is active and the open ones have members; return those with members."""
        deadline = time.monotonic() + timeout
        pks = [group.pk for group in groups]
        while True:
            current = list(Group.objects.filter(pk__in=pks))
            # Approval-required groups only gain members once staff approve their join requests.
            approval = Group.JoinApprovalMode.APPROVAL_REQUIRED
            settled = all(
                g.state == Group.State.ACTIVE and (g.participant_count > 0 or g.join_approval_mode == approval)
                for g in current
            )
            if settled or time.monotonic() > deadline:
                return [g for g in current if g.state == Group.State.ACTIVE and g.participant_count > 0]
            time.sleep(0.5)
