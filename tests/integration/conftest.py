"""A real Celery worker process on the real broker, sharing the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """Start `celery worker` on both queues against the test database; stop it after the session."""
    from config.celery import app

    with django_db_blocker.unblock():
        settings_dict = connection.settings_dict
        database_url = (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
        )
    env = {**os.environ, "DATABASE_URL": database_url, "DATABASE_CONN_MAX_AGE": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks,outbound", "-c", "2",
         "--without-mingle", "--without-gossip", "-l", "WARNING", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Return the first truthy value of `predicate()`, polling until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
