"""`serve` under load: requests per second and p95 latency with 8 concurrent clients on
loopback, for valid reads, refused requests (every kind of bad body), valid opens (each one
executeTemplate on the embedded chain) and the mixed load of the load test, with the latency of
that mix's refused requests apart (opens execute meanwhile; refusals are judged before the chain
worker, so they do not wait behind them). Bounded in count;
the server is a child process this benchmark starts and stops."""

from __future__ import annotations

import random
import threading
import time

import httpx

from harness.services import loadgen
from harness.services.launch import ServeProcess

CONCURRENCY = 8


def _rows(name: str, outcomes: list[loadgen.Outcome], seconds: float, note: str) -> list[dict]:
    latencies = [o.seconds for o in outcomes]
    errors = sum(1 for o in outcomes if o.status >= 500 or o.status < 0)
    return [
        {
            "benchmark": f"{name} req/s",
            "value": len(outcomes) / seconds,
            "unit": "req/s",
            "note": note,
        },
        {
            "benchmark": f"{name} p95",
            "value": loadgen.percentile(latencies, 0.95) * 1000,
            "unit": "ms",
            "note": f"p50 {loadgen.percentile(latencies, 0.5) * 1000:.1f} ms; {errors} 5xx",
        },
    ]


def run(quick: bool) -> list[dict]:
    n_reads, n_bad, users, per_user = (200, 200, 2, 3) if quick else (2000, 2000, 10, 6)
    rng = random.Random(9)
    rows: list[dict] = []
    with ServeProcess() as served:
        onboarded = loadgen.onboard(served.base, users)
        bodies = loadgen.open_bodies(served.context, onboarded, per_user)
        reads = [
            loadgen.Req("read", "GET", rng.choice(loadgen.READS), headers={})
            for _ in range(n_reads)
        ]
        out, seconds = loadgen.run(served.base, reads, CONCURRENCY)
        rows += _rows("valid reads", out, seconds, f"{n_reads} GETs, {CONCURRENCY} clients")
        bad = [rng.choice(loadgen.bad_requests(rng, bodies[0])) for _ in range(n_bad)]
        out, seconds = loadgen.run(served.base, bad, CONCURRENCY)
        refused = sum(1 for o in out if 400 <= o.status < 500)
        rows += _rows("refused", out, seconds, f"{refused}/{n_bad} refused with a 4xx")
        opens = [
            loadgen.Req("open", "POST", loadgen.OPEN, b, body_id=i) for i, b in enumerate(bodies)
        ]
        out, seconds = loadgen.run(served.base, opens, CONCURRENCY)
        ok = sum(1 for o in out if o.status == 200)
        rows += _rows("valid opens", out, seconds, f"{ok}/{len(opens)} executed (one tx each)")
    with ServeProcess() as served:
        onboarded = loadgen.onboard(served.base, users)
        bodies = loadgen.open_bodies(served.context, onboarded, per_user)
        total = 400 if quick else 2000
        mix = loadgen.build_mix(bodies, total, replays=1)
        rss = served.rss_bytes()
        out, seconds = loadgen.run(served.base, mix, CONCURRENCY)
        growth = (served.rss_bytes() - rss) / 2**20
        rows += _rows("mixed", out, seconds, f"{total} requests; server RSS +{growth:.0f} MiB")
        rows.append(_refused_in_mix(out))
    rows += _during_bot_closes(3 if quick else 4, 5 if quick else 9)
    return rows


def _refused_in_mix(out: list[loadgen.Outcome]) -> dict:
    """The latency of the mix's bad requests (opens executing meanwhile on the chain worker):
    what a refused client waits; the forged signatures (judged by the validator) apart."""
    bad = [o.seconds for o in out if not o.req.valid]
    forged = [o.seconds for o in out if o.req.kind == "bad:forged-signature"]
    opens = sum(1 for o in out if o.req.kind == "open" and o.status == 200)
    return {
        "benchmark": "mixed: refused p95",
        "value": loadgen.percentile(bad, 0.95) * 1000,
        "unit": "ms",
        "note": f"{len(bad)} refused, p50 {loadgen.percentile(bad, 0.5) * 1000:.1f} ms; forged "
        f"signatures p50/p95 {loadgen.percentile(forged, 0.5) * 1000:.1f}/"
        f"{loadgen.percentile(forged, 0.95) * 1000:.1f} ms; {opens} opens executed meanwhile",
    }


def _during_bot_closes(users: int, per_position: int) -> list[dict]:
    """Read latency while one price move makes the bot close users x per_position orders."""
    with ServeProcess() as served:
        onboarded = loadgen.onboard(served.base, users)
        stored = loadgen.positions_with_orders(served.base, served.context, onboarded, per_position)
        done = threading.Event()
        took: list[float] = []

        def move() -> None:
            start = time.perf_counter()
            with httpx.Client(base_url=served.base, timeout=300) as mover:
                mover.post("/coh/mock/price", json={"symbol_id": 1, "price": "68300.0"})
            took.append(time.perf_counter() - start)
            done.set()

        thread = threading.Thread(target=move)
        latencies: list[float] = []
        with httpx.Client(base_url=served.base, timeout=300) as http, loadgen.frozen_heap():
            thread.start()
            while not done.is_set():
                start = time.perf_counter()
                http.get("/coh/api/v5/configs/")
                latencies.append(time.perf_counter() - start)
        thread.join()
    return [
        {
            "benchmark": f"read during {stored} bot closes, max",
            "value": max(latencies) * 1000,
            "unit": "ms",
            "note": f"{len(latencies)} reads while the move took {took[0]:.2f} s "
            f"(p95 {loadgen.percentile(latencies, 0.95) * 1000:.1f} ms)",
        },
        {
            "benchmark": "price move / worst read",
            "value": took[0] / max(latencies),
            "unit": "x",
            "note": "how much longer the chain work ran than any read waited",
        },
    ]
