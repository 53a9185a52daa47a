"""Proof that `make test-services` runs on the real parts."""

import pytest
from django.db import connection

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_suite_runs_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    assert connection.vendor == "postgresql"
    assert version.startswith("PostgreSQL 15")
