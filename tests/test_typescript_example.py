"""examples/typescript: the TypeScript example builds exactly the bodies harness.flow builds.

The test builds instant_open (long and short), instant_close and TP/SL bodies with harness.flow
from fixed inputs (fixed salts, uuid and a public anvil dev key as the session key), writes them
with their EIP-712 digests (harness.eip712) to a JSON vector, and runs
`node examples/typescript/selfcheck.mjs VECTOR`, which rebuilds every body from the same inputs
with ethers v6 and compares bodies, signatures and digests, and checks the bodies with ajv
against schemas/. Against `serve --chain anvil` (port 0, the URL read from the banner):
flow.mjs runs steps 1-8, and sdk_shaped.mjs runs what the official Trading-SDK sends (generic and
Enigma instantOpen, the {operations} close, setQuoteTpSl, deleteQuoteTpSl) and records its
bodies, which `symmio-harness validate` must pass with no warning. Skipped (with the fix) when
node or the example's node_modules are absent, the server tests also without anvil;
`.ci/run` installs them and sets SYMMIO_REQUIRE_NODE / SYMMIO_REQUIRE_ANVIL so CI cannot skip.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from harness import calldata, eip712, upnl_sig, wire
from harness.anvil import AnvilError, dev_accounts, rpc_call
from harness.context import load_context
from harness.flow import build_instant_close, build_instant_open, build_tpsl
from harness.keys import LocalKey
from harness.pricing import LockedParamsPct
from harness.primitives import keccak

from .anvil_needed import needs_anvil
from .node_needed import EXAMPLE, NODE, REPO, needs_node

pytestmark = [pytest.mark.subprocess, needs_node]

DEADLINE = 4102444800
LOCKED = {"cva": "2", "lf": "1", "partyAmm": "5", "partyBmm": "0", "leverage": "10"}


def _vector() -> dict:
    context = load_context(REPO / "fixtures" / "contexts" / "full.json")
    symbol = context.symbol(1)
    assert symbol is not None
    key_hex = dev_accounts(2)[1].private_key  # anvil's public dev key 1: test use only
    key = LocalKey(key_hex)
    cases = []
    for side, mark in (("long", "65000.5"), ("short", "64999.9")):
        inputs = {
            "sub_account": context.sub_account,
            "symbol_id": 1,
            "side": side,
            "quantity": "0.015",
            "leverage": 10,
            "mark_price": mark,
            "locked_params": LOCKED,
            "trading_fee": "0.0006",
            "deadline": DEADLINE,
            "slippage_pct": "5",
            "uuid": "8b7e1f0a-0c52-4d5e-9a41-3f2b6c1d9e07",
            "salts": ["0x" + keccak(f"open {side} {i}".encode()).hex() for i in (0, 1)],
        }
        plan = build_instant_open(
            context,
            key,
            sub_account=context.sub_account,
            symbol=symbol,
            side=side,
            quantity=Decimal(inputs["quantity"]),
            leverage=10,
            mark_price=Decimal(mark),
            locked_params=LockedParamsPct.from_response(LOCKED),
            trading_fee=Decimal("0.0006"),
            deadline=DEADLINE,
            slippage_pct=Decimal("5"),
            quote_uuid=inputs["uuid"],
            salts=tuple(bytes.fromhex(s[2:]) for s in inputs["salts"]),
        )
        domain = eip712.instant_layer_domain(context.chain_id, context.instant_layer)
        ops = (plan.body.add_margin, plan.body.send_quote)
        cases.append(
            {
                "name": f"instant_open {side}",
                "kind": "instant_open",
                "inputs": inputs,
                "body": wire.instant_open_to_wire(plan.body),
                "digests": ["0x" + eip712.digest(domain, o.signed_operation).hex() for o in ops],
            }
        )
        close_inputs = {
            "virtual_account": context.virtual_account,
            "quote_id": 7,
            "symbol_id": 1,
            "side": side,
            "quantity": "0.010",
            "mark_price": mark,
            "deadline": DEADLINE,
            "slippage_pct": "2.5",
            "salt": "0x" + keccak(f"close {side}".encode()).hex(),
        }
        close = build_instant_close(
            context,
            key,
            virtual_account=context.virtual_account,
            quote_id=7,
            symbol=symbol,
            side=side,
            quantity=Decimal("0.010"),
            mark_price=Decimal(mark),
            deadline=DEADLINE,
            slippage_pct=Decimal("2.5"),
            salt=bytes.fromhex(close_inputs["salt"][2:]),
        )
        op = close.body.operations[0].signed_operation
        cases.append(
            {
                "name": f"instant_close {side}",
                "kind": "instant_close",
                "inputs": close_inputs,
                "body": wire.instant_close_to_wire(close.body),
                "digests": ["0x" + eip712.digest(domain, op).hex()],
            }
        )
        tpsl_domain = context.tpsl_domain()
        tp, sl = ("68250", "61750.4") if side == "long" else ("61750.4", "68250")
        tpsl_inputs = {
            "domain": tpsl_domain.as_dict(),
            "sub_account": context.sub_account,
            "virtual_account": context.virtual_account,
            "affiliate": context.affiliate,
            "quote_id": 7,
            "symbol_id": 1,
            "side": side,
            "quantity": "0.005",
            "mark_price": mark,
            "take_profit": tp,
            "stop_loss": sl if side == "long" else None,
            "salt": str(int.from_bytes(keccak(f"tpsl {side}".encode()))),
        }
        request = build_tpsl(
            tpsl_domain,
            key,
            sub_account=context.sub_account,
            virtual_account=context.virtual_account,
            affiliate=context.affiliate,
            quote_id=7,
            symbol=symbol,
            side=side,
            quantity=Decimal("0.005"),
            mark_price=Decimal(mark),
            take_profit=Decimal(tp),
            stop_loss=Decimal(sl) if side == "long" else None,
            salt=int(tpsl_inputs["salt"]),
        )
        cases.append(
            {
                "name": f"tpsl {side}",
                "kind": "tpsl",
                "inputs": tpsl_inputs,
                "body": wire.tpsl_to_wire(request),
                "digests": ["0x" + eip712.digest(tpsl_domain, request.order).hex()],
            }
        )
    return {
        "session_key": key_hex,
        "context": context.to_json(),
        "types": {
            "SignedOperation": eip712.eip712_types("SignedOperation"),
            "ConditionalOrder": eip712.eip712_types("ConditionalOrder"),
        },
        "cases": cases,
    }


def _run(vector_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NODE, str(EXAMPLE / "selfcheck.mjs"), str(vector_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_typescript_bodies_signatures_and_digests_equal_pythons(tmp_path: Path) -> None:
    vector = tmp_path / "vector.json"
    vector.write_text(json.dumps(_vector(), indent=2))
    done = _run(vector)
    assert done.returncode == 0, f"selfcheck failed:\n{done.stderr}{done.stdout}"
    assert "6 cases" in done.stdout, done.stdout


def test_selfcheck_fails_and_names_the_path_when_python_differs(tmp_path: Path) -> None:
    data = _vector()
    data["cases"][0]["body"]["sendQuote"]["signedOperation"]["maxUses"] = "2"
    vector = tmp_path / "vector.json"
    vector.write_text(json.dumps(data))
    done = _run(vector)
    assert done.returncode == 1, f"a changed body went unnoticed: {done.stdout}{done.stderr}"
    assert "$.sendQuote.signedOperation.maxUses" in done.stderr, done.stderr


# ------------------------------------------------------------------ steps 1-8 against serve


def _cli() -> str:
    return str(Path(sys.executable).parent / "symmio-harness")


def validate_recorded(record: Path, names: list[str], kind: str = "auto") -> list[dict]:
    """The `symmio-harness validate --format json` verdicts on the recorded bodies `names`,
    judged with the record's own context as `kind`; the run must exit 0."""
    checked = subprocess.run(
        [_cli(), "validate", "--format", "json", "--kind", kind]
        + ["--context", str(record / "context.json")]
        + [str(record / name) for name in names],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, f"validate failed:\n{checked.stdout}{checked.stderr}"
    results = json.loads(checked.stdout)["results"]
    assert len(results) == len(names), checked.stdout
    return results


def unclean(results: list[dict]) -> dict[str, object]:
    """Each verdict that is not a pass without violations and warnings, by file name."""
    return {
        Path(r["file"]).name: (r["verdict"], r["violations"], r["warnings"])
        for r in results
        if r["verdict"] != "pass" or r["violations"] or r["warnings"]
    }


def _serve_offers_anvil() -> bool:
    done = subprocess.run(
        [_cli(), "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    return "--chain" in done.stdout


def _answers(url: str) -> bool:
    try:
        rpc_call(url, "eth_chainId", timeout=1.0)
    except (OSError, AnvilError, ValueError):
        return False
    return True


@contextmanager
def _serve_chain_anvil(tmp_path: Path, *extra: str) -> Iterator[tuple[str, str]]:
    """`serve --chain anvil --port 0` (the tests using it carry `needs_anvil`), plus `extra`
    options (e.g. `--deployment arbitrum`); yields its base URL (the banner's first line)
    and the JSON-RPC URL; SIGTERM on the way out."""
    if not _serve_offers_anvil():
        pytest.skip("`symmio-harness serve` has no --chain option yet (issue 8: wired by the lead)")
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(  # port 0: serve binds a port of its own and prints its URL
        [_cli(), "serve", "--chain", "anvil", "--port", "0", *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            printed = (tmp_path / "serve.log").read_text()
            assert server.poll() is None, f"serve exited: {printed}"
            assert time.monotonic() < deadline, "serve --chain anvil did not start within 120 s"
            if "\ncontext file: " in printed:
                break
            time.sleep(0.2)
        base = printed.splitlines()[0].rsplit(" ", 1)[1]  # the banner's first line: its URL
        rpc_url = httpx.get(f"{base}/context", timeout=10).json()["rpc_url"]
        yield base, rpc_url
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        finally:
            server.kill()
            log.close()


@needs_anvil
@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.slow
def test_flow_runs_steps_1_to_8_against_serve_chain_anvil(tmp_path: Path) -> None:
    with _serve_chain_anvil(tmp_path) as (base, rpc_url):
        done = subprocess.run(
            [NODE, str(EXAMPLE / "flow.mjs"), base],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"flow.mjs failed:\n{done.stdout}{done.stderr}"
        assert "steps 1-8 done" in done.stdout, done.stdout
    end = time.monotonic() + 15
    while _answers(rpc_url) and time.monotonic() < end:
        time.sleep(0.1)
    assert not _answers(rpc_url), f"anvil at {rpc_url} outlived serve's SIGTERM"


# ------------------------------------------------------------------ the SDK-shaped client

SDK_STEPS = (
    "steps 1-5",
    "open generic",
    "close",
    "open enigma",
    "setQuoteTpSl",
    "deleteQuoteTpSl",
    "setQuoteTpSl tp",
    "tp triggered",
)


@pytest.fixture(scope="module")
def anvil_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `serve --chain anvil` for the SDK-shaped tests (a start costs seconds)."""
    with _serve_chain_anvil(tmp_path_factory.mktemp("serve")) as (base, _):
        yield base


def _sdk_shaped(base: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NODE, str(EXAMPLE / "sdk_shaped.mjs"), base, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


@pytest.fixture(scope="module")
def sdk_shaped_run(
    anvil_serve: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One run of sdk_shaped.mjs, its bodies recorded (shared by the tests below)."""
    record = tmp_path_factory.mktemp("sdk_shaped") / "capture"
    return _sdk_shaped(anvil_serve, "--record", str(record)), record


@needs_anvil
@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.slow
def test_sdk_shaped_client_runs_and_every_body_it_sent_passes_validate(
    sdk_shaped_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """sdk_shaped.mjs sends what the official Trading-SDK sends (generic and Enigma instantOpen,
    the {operations} close, setQuoteTpSl, deleteQuoteTpSl); serve accepts every step without a
    warning and `validate` passes every recorded body with no warning (information is fine)."""
    done, record = sdk_shaped_run
    assert done.returncode == 0, f"sdk_shaped.mjs failed:\n{done.stdout}{done.stderr}"
    printed = [line.split("  ", 1)[0].strip() for line in done.stdout.splitlines()]
    missing = [step for step in SDK_STEPS if step not in printed]
    assert not missing, f"steps not reported: {missing}\n{done.stdout}"
    bodies = sorted(p.name for p in record.glob("[0-9][0-9]-*.json"))
    assert bodies == [
        "01-instant_open.json",
        "02-instant_close.json",
        "03-instant_open.json",
        "04-tpsl.json",
        "05-tpsl.json",
        "06-instant_close.json",
    ], f"recorded bodies: {bodies}"
    results = validate_recorded(record, bodies)
    not_clean = unclean(results)
    assert not not_clean, f"bodies not passing cleanly: {not_clean}"
    # the SDK's own forms were sent (and named as information), not the guide's
    infos = {Path(r["file"]).name: {f["rule"] for f in r["information"]} for r in results}
    for name in bodies:
        if "instant" in name:
            assert "uint.json-number" in infos[name], f"{name}: uints not sent as JSON numbers"
    for name in ("02-instant_close.json", "06-instant_close.json"):
        assert "close.envelope" in infos[name], f"{name}: not sent as {{operations: [...]}}"


def _upnl_regime(body: dict) -> upnl_sig.UpnlSigRegime:
    op = body["sendQuote"]["signedOperation"]
    call = bytes.fromhex(op["callData"][2:])
    sig = calldata.SEND_QUOTE_WITH_AFFILIATE_AND_DATA.decode(call)["upnlSig"]
    return upnl_sig.regime_of(sig, len(op["flexFields"]))


@needs_anvil
@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.slow
def test_sdk_shaped_opens_carry_the_sdk_placeholder_then_the_enigma_flex_field(
    sdk_shaped_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, record = sdk_shaped_run
    assert done.returncode == 0, f"sdk_shaped.mjs failed:\n{done.stdout}{done.stderr}"
    generic = json.loads((record / "01-instant_open.json").read_text())
    enigma = json.loads((record / "03-instant_open.json").read_text())
    context = json.loads((record / "context.json").read_text())
    assert _upnl_regime(generic) is upnl_sig.UpnlSigRegime.SDK_PLACEHOLDER
    assert _upnl_regime(enigma) is upnl_sig.UpnlSigRegime.SDK_FLEX
    (flex,) = enigma["sendQuote"]["signedOperation"]["flexFields"]
    call = bytes.fromhex(enigma["sendQuote"]["signedOperation"]["callData"][2:])
    region = upnl_sig.region(call)
    assert (flex["offset"], flex["length"]) == (region.offset, region.length), (
        f"flex field {flex} is not the upnlSig region {region}"
    )
    assert flex["authorizedFlexFiller"] == context["hedger"], flex
    assert enigma["addMargin"]["signedOperation"]["flexFields"] == [], "addMargin stays fixed"


@needs_anvil
@pytest.mark.anvil
@pytest.mark.server
@pytest.mark.slow
def test_sdk_shaped_failure_is_one_line_naming_the_step_and_the_url(anvil_serve: str) -> None:
    wrong = f"{anvil_serve}/no-such-coh"
    done = _sdk_shaped(anvil_serve, SYMMIO_COH_URL=wrong)
    assert done.returncode == 1, f"exit {done.returncode}:\n{done.stdout}{done.stderr}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {done.stderr}"
    assert lines[0].startswith("setQuoteTpSl: "), lines[0]
    assert f"{wrong}/api/v5/".replace("http", "ws", 1) in lines[0], lines[0]
