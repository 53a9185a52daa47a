"""Create the demo superuser from DJANGO_SUPERUSER_* (once); `make run` prints how to log in, last."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the demo superuser named by DJANGO_SUPERUSER_USERNAME/_PASSWORD if missing."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not username or not password:
            raise CommandError("Set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD.")
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(
                username=username, email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""), password=password
            )
