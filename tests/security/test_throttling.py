"""REST throttles: a per-user budget, and a smaller one for requests that make Groupdesk call Meta."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

from messaging.models import OutboundMessage
from tests.groups.factories import GroupFactory
from tests.spec import SPEC_G1, SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://graph.meta.test/v25.0"
MESSAGES_URL = f"{BASE}/{SPEC_PHONE_NUMBER_ID}/messages"


@pytest.fixture
def rates(settings):
    """Set the throttle rates for one test (read per request, so no restart is needed)."""

    def set_rates(*, user: str = "1000/min", meta_calls: str = "1000/min") -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                                   "DEFAULT_THROTTLE_RATES": {"user": user, "meta_calls": meta_calls}}

    return set_rates


def test_the_production_rates_come_from_the_environment():
    # when
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
            "from django.conf import settings; r = settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'];"
            "print(r['user'], r['meta_calls'], settings.CACHES['default']['BACKEND'])")
    env = {**os.environ, "API_USER_RATE": "50/min", "API_META_CALLS_RATE": "7/min",
           "CACHE_URL": "redis://127.0.0.1:6379/1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["50/min", "7/min", "config.cache.RedisCache"]  # Django's, one client per pool


def test_calls_to_meta_past_the_rate_get_429_with_the_error_body_and_retry_after(admin_api, graph, rates):
    # given
    rates(meta_calls="2/min")
    group = GroupFactory(group_id=SPEC_G1)
    graph.get(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("get_invite_link.response"))
    # when
    allowed = [admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/") for _ in range(2)]
    refused = admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/")
    # then
    assert [response.status_code for response in allowed] == [200, 200]
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "throttled"
    assert set(body) == {"code", "message", "extra"}
    assert 0 < int(refused["Retry-After"]) <= 60
    assert len(graph.calls) == 2  # The refused request never reached Meta.


def test_a_refused_message_is_not_created(admin_api, graph, rates, django_capture_on_commit_callbacks):
    # given
    rates(meta_calls="1/min")
    group = GroupFactory(spec_g1=True)
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    payload = {"group": group.pk, "type": "text", "text": {"body": "Hello"}}
    # when
    with django_capture_on_commit_callbacks(execute=True):
        first = admin_api.post("/api/v1/messages/", payload, format="json")
        second = admin_api.post("/api/v1/messages/", payload, format="json")
    # then
    assert (first.status_code, second.status_code) == (202, 429)
    assert OutboundMessage.objects.count() == 1


def test_the_meta_calls_budget_is_shared_by_every_endpoint_that_calls_meta(admin_api, graph, rates):
    # given: one reset spends the only call of the minute
    rates(meta_calls="1/min")
    group = GroupFactory(group_id=SPEC_G1)
    graph.post(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("reset_invite_link.response"))
    assert admin_api.post(f"/api/v1/groups/{group.pk}/invite-link/reset/").status_code == 200
    # when
    calls = [
        admin_api.delete(f"/api/v1/groups/{group.pk}/"),
        admin_api.patch(f"/api/v1/groups/{group.pk}/", {"subject": "New"}, format="json"),
        admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/", {"participants": ["16505551234"]},
                       format="json"),
        admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/approve/", {"join_request_ids": ["1"]},
                       format="json"),
        admin_api.post("/api/v1/groups/", {"phone_number": group.phone_number_id, "subject": "x"}, format="json"),
        admin_api.post("/api/v1/pins/", {"group": group.pk, "message_id": "wamid.X", "expiration_days": 1},
                       format="json"),
    ]
    # then
    assert [response.status_code for response in calls] == [429] * len(calls)


def test_reads_that_do_not_call_meta_are_not_counted(admin_api, rates):
    # given
    rates(meta_calls="1/min")
    group = GroupFactory()
    # when
    responses = [admin_api.get(path) for path in ("/api/v1/groups/", "/api/v1/messages/", "/api/v1/pins/",
                                                  f"/api/v1/groups/{group.pk}/")] * 2
    # then
    assert [response.status_code for response in responses] == [200] * 8


def test_each_user_has_a_budget_of_their_own(api_client, admin_api, user_with_perms, graph, rates):
    # given: the admin spent the minute's only call
    rates(meta_calls="1/min")
    group = GroupFactory(group_id=SPEC_G1)
    graph.get(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("get_invite_link.response"))
    assert admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/").status_code == 200
    api_client.force_authenticate(user_with_perms("groups.view_group"))
    # when
    other = api_client.get(f"/api/v1/groups/{group.pk}/invite-link/")
    # then
    assert other.status_code == 200


def test_every_request_counts_against_the_user_rate(admin_api, rates):
    # given
    rates(user="3/min")
    # when
    responses = [admin_api.get("/api/v1/groups/") for _ in range(4)]
    # then
    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert responses[-1].json()["code"] == "throttled"
    assert "Retry-After" in responses[-1]


def test_an_unreachable_cache_lets_requests_through_and_says_so(admin_api, rates, settings, caplog):
    # given: the cache (Redis) is down
    rates(user="1/min")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    # when
    with caplog.at_level(logging.WARNING, logger="config.throttling"):
        responses = [admin_api.get("/api/v1/groups/") for _ in range(2)]
    # then
    assert [response.status_code for response in responses] == [200, 200]
    assert "throttle: cache unavailable" in caplog.text


@pytest.mark.integration  # Needs the Redis of `make test-services`.
def test_with_redis_the_counters_are_shared_by_every_process(admin_api, rates, settings, superuser, graph):
    # given: this process spends the minute's two calls, counting in Redis (the throwaway one's database 1)
    cache_url = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/1"
    rates(meta_calls="2/min")
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": cache_url}}
    cache.clear()  # Counters of an earlier run.
    assert cache._cache.get_client() is cache._cache.get_client()  # One client per pool, not one per call.
    group = GroupFactory(group_id=SPEC_G1)
    graph.get(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("get_invite_link.response"))
    assert [admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/").status_code for _ in range(2)] == [200, 200]
    # when: another process (another gunicorn worker) asks whether that user may call Meta
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
        "from types import SimpleNamespace as NS; from config.throttling import MetaCallsThrottle;"
        f"user = NS(pk={superuser.pk}, is_authenticated=True);"
        "request = NS(user=user, method='POST', META={});"
        "print(MetaCallsThrottle().allow_request(request, NS(throttle_scope='meta_calls')))"
    )
    env = {**os.environ, "CACHE_URL": cache_url, "API_META_CALLS_RATE": "2/min"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
