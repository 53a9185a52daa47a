"""`field__any`: what `__in` selects, bound as one array on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.models import OutboundMessage
from tests.messaging.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages():
    return [OutboundMessageFactory(wamid=f"wamid.ANY{index}") for index in range(4)]


@pytest.mark.parametrize("lookup, values", [
    ("pk", lambda ms: [ms[0].pk, ms[2].pk, 10**12]),
    ("wamid", lambda ms: {"wamid.ANY1", "wamid.ANY3", "wamid.none", "it's"}),
    ("group_id", lambda ms: [ms[1].group_id]),
    ("group", lambda ms: (ms[3].group_id,)),
    ("pk", lambda ms: []),
])
def test_selects_what_in_selects(messages, lookup, values):
    wanted = values(messages)
    by_any = OutboundMessage.objects.filter(**{f"{lookup}__any": wanted})
    by_in = OutboundMessage.objects.filter(**{f"{lookup}__in": wanted})

    assert sorted(by_any.values_list("pk", flat=True)) == sorted(by_in.values_list("pk", flat=True))


def test_many_values_are_one_parameter_on_postgresql(messages):
    with CaptureQueriesContext(connection) as queries:
        found = list(OutboundMessage.objects.filter(pk__any=[m.pk for m in messages] + list(range(-500, 0))))

    assert len(found) == 4
    sql = queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and sql.count("-499") == 1
    else:
        assert " IN (" in sql
