"""Run CELERY_BEAT_SCHEDULE in-process, for the embedded default (`make run`) where no beat runs."""

import logging
import time
from datetime import datetime

from celery.schedules import BaseSchedule
from celery.schedules import schedule as celery_schedule
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from config.celery import app

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the periodic tasks of CELERY_BEAT_SCHEDULE in this process at their intervals (no broker needed)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every periodic task once, then exit.")

    def handle(self, *args, **options):
        app.loader.import_default_modules()  # Registers every app's tasks (autodiscovery is lazy).
        entries = {name: app.conf.beat_schedule[name] for name in settings.CELERY_BEAT_SCHEDULE}
        last_run: dict[str, datetime] = {}
        while True:
            now = timezone.now()
            for name, entry in entries.items():
                schedule = entry["schedule"]
                if not isinstance(schedule, BaseSchedule):  # A plain timedelta or number of seconds.
                    schedule = celery_schedule(schedule)
                if options["once"] or name not in last_run or schedule.is_due(last_run[name]).is_due:
                    last_run[name] = now
                    self._run(name, entry["task"], entry.get("kwargs") or {})
            if options["once"]:
                return
            try:
                time.sleep(1)
            except KeyboardInterrupt:  # Ctrl-C on `make run` stops it: no traceback on the console.
                return

    def _run(self, name: str, task_name: str, kwargs: dict) -> None:
        try:
            app.tasks[task_name].apply(kwargs=kwargs, throw=True)
        except Exception:  # One broken periodic task must not stop the others.
            logger.exception("periodic task failed", extra={"entry": name, "task": task_name})
