"""Digest + recover of a SignedOperation: fast path vs eth-account's generic path vs the floor.

Target (issue 2): >= 5,000 digest+recover per second on one core with the fast path.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from coincurve import PublicKey
from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data

from harness import calldata as cd
from harness import eip712
from harness.model import Account, ReplayAttackHeader, SignedOperation
from harness.signatures import address_of, recover_digest

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ADDR = address_of(KEY)
DOMAIN = eip712.instant_layer_domain(31337, "0x72DBF07457b2712b160F67A85D338F860c1CA620")


def _operations(n: int) -> list[tuple[SignedOperation, bytes]]:
    out = []
    for i in range(n):
        call = cd.REQUEST_TO_CLOSE_POSITION.encode(i + 1, 10**18, 5 * 10**18, 1, 1_900_000_000)
        op = SignedOperation(
            ADDR,
            ADDR,
            call,
            Account(ADDR, False),
            (),
            1,
            ReplayAttackHeader(0, 1_900_000_000, i.to_bytes(32, "big")),
        )
        out.append((op, eip712.sign(DOMAIN, op, KEY)))
    return out


def _rate(fn: Callable[[], None], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def run(quick: bool) -> list[dict]:
    seconds = 0.3 if quick else 2.0
    ops = _operations(64)
    state = {"i": 0}

    def next_op() -> tuple[SignedOperation, bytes]:
        state["i"] = (state["i"] + 1) % len(ops)
        return ops[state["i"]]

    def fast() -> None:
        op, sig = next_op()
        assert recover_digest(eip712.digest(DOMAIN, op), sig) == ADDR

    def generic() -> None:
        op, sig = next_op()
        message = encode_typed_data(full_message=eip712.typed_data(DOMAIN, op))
        assert EthAccount.recover_message(message, signature=sig) == ADDR

    digests = [(eip712.digest(DOMAIN, op), sig) for op, sig in ops]

    def floor() -> None:
        digest, sig = digests[state["i"] % len(digests)]
        state["i"] += 1
        PublicKey.from_signature_and_message(sig[:64] + bytes([sig[64] - 27]), digest, hasher=None)

    fast_rate = _rate(fast, seconds)
    generic_rate = _rate(generic, seconds)
    floor_rate = _rate(floor, seconds)
    return [
        {
            "benchmark": "digest+recover, fast path",
            "value": round(fast_rate),
            "unit": "ops/s",
            "note": "target >= 5,000 ops/s on one core",
        },
        {
            "benchmark": "digest+recover, eth-account generic",
            "value": round(generic_rate),
            "unit": "ops/s",
            "note": "encode_typed_data + recover_message",
        },
        {
            "benchmark": "raw coincurve recover floor",
            "value": round(floor_rate),
            "unit": "ops/s",
            "note": "precomputed digest, no hashing",
        },
        {"benchmark": "fast / generic", "value": fast_rate / generic_rate, "unit": "x", "note": ""},
        {
            "benchmark": "fast / floor",
            "value": fast_rate / floor_rate,
            "unit": "x",
            "note": "share of the floor the fast path reaches",
        },
    ]
