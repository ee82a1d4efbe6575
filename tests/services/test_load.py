"""A bounded loopback load test on `serve`: 2,000 mixed valid and invalid requests from 8
concurrent clients. No 5xx, every valid open executed exactly once (its replays refused),
every bad request refused with its 4xx, memory bounded."""

from __future__ import annotations

from collections import Counter, defaultdict

import httpx
import pytest

from harness.services import loadgen
from harness.services.launch import ServeProcess
from harness.services.solver import OPENED

TOTAL = 2000
CONCURRENCY = 8
USERS, OPENS_PER_USER = 6, 5
MAX_RSS_GROWTH = 200 * 1024 * 1024
EXPECTED_STATUS = {
    "bad:deep": {400},
    "bad:duplicate-key": {400},
    "bad:content-type": {415},
    "bad:price": {400},
    "bad:oversize": {413},
    "bad:not-utf8": {400},
    "bad:forged-signature": {400},
    "bad:not-json": {400},
    "read": {200},
}


@pytest.mark.server
@pytest.mark.subprocess
@pytest.mark.slow
def test_mixed_load_has_no_5xx_executes_every_valid_open_once_and_stays_bounded() -> None:
    with ServeProcess() as served:
        users = loadgen.onboard(served.base, USERS)
        bodies = loadgen.open_bodies(served.context, users, OPENS_PER_USER)
        reqs = loadgen.build_mix(bodies, TOTAL, replays=1)
        rss_before = served.rss_bytes()
        outcomes, seconds = loadgen.run(served.base, reqs, CONCURRENCY, timeout=120)
        rss_after = served.rss_bytes()
        assert len(outcomes) == len(reqs) == TOTAL
        server_errors = [
            (o.req.kind, o.status, o.body) for o in outcomes if o.status >= 500 or o.status < 0
        ]
        assert server_errors == [], server_errors[:5]
        wrong = [
            (o.req.kind, o.status, o.body)
            for o in outcomes
            if o.req.kind in EXPECTED_STATUS and o.status not in EXPECTED_STATUS[o.req.kind]
        ]
        assert wrong == [], wrong[:5]
        leaked = [o.body for o in outcomes if "<class" in str(o.body) or "Traceback" in str(o.body)]
        assert leaked == []
        # every valid body: exactly one post executed, its replay refused by the chain
        by_body: dict[int, list[loadgen.Outcome]] = defaultdict(list)
        for o in outcomes:
            if o.req.kind == "open":
                by_body[o.req.body_id].append(o)
        assert len(by_body) == USERS * OPENS_PER_USER
        quote_ids = []
        with httpx.Client(base_url=served.base, timeout=30) as http:
            for body_id, posts in sorted(by_body.items()):
                statuses = Counter(o.status for o in posts)
                assert statuses[200] == 1 and statuses[422] == 1, (body_id, statuses)
                temp = next(o.body["temp_quote_id"] for o in posts if o.status == 200)
                status = http.get(f"/solver/api/temp_quote_status/{temp}").json()
                assert status["state"] == OPENED, status
                quote_ids.append(status["quote_id"])
        assert sorted(quote_ids) == list(range(1, USERS * OPENS_PER_USER + 1)), quote_ids
        growth = rss_after - rss_before
        assert growth < MAX_RSS_GROWTH, (
            f"the server grew by {growth / 2**20:.0f} MiB in {seconds:.0f} s"
        )


def test_a_timed_section_freezes_the_measuring_heap_and_gives_it_back() -> None:
    import gc

    before = gc.get_freeze_count()
    with loadgen.frozen_heap():
        assert gc.get_freeze_count() > before, "the heap built before timing is frozen"
    assert gc.get_freeze_count() == 0, "and unfrozen after"
