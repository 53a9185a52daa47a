"""Datetime filters reach PostgreSQL in UTC: an offset Python accepts but PostgreSQL refuses is no 500."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.mark.parametrize("path", ["/api/v1/webhook-events/", "/api/v1/messages/"])
def test_a_large_utc_offset_filters_instead_of_failing(admin_api, path):
    name = "received_after" if "webhook" in path else "created_after"
    response = admin_api.get(path, {name: "0225-02-12T04:53:51+23:15"})
    assert response.status_code == 200, response.content
