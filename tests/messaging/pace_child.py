"""The body of a separate pacing process (spawned fresh, so it shares no thread or lock with pytest)."""

import os


def pace_in_a_process(results, count: int, database_name: str, backend: str = "database", key: str = "phone:processes",
                      redis_url: str = "") -> None:
    """Take `count` slots (in the test database, or Redis) from a process of its own, as a Celery worker would."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database_name
    settings.MESSAGE_PACING_BACKEND = backend
    settings.MESSAGE_PACING_REDIS_URL = redis_url
    from django.db import connections

    from messaging.pacing import pace_acquire

    results.put([pace_acquire(key=key, rate_per_second=10, max_wait=100, now=1000.0).wait
                 for _ in range(count)])
    connections.close_all()
