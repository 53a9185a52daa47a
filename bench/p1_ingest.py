"""P1 (issue 9): webhook ingest vs a hello-world page, requests/s with wrk, no worker consuming."""

from __future__ import annotations

import os
import statistics
import tempfile

from bench.harness import Deployment
from bench.webhook_load import ROOT, WEBHOOK, Pairs, events_count, wrk


def bench_p1(dep: Deployment, pairs: Pairs, runs: int, seconds: int) -> dict:
    """Webhook ingest vs /healthz/ requests/s, alternating in the same run (no worker consuming: ingest only)."""
    ratios, hello, hooks, notes = [], [], [], []
    for _ in range(runs):
        h = wrk(dep.url + "/healthz/", seconds=seconds, connections=16)
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
            for body, signature in pairs.bodies(int(max(h["rps"], 2000) * seconds * 1.2)):
                f.write(f"{signature}\t{body.decode()}\n")
        before = events_count()
        w = wrk(dep.url + WEBHOOK, seconds=seconds, connections=16, script=[str(ROOT / "bench/signed_post.lua"),
                                                                            f.name, "2"])
        stored = events_count() - before
        os.unlink(f.name)
        hello.append(h["rps"])
        hooks.append(w["rps"])
        ratios.append(w["rps"] / h["rps"])
        socket_errors = f", socket errors {w['socket_errors']}" if w["socket_errors"] else ""
        notes.append(f"hello {h['rps']:.0f}/s, webhook {w['rps']:.0f}/s ({w['requests']} answered, "
                     f"{w['non2xx']} non-2xx, {stored} stored{socket_errors})")
        print("P1", notes[-1], flush=True)
    return {"hello": statistics.median(hello), "webhook": statistics.median(hooks), "ratio": statistics.median(ratios),
            "runs": notes}
