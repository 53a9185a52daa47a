"""P1 (issues 9 and 19): webhook ingest vs a hello-world page, and with vs without an endpoint subscribed.

Requests/s with wrk, no worker consuming. Each run measures /healthz/, then the webhook with no endpoint and with
one active endpoint subscribed to every event type (a local receiver answering 200), in half-length loads ordered
ABBA (BAAB the next run), so a machine whose load drifts during a run favours neither side.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from contextlib import contextmanager

from django.conf import settings

from bench.harness import Deployment
from bench.receiver import receiver_start
from bench.webhook_load import ROOT, WEBHOOK, Pairs, events_count, wrk


def bench_p1(dep: Deployment, pairs: Pairs, runs: int, seconds: int) -> dict:
    """Webhook ingest vs /healthz/ requests/s, and with an endpoint vs without, alternating in the same run."""
    hello, hooks, subscribed, ratios, endpoint_ratios, notes = [], [], [], [], [], []
    receiver, url = receiver_start()
    try:
        for run in range(runs):
            h = wrk(dep.url + "/healthz/", seconds=seconds, connections=16)
            half = max(seconds // 2, 3)
            body_count = int(max(h["rps"], 2000) * half * 1.2)
            measured: dict[bool, list[dict]] = {False: [], True: []}
            first = run % 2 == 1  # Run 0: without, with, with, without; run 1: the reverse; and so on.
            for with_endpoint in (first, not first, not first, first):
                with _endpoint_subscribed(url) if with_endpoint else _no_endpoint():
                    measured[with_endpoint].append(_webhook_load(dep, pairs, half, body_count))
            without, with_ = _combined(measured[False]), _combined(measured[True])
            hello.append(h["rps"])
            hooks.append(without["rps"])
            subscribed.append(with_["rps"])
            ratios.append(without["rps"] / h["rps"])
            endpoint_ratios.append(with_["rps"] / without["rps"])
            notes.append(f"hello {h['rps']:.0f}/s, webhook {_note(without)}, with an endpoint {_note(with_)}"
                         f"{' (endpoint first)' if first else ''}")
            print("P1", notes[-1], flush=True)
    finally:
        receiver.terminate()
    return {"hello": statistics.median(hello), "webhook": statistics.median(hooks),
            "webhook_endpoint": statistics.median(subscribed), "ratio": statistics.median(ratios),
            "endpoint_ratio": statistics.median(endpoint_ratios), "runs": notes}


def _webhook_load(dep: Deployment, pairs: Pairs, seconds: int, body_count: int) -> dict:
    """wrk on the webhook with unique signed bodies; return its figures and how many events were stored."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        for body, signature in pairs.bodies(body_count):
            f.write(f"{signature}\t{body.decode()}\n")
    before = events_count()
    try:
        result = wrk(dep.url + WEBHOOK, seconds=seconds, connections=16,
                     script=[str(ROOT / "bench/signed_post.lua"), f.name, "2"])
    finally:
        os.unlink(f.name)
    result["stored"] = events_count() - before
    return result


def _combined(loads: list[dict]) -> dict:
    """Two equal-length loads as one: requests/s averaged, counts added."""
    return {"rps": statistics.mean(w["rps"] for w in loads), "requests": sum(w["requests"] for w in loads),
            "non2xx": sum(w["non2xx"] for w in loads), "stored": sum(w["stored"] for w in loads),
            "socket_errors": "; ".join(w["socket_errors"] for w in loads if w["socket_errors"])}


def _note(w: dict) -> str:
    socket_errors = f", socket errors {w['socket_errors']}" if w["socket_errors"] else ""
    return f"{w['rps']:.0f}/s ({w['requests']} answered, {w['non2xx']} non-2xx, {w['stored']} stored{socket_errors})"


@contextmanager
def _no_endpoint():
    from integrations.models import WebhookEndpoint

    assert not WebhookEndpoint.objects.filter(active=True).exists(), "P1 without an endpoint found an active one"
    yield


@contextmanager
def _endpoint_subscribed(url: str):
    """One active endpoint receiving every type while the block runs; deleted after (later parts measure none)."""
    from integrations.services.endpoints import endpoint_create

    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = True  # The receiver is on loopback.
    endpoint = endpoint_create(url=url, description="bench P1").endpoint
    try:
        yield endpoint
    finally:
        endpoint.delete()
