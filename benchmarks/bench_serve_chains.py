"""`serve` on each chain it offers (embedded eth-tester, anvil), in one run: validated
instant_open bodies accepted per second (4 concurrent clients), refused bodies per second, and the
open latency a frontend sees, from the POST to the notifications websocket's
SendQuoteTransaction success frame, p50 and p95. Bounded in count; each server is a child process
this benchmark starts and stops (anvil with it). anvil is skipped, with the reason, when it is not
installed (`npm ci --prefix tools/anvil`)."""

from __future__ import annotations

import json
import time

import httpx

from harness.anvil import AnvilError, find_anvil
from harness.services import loadgen
from harness.services.launch import ServeProcess
from harness.services.notify_client import SyncNotifications

CONCURRENCY = 4


def _chains() -> list[tuple[str, str | None]]:
    try:
        find_anvil()
        anvil_missing = None
    except AnvilError as exc:
        anvil_missing = str(exc)
    return [("embedded", None), ("anvil", anvil_missing)]


def _latencies(base: str, users: list, bodies: list[bytes], per_user: int) -> list[float]:
    """POST -> success frame, one open at a time, each user's subscription open throughout."""
    ws_url = base.replace("http://", "ws://") + "/solver/api/ws/notifications"
    out = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for u, (_, sub) in enumerate(users):
            with SyncNotifications(ws_url) as ws:
                ws.subscribe(sub)
                for body in bodies[u * per_user : (u + 1) * per_user]:
                    start = time.perf_counter()
                    got = http.post(loadgen.OPEN, content=body, headers=loadgen.JSON)
                    got.raise_for_status()
                    ws.wait_open(got.json()["temp_quote_id"], timeout=60)
                    out.append(time.perf_counter() - start)
    return out


def _one_chain(chain: str, quick: bool) -> list[dict]:
    users_n, per_user, n_bad = (2, 3, 100) if quick else (4, 6, 600)
    rows: list[dict] = []
    with ServeProcess(120, args=("--chain", chain, "--quiet")) as served:
        users = loadgen.onboard(served.base, users_n * 2)
        bodies = loadgen.open_bodies(served.context, users, per_user)
        half = users_n * per_user
        opens = [
            loadgen.Req("open", "POST", loadgen.OPEN, b, body_id=i)
            for i, b in enumerate(bodies[:half])
        ]
        out, seconds = loadgen.run(served.base, opens, CONCURRENCY)
        accepted = sum(1 for o in out if o.status == 200)
        rows.append(
            {
                "benchmark": f"{chain}: opens accepted/s",
                "value": accepted / seconds,
                "unit": "1/s",
                "note": f"{accepted}/{len(opens)} accepted and executed, {CONCURRENCY} clients",
            }
        )
        forged = json.loads(bodies[0])
        forged["sendQuote"]["signedOperation"]["maxUses"] = "x"  # refused by the rules
        bad = [
            loadgen.Req("bad", "POST", loadgen.OPEN, json.dumps(forged).encode())
            for _ in range(n_bad)
        ]
        out, seconds = loadgen.run(served.base, bad, CONCURRENCY)
        refused = sum(1 for o in out if 400 <= o.status < 500)
        rows.append(
            {
                "benchmark": f"{chain}: refused bodies/s",
                "value": len(out) / seconds,
                "unit": "1/s",
                "note": f"{refused}/{n_bad} refused with a 4xx, {CONCURRENCY} clients",
            }
        )
        latency = _latencies(served.base, users[users_n:], bodies[half:], per_user)
        rows.append(
            {
                "benchmark": f"{chain}: open latency p50",
                "value": loadgen.percentile(latency, 0.5) * 1000,
                "unit": "ms",
                "note": f"POST -> websocket SendQuoteTransaction success, {len(latency)} opens",
            }
        )
        rows.append(
            {
                "benchmark": f"{chain}: open latency p95",
                "value": loadgen.percentile(latency, 0.95) * 1000,
                "unit": "ms",
                "note": "",
            }
        )
    return rows


def run(quick: bool) -> list[dict]:
    rows: list[dict] = []
    for chain, missing in _chains():
        if missing is not None:
            rows.append({"benchmark": f"{chain}: skipped", "value": 0, "unit": "", "note": missing})
            continue
        rows += _one_chain(chain, quick)
    by_name = {r["benchmark"]: r["value"] for r in rows}
    if "anvil: opens accepted/s" in by_name and by_name["embedded: opens accepted/s"]:
        rows.append(
            {
                "benchmark": "anvil / embedded opens accepted/s",
                "value": by_name["anvil: opens accepted/s"] / by_name["embedded: opens accepted/s"],
                "unit": "x",
                "note": "same run",
            }
        )
    return rows
