"""Validator throughput: validated signed operations per second, beside the raw recover floor.

The corpus is a trading session's worth of valid bodies (each trade an instant_open of two
operations and an instant_close of one), built with the flow builders and validated from JSON
text through the CLI's own batch path (`validate_sources`, with `jobs` 1 and 2), and one body at
a time through `Validator.validate_bytes` as the services do: strict wire reading, EIP-712
digest, signature checks and recovery, calldata decoding and every rule of the catalogue, with a
full context.

A v0.8.6 corpus is measured beside it (a context with `contracts_version` 0.8.6: the capped
open with the symbol's minimum SolverFeeCaps, the close, and an owner-signed grant operation
every tenth trade), one core, with its own recover floor on its own operations.

Targets: >= 9,000 validated ops/s on one core and >= 0.45 of the coincurve recover floor on the
same ops (v0.8.6: its ratio at or above v0.8.5's); `--jobs 2` >= 1.8x one core (measured with
its process start-up included, beside the same run's 2-process scaling of a pure-CPU loop: the
2 cores are shared, so the machine's own scaling bounds what a pool can show); a one-file
`symmio-harness validate` starts in <= 0.4 s (best of 5, beside the bare interpreter's start).
Every other figure is the best of the same alternating rounds.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal

from coincurve import PublicKey

from harness import eip712, flow, wire
from harness.addresses import sub_account_address, virtual_account_address
from harness.context import Context, Symbol
from harness.inputs import Source
from harness.keys import LocalKey
from harness.pricing import LockedParamsPct
from harness.primitives import keccak
from harness.validator.engine import Options, Validator, validate_sources

KEY = LocalKey("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
#: the account owner of the v0.8.6 corpus: signs its grant operations (a benchmark-only key)
OWNER = LocalKey(keccak(b"bench account owner"))
DEADLINE = 4102444800
NOW = 1767225600
SYMBOL = Symbol(1, "BTCUSDT", 1, 3)
SYMBOL_V086 = Symbol(1, "BTCUSDT", 1, 3, Decimal("0.0006"), Decimal("0.0004"))
#: a grant operation every this many trades in the v0.8.6 corpus
GRANT_EVERY = 10


def _address(label: str) -> str:
    return wire.eip55("0x" + keccak(label.encode())[12:].hex())


def _context() -> Context:
    affiliate = _address("bench affiliate")
    sub = sub_account_address(affiliate, _address("bench user"), 1)
    return Context(
        chain_id=999,
        instant_layer=_address("bench InstantLayer"),
        account_layer=_address("bench AccountLayer"),
        symmio_core=_address("bench SymmioCore"),
        hedger=_address("bench hedger"),
        affiliate=affiliate,
        sub_account=sub,
        virtual_account=virtual_account_address(sub, 1),
        session_key=KEY.address,
        symbols=(SYMBOL,),
    )


def _context_v086() -> Context:
    """The same deployment judged as v0.8.6: its symbol serves minimum fee caps, its owner signs
    grant operations."""
    return replace(
        _context(), contracts_version="0.8.6", symbols=(SYMBOL_V086,), owner=OWNER.address
    )


def corpus(context: Context, n_ops: int) -> list[tuple[str, bytes, int]]:
    """(kind, JSON body, number of ops) until `n_ops` operations: open, close, open, close...;
    on a v0.8.6 context also a grant operation every `GRANT_EVERY` trades."""
    locked = LockedParamsPct(Decimal("1.5"), Decimal("0.5"), Decimal("2"), Decimal("1"), 10)
    symbol = context.symbol(SYMBOL.id) or SYMBOL
    grants = context.generation.grants_as_operations
    bodies: list[tuple[str, bytes, int]] = []
    ops, trade = 0, 0
    while ops < n_ops:
        trade += 1
        qty = Decimal(trade % 900 + 1) / 1000
        if grants and trade % GRANT_EVERY == 1:
            info = flow.session_key_delegation(
                context.sub_account,  # type: ignore[arg-type]
                KEY.address,
                DEADLINE,
                context.generation,
            )
            grant = flow.grant_operation(context, OWNER, info, deadline=DEADLINE)
            data = json.dumps(wire.wrapped_operation_to_wire(grant)).encode()
            bodies.append(("grant_operation", data, 1))
            ops += 1
        plan = flow.build_instant_open(
            context,
            KEY,
            sub_account=context.sub_account,  # type: ignore[arg-type]
            symbol=symbol,
            side="long" if trade % 2 else "short",
            quantity=qty,
            leverage=10,
            mark_price="65000.5",
            locked_params=locked,
            trading_fee="0.0006",
            deadline=DEADLINE,
            quote_uuid=f"00000000-0000-4000-8000-{trade:012d}",
            sub_isolation_type=2,
        )
        bodies.append(
            ("instant_open", json.dumps(wire.instant_open_to_wire(plan.body)).encode(), 2)
        )
        close = flow.build_instant_close(
            context,
            KEY,
            virtual_account=context.virtual_account,  # type: ignore[arg-type]
            quote_id=trade,
            symbol=symbol,
            side="long",
            quantity=qty,
            mark_price="65000.5",
            deadline=DEADLINE,
        )
        bodies.append(
            ("instant_close", json.dumps(wire.instant_close_to_wire(close.body)).encode(), 1)
        )
        ops += 3
    return bodies


def _recover_inputs(
    context: Context, bodies: list[tuple[str, bytes, int]]
) -> list[tuple[bytes, bytes]]:
    domain = eip712.instant_layer_domain(context.chain_id, context.instant_layer)
    out = []
    for kind, data, _ in bodies:
        body = json.loads(data)
        wrapped = (
            [body["addMargin"], body["sendQuote"]]
            if kind == "instant_open"
            else [body]
            if kind == "grant_operation"
            else body
        )
        for item in wrapped:
            op = wire.wrapped_operation_from_wire(item)
            sig = op.signature
            out.append(
                (eip712.digest(domain, op.signed_operation), sig[:64] + bytes([sig[64] - 27]))
            )
    return out


def _burn(n: int) -> int:
    x = 0
    for i in range(n):
        x += i * i
    return x


def _machine_scaling(jobs: int, n: int) -> float:
    """How much faster `jobs` processes finish `jobs` pure-CPU loops than one process does."""
    start = time.perf_counter()
    for _ in range(jobs):
        _burn(n)
    one = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_burn, [n] * jobs))
    return one / (time.perf_counter() - start)


def _verdicts(options: Options, sources: list[Source]) -> None:
    validate_sources(sources, options, jobs=1)  # the one-core path, in each process


def _workload_scaling(options: Options, sources: list[Source], jobs: int) -> float | None:
    """How much faster `jobs` forked processes, each validating its share of the corpus with no
    pool, no pickling and no results sent back, finish than one process: this workload's own
    scaling on this machine, the bound for `--jobs`. None where processes cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    start = time.perf_counter()
    _verdicts(options, sources)
    one = time.perf_counter() - start
    fork = multiprocessing.get_context("fork")
    share = -(-len(sources) // jobs)
    start = time.perf_counter()
    workers = [
        fork.Process(target=_verdicts, args=(options, sources[i : i + share]))
        for i in range(0, len(sources), share)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return one / (time.perf_counter() - start)


def _start_up(context: Context, body: bytes, runs: int) -> tuple[float, float]:
    """(best wall time of a one-file `symmio-harness validate`, of a bare `python -c pass`)."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx_file, body_file = os.path.join(tmp, "context.json"), os.path.join(tmp, "body.json")
        with open(ctx_file, "w") as f:
            json.dump(context.to_json(), f)
        with open(body_file, "wb") as f:
            f.write(body)
        command = [
            sys.executable,
            "-c",
            "from harness.cli import main; main()",
            "validate",
            "--context",
            ctx_file,
            "--now",
            str(NOW),
            body_file,
        ]

        def best(cmd: list[str]) -> float:
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                times.append(time.perf_counter() - start)
            return min(times)

        return best(command), best([sys.executable, "-c", "pass"])


def run(quick: bool) -> list[dict]:
    n_ops = 1_000 if quick else 10_000
    context = _context()
    bodies = corpus(context, n_ops)
    total_ops = sum(n for _, _, n in bodies)
    options = Options(context=context, now=NOW)

    validator = Validator(options)
    for kind, data, _ in bodies[:20]:  # warm the codec and checksum caches, as a running CLI has
        validator.validate_bytes(data, kind=kind)
    pairs = _recover_inputs(context, bodies)
    # the v0.8.6 corpus is built before anything is timed and timed in the same rounds: a
    # corpus built between timings leaves the collector a heap the other side never had
    v086 = _v086_corpus(n_ops)
    jobs = min(2, os.cpu_count() or 1)
    sources = [Source(f"body {i}", data, kind) for i, (kind, data, _) in enumerate(bodies)]
    # Rounds alternate the measurements of a kind and keep the best of each (the most the
    # machine gave in this run): the cores are shared, and a burst of other load should not land
    # on one side of a ratio only. The one-core figures are measured first, then the
    # multi-process ones (whose bursts on both cores slow what runs next), each ratio from one
    # set of rounds: --jobs against one core timed in the same rounds. The pool's start-up is
    # inside each of its rounds.
    rounds = 1 if quick else 5
    one_core = typed = floor = multi = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        results = validate_sources(sources, options, jobs=1)
        one_core = min(one_core, time.perf_counter() - start)
        start = time.perf_counter()
        for kind, data, _ in bodies:
            validator.validate_bytes(data, kind=kind)  # one body at a time, typed value kept
        typed = min(typed, time.perf_counter() - start)
        start = time.perf_counter()
        for digest, sig in pairs:
            PublicKey.from_signature_and_message(sig, digest, hasher=None)
        floor = min(floor, time.perf_counter() - start)
        _v086_round(v086)
    scaling = workload = 0.0
    beside = float("inf")  # one core again, in the multi-process rounds' conditions
    for _ in range(rounds):
        start = time.perf_counter()
        validate_sources(sources, options, jobs=1)
        beside = min(beside, time.perf_counter() - start)
        start = time.perf_counter()
        parallel = validate_sources(sources, options, jobs=jobs)
        multi = min(multi, time.perf_counter() - start)
        assert len(parallel) == len(bodies)
        scaling = max(scaling, _machine_scaling(jobs, 300_000 if quick else 3_000_000))
        workload = max(workload, _workload_scaling(options, sources, jobs) or 0.0)
    failed = sum(1 for r in results if r.findings)

    rate, floor_rate, multi_rate = total_ops / one_core, len(pairs) / floor, total_ops / multi
    typed_rate = total_ops / typed
    start_up, bare = _start_up(context, bodies[0][1], 2 if quick else 5)
    note = f"{total_ops:,} valid ops ({len(bodies):,} bodies) from JSON text, full context"
    if failed:
        note += f"; {failed} bodies did NOT pass (benchmark corpus is wrong)"
    return [
        {
            "benchmark": "validate: signed ops/s, one core",
            "value": round(rate),
            "unit": "ops/s",
            "note": note + "; target >= 9,000",
        },
        {
            "benchmark": "coincurve recover floor, same ops",
            "value": round(floor_rate),
            "unit": "ops/s",
            "note": "PublicKey.from_signature_and_message only (best of the same rounds)",
        },
        {
            "benchmark": "validate / recover floor",
            "value": rate / floor_rate,
            "unit": "x",
            "note": "share of the curve floor the full rule set keeps; target >= 0.45",
        },
        {
            "benchmark": "Validator.validate_bytes: signed ops/s",
            "value": round(typed_rate),
            "unit": "ops/s",
            "note": "one body at a time with its typed body and decoded calls (the services' "
            "path; the figures above are the CLI's batch, verdicts only)",
        },
        {
            "benchmark": "validate_bytes / recover floor",
            "value": typed_rate / floor_rate,
            "unit": "x",
            "note": "the same share for the services' path",
        },
        {
            "benchmark": f"validate --jobs {jobs}: signed ops/s",
            "value": round(multi_rate),
            "unit": "ops/s",
            "note": "process pool, start-up included (best of the same rounds)",
        },
        {
            "benchmark": f"--jobs {jobs} speedup",
            "value": beside / multi,
            "unit": "x",
            "note": f"vs one core timed in the same rounds ({total_ops / beside:,.0f} ops/s); "
            "target >= 1.8x",
        },
        {
            "benchmark": f"{jobs}-process scaling of a CPU loop",
            "value": scaling,
            "unit": "x",
            "note": "the machine's own parallelism in this run, best of the same rounds (other "
            "load shares the cores)",
        },
        {
            "benchmark": f"{jobs}-process scaling of this workload",
            "value": workload,
            "unit": "x",
            "note": "the corpus split over forked processes, no pool (best of the same rounds): "
            "what --jobs can reach on this machine",
        },
        {
            "benchmark": "validate start-up, one file",
            "value": round(start_up, 3),
            "unit": "s",
            "note": f"best of runs, context + one body; target <= 0.4 s (bare python {bare:.3f} s)",
        },
        *_v086_rows(v086),
    ]


@dataclass
class _V086:
    """The v0.8.6 corpus, built before any round is timed, and its best timings."""

    bodies: list[tuple[str, bytes, int]]
    options: Options
    sources: list[Source]
    pairs: list[tuple[bytes, bytes]]
    one_core: float = float("inf")
    floor: float = float("inf")
    results: list = field(default_factory=list)


def _v086_corpus(n_ops: int) -> _V086:
    context = _context_v086()
    bodies = corpus(context, n_ops)
    options = Options(context=context, now=NOW)
    sources = [Source(f"v086 body {i}", data, kind) for i, (kind, data, _) in enumerate(bodies)]
    validate_sources(sources[:20], options, jobs=1)  # warm, as the v0.8.5 rounds are
    return _V086(bodies, options, sources, _recover_inputs(context, bodies))


def _v086_round(c: _V086) -> None:
    """One v0.8.6 round (validate, then its recover floor), in the v0.8.5 rounds' turn."""
    start = time.perf_counter()
    c.results = validate_sources(c.sources, c.options, jobs=1)
    c.one_core = min(c.one_core, time.perf_counter() - start)
    start = time.perf_counter()
    for digest, sig in c.pairs:
        PublicKey.from_signature_and_message(sig, digest, hasher=None)
    c.floor = min(c.floor, time.perf_counter() - start)


def _v086_rows(c: _V086) -> list[dict]:
    """The v0.8.6 corpus, one core, beside the recover floor of its own operations (best of the
    same alternating rounds as the v0.8.5 figures)."""
    bodies, results, pairs = c.bodies, c.results, c.pairs
    total_ops = sum(n for _, _, n in bodies)
    one_core, floor = c.one_core, c.floor
    failed = sum(1 for r in results if r.findings)
    grants = sum(1 for kind, _, _ in bodies if kind == "grant_operation")
    note = (
        f"{total_ops:,} valid v0.8.6 ops ({len(bodies):,} bodies: capped opens, closes, "
        f"{grants} grant operations) from JSON text, contracts_version 0.8.6"
    )
    if failed:
        note += f"; {failed} bodies did NOT pass (benchmark corpus is wrong)"
    rate, floor_rate = total_ops / one_core, len(pairs) / floor
    return [
        {
            "benchmark": "validate v0.8.6: signed ops/s, one core",
            "value": round(rate),
            "unit": "ops/s",
            "note": note,
        },
        {
            "benchmark": "coincurve recover floor, v0.8.6 ops",
            "value": round(floor_rate),
            "unit": "ops/s",
            "note": "PublicKey.from_signature_and_message only (best of the same rounds)",
        },
        {
            "benchmark": "validate v0.8.6 / recover floor",
            "value": rate / floor_rate,
            "unit": "x",
            "note": "the v0.8.6 rule set's share of the curve floor; target: at or above "
            "v0.8.5's (issue 17 §6: 0.55 on a 2-core machine)",
        },
    ]


if __name__ == "__main__":
    for row in run(quick=False):
        print(row)
