"""`validate --deployment NAME`: judged against a real deployment of the registry; a body signed
for another deployment's InstantLayer, a retired layer or another chain's COH wallet is named with
the deployment it belongs to (real-world.md §1)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

from harness import deployments, eip712
from harness.context import deployment_context
from harness.model import Domain
from harness.report import validate_command
from harness.validator.engine import Options, Validator

from .corpus import generate as g

ARBITRUM, BASE = deployments.ARBITRUM, deployments.BASE


def _judge(body: object, context=g.FULL) -> dict[str, str]:
    validator = Validator(Options(context=context, now=g.NOW))
    result = validator.validate_body(body)
    return {f.rule: f.message for f in result.findings}


def _signed_for(chain_id: int, layer: str) -> list:
    return g.close_json(g.resign_for(g.close_op(), eip712.instant_layer_domain(chain_id, layer)))


def test_a_close_signed_for_arbitrums_layer_is_named_with_its_deployment() -> None:
    found = _judge(_signed_for(ARBITRUM.chain_id, ARBITRUM.instant_layer))  # type: ignore[arg-type]
    assert set(found) == {"deployment.other-layer"}, found
    message = found["deployment.other-layer"]
    assert f"arbitrum's InstantLayer {ARBITRUM.instant_layer} (chain 42161)" in message, message


def test_the_control_signed_for_the_contexts_layer_is_not_named() -> None:
    assert _judge(g.close_json(g.close_op())) == {}


def test_a_retired_registry_layer_is_named_retired_with_its_replacement() -> None:
    retired = ARBITRUM.retired[0]
    found = _judge(_signed_for(ARBITRUM.chain_id, retired.address))  # type: ignore[arg-type]
    message = found["deployment.other-layer"]
    assert f"{retired.address} (chain 42161, retired (replaced by {ARBITRUM.instant_layer}))" in (
        message
    ), message


def test_the_same_layer_at_the_contexts_chain_id_names_the_other_chain() -> None:
    found = _judge(_signed_for(g.FULL.chain_id, BASE.instant_layer))  # type: ignore[arg-type]
    message = found["deployment.other-layer"]
    assert f"base's InstantLayer {BASE.instant_layer} (chain {g.FULL.chain_id}, not base's)" in (
        message
    ), message


def test_a_tpsl_signed_for_arbitrums_coh_wallet_names_it_on_another_deployment() -> None:
    wallet = ARBITRUM.coh.wallet  # type: ignore[union-attr]
    order = g.tpsl_request(Domain("SymmioConditionalOrder", "1", 42161, wallet))
    found = _judge(g.tpsl_json(order))
    assert f"({wallet} is the COH wallet of arbitrum, chain 42161)" in found["tpsl.domain"]


def test_the_registry_context_of_arbitrum_carries_its_coh_domain_and_retired_layers() -> None:
    ctx = deployment_context(ARBITRUM)
    assert (ctx.chain_id, ctx.instant_layer, ctx.contracts_version) == (
        42161,
        ARBITRUM.instant_layer,
        "0.8.6",
    )
    assert ctx.tpsl_domain() == Domain(
        "SymmioConditionalOrder",
        "1",
        42161,
        ARBITRUM.coh.wallet,  # type: ignore[union-attr]
    )
    assert ctx.retired_instant_layers == tuple(a.address for a in ARBITRUM.retired)


def _run(tmp_path: Path, body: object, *args: str, **kw: object) -> tuple[int, str, str]:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    out, err = io.StringIO(), io.StringIO()
    code = validate_command([str(path)], now=g.NOW, out=out, err=err, **kw)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_validate_deployment_judges_against_the_registry_without_a_context(tmp_path) -> None:
    body = _signed_for(BASE.chain_id, BASE.instant_layer)  # type: ignore[arg-type]
    code, out, err = _run(tmp_path, body, deployment="arbitrum")
    assert code == 1 and "deployment.other-layer" in out and "base's InstantLayer" in out, out
    assert "no context" not in err, err


def test_validate_deployment_refuses_a_context_of_another_version(tmp_path) -> None:
    ctx = tmp_path / "ctx.json"
    ctx.write_text(json.dumps(replace(g.FULL, contracts_version="0.8.5").to_json()))
    code, _, err = _run(
        tmp_path, g.close_json(g.close_op()), deployment="arbitrum", context_file=str(ctx)
    )
    assert code == 2
    assert "the context says contracts_version 0.8.5, --deployment arbitrum is v0.8.6" in err


def test_validate_deployment_names_an_unknown_or_local_deployment(tmp_path) -> None:
    for name, words in (("optimism", "unknown deployment 'optimism'"), ("local", "no addresses")):
        code, _, err = _run(tmp_path, g.close_json(g.close_op()), deployment=name)
        assert code == 2 and words in err, err
