"""Secrets never leave the process unless asked; the demo's recorded bodies are canonical."""

from __future__ import annotations

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from harness import keys, wire
from harness.cli import app
from harness.context import load_context
from harness.errors import HarnessError
from harness.keys import LocalKey


def test_local_key_repr_hides_the_private_key() -> None:
    key = LocalKey(b"\x07" * 32)
    assert "07070707" not in repr(key) and "07070707" not in str(key)
    assert key.address in repr(key)


def test_secret_file_is_0600_even_when_it_existed(tmp_path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    keys.write_secret_file(path, {"session_key": "0x" + "07" * 32})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_demo_records_canonical_bodies_and_never_prints_keys(tmp_path, monkeypatch) -> None:
    generated: list[LocalKey] = []
    original = LocalKey.generate.__func__

    def spy(cls):
        key = original(cls)
        generated.append(key)
        return key

    monkeypatch.setattr(LocalKey, "generate", classmethod(spy))
    result = CliRunner().invoke(app, ["demo", "--record", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(generated) == 4, "a user key, a session key, a TP/SL bot key and a hedger key"
    secrets_hex = [k.export_private_key()[2:] for k in generated]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "01-instant_open.json",
        "02-instant_close.json",
        "03-tpsl.json",
        "context.json",
    ]
    for secret in secrets_hex:
        assert secret not in result.output
        for path in tmp_path.iterdir():
            assert secret not in path.read_text(), f"private key written to {path.name}"
    context = load_context(tmp_path / "context.json")
    assert context.session_key == generated[1].address
    # the context names the deployment the lifecycle really ran on
    assert context.chain_id == 131277322940537  # eth-tester's chain id
    assert context.virtual_account in result.output and context.instant_layer in result.output
    assert "quote 1 CLOSED" in result.output
    assert "blocks used by the open: 1 " in result.output
    wire.instant_open_from_wire(json.loads((tmp_path / "01-instant_open.json").read_text()))
    wire.instant_close_from_wire(json.loads((tmp_path / "02-instant_close.json").read_text()))
    tpsl = wire.tpsl_from_wire(json.loads((tmp_path / "03-tpsl.json").read_text()))
    assert tpsl.domain == context.tpsl_domain()


def test_demo_reports_an_unwritable_record_dir(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(app, ["demo", "--record", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "cannot write the record directory" in result.output
    assert "Traceback" not in result.output


def test_a_demo_record_validates_on_its_own_with_every_rule_checked(tmp_path) -> None:
    """`demo --record DIR` then `validate --strict DIR/`: the folder's own context.json is used
    and it holds every key a rule needs, so nothing is left unchecked."""
    demo = CliRunner().invoke(app, ["demo", "--record", str(tmp_path)])
    assert demo.exit_code == 0, demo.output
    context = load_context(tmp_path / "context.json")
    assert context.mark_prices and context.coh_limits and context.open_quantities
    assert context.retired_instant_layers == () and context.gasless_gateway == "0x" + "00" * 20
    result = CliRunner().invoke(app, ["validate", "--strict", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "3 inputs: 3 passed" in result.stdout
    assert "not checked" not in result.output, result.output


def test_secret_file_refuses_a_symlink_and_leaves_its_target_untouched(tmp_path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("keep me")
    os.chmod(other, 0o644)
    link = tmp_path / "state.json"
    link.symlink_to(other)
    with pytest.raises(HarnessError) as raised:
        keys.write_secret_file(link, {"session_key": "0x" + "07" * 32})
    assert str(link) in str(raised.value), f"the error does not name the path: {raised.value}"
    assert other.read_text() == "keep me", "the symlink's target was written"
    assert stat.S_IMODE(other.stat().st_mode) == 0o644, "the symlink's target was chmod-ed"
    assert link.is_symlink(), "the symlink was replaced"


def test_the_demo_reproduces_arbitrum_v086_and_its_record_validates_strictly(tmp_path) -> None:
    """`demo --deployment arbitrum`: the v0.8.6 mocks, the delegations as one owner-signed
    grant operation relayed by the GaslessLayer, the capped open; the record (grant operation
    included) validates under its own v0.8.6 context with every rule checked."""
    demo = CliRunner().invoke(app, ["demo", "--deployment", "arbitrum", "--record", str(tmp_path)])
    assert demo.exit_code == 0, demo.output
    assert "deployment profile arbitrum" in demo.output
    assert "relayWalletBatch(grantDelegations)" in demo.output
    assert "sendQuote 0x0ac30baf with SolverFeeCaps (open / close) 0.0006 / 0.0006" in demo.output
    assert "quote 1 CLOSED" in demo.output
    context = load_context(tmp_path / "context.json")
    assert context.contracts_version == "0.8.6" and context.owner and context.gasless_layer
    result = CliRunner().invoke(app, ["validate", "--strict", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "4 inputs: 4 passed" in result.stdout and "0 warning(s)" in result.stdout
    assert "not checked" not in result.output, result.output


def test_the_demo_reproduces_base_through_rasas_routes_without_a_coh(tmp_path) -> None:
    """`demo --deployment base`: v0.8.5 through Rasa's published routes (the quote id from its
    position-state websocket), no TP/SL step (Base has no COH); the record validates."""
    demo = CliRunner().invoke(app, ["demo", "--deployment", "base", "--record", str(tmp_path)])
    assert demo.exit_code == 0, demo.output
    assert "deployment profile base" in demo.output and "mock rasa solver" in demo.output
    assert "POST /instant_trade/open -> temp_quote_id" in demo.output
    assert "no TP/SL: base has no COH" in demo.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["01-instant_open.json", "02-instant_close.json", "context.json"], names
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 inputs: 2 passed" in result.stdout and "0 warning(s)" in result.stdout
