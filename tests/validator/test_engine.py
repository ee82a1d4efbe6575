"""The engine: every defect in one run (other generations included), the typed verdict, the
{addMargin?, sendQuote} shape, a signature made over another type than the one shown."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from harness import eip712, inputs, wire
from harness.model import InstantOpen, WrappedOperation
from harness.validator.engine import Options, Validator

from .corpus import generate as g

DEFECTS = {"account.party-b", "calldata.short", "deadline.expired", "salt.zero"}


def _validator(context=g.FULL) -> Validator:
    return Validator(Options(context=context, now=g.NOW))


def _defective_close() -> WrappedOperation:
    """isPartyB true, empty callData, an expired deadline and a zero salt, signed for the VA."""
    op = g.close_op().signed_operation
    op = replace(
        op,
        call_data=b"",
        signer_account=replace(op.signer_account, is_party_b=True),
        replay_attack_header=replace(op.replay_attack_header, deadline=g.PAST, salt=bytes(32)),
    )
    domain = eip712.instant_layer_domain(g.FULL.chain_id, g.FULL.instant_layer)
    return WrappedOperation(op, g.SESSION.sign_digest(eip712.digest(domain, op)))


def test_a_legacy_5_field_op_is_named_and_still_checked_for_everything_that_applies():
    twin = _defective_close()
    seven = _validator().validate_body(g.close_json(twin))
    assert seven.rule_ids == DEFECTS, [f"{f.rule}: {f.message}" for f in seven.findings]
    legacy = _validator().validate_body([g.legacy_json(twin)])
    assert legacy.rule_ids == DEFECTS | {"op.legacy-5-field"}, [
        f"{f.rule}: {f.message}" for f in legacy.findings
    ]


def test_a_legacy_body_signed_as_its_7_field_twin_says_the_body_dropped_members():
    body = g.legacy_json(g.close_op())
    body["signature"] = g.close_json()[0]["signature"]  # made over the 7-field type
    result = _validator().validate_body([body])
    assert result.rule_ids == {"op.legacy-5-field", "sig.signer"}
    (signer,) = [f for f in result.findings if f.rule == "sig.signer"]
    assert "7-field SignedOperation type (flexFields [], maxUses 1)" in signer.message


def test_a_legacy_op_signed_over_neither_type_fails_its_signer_plainly():
    body = g.legacy_json(g.close_op())
    body["signature"] = "0x" + g.OTHER.sign_digest(bytes(32)).hex()
    result = _validator().validate_body([body])
    assert result.rule_ids == {"op.legacy-5-field", "sig.signer"}
    (signer,) = [f for f in result.findings if f.rule == "sig.signer"]
    assert "the signature is over" not in signer.message


def test_a_7_field_body_signed_over_the_legacy_type_says_so():
    wrapped = g.close_op()
    legacy_sig = g.legacy_json(wrapped)["signature"]
    body = g.close_json()
    body[0]["signature"] = legacy_sig
    result = _validator().validate_body(body)
    (only,) = result.findings
    assert only.rule == "sig.signer"
    assert "the legacy 5-field SignedOperation type" in only.message, only.message


def test_the_verdict_carries_the_typed_body_and_the_decoded_calls():
    body = g.open_json()
    result = _validator().validate_body(body)
    assert result.verdict == "pass" and not result.findings
    assert result.value == wire.instant_open_from_wire(body)
    assert set(result.calls) == {"addMargin", "sendQuote"}
    assert result.calls["sendQuote"]["symbolId"] == g.BTC.id
    assert result.calls["addMargin"]["subAccount"].lower() == g.SUB_ACCOUNT.lower()


def test_an_open_without_add_margin_is_the_documented_shape_with_a_warning():
    body = {"sendQuote": g.open_json()["sendQuote"]}
    result = _validator().validate_body(body)
    assert result.verdict == "pass"
    assert [f.rule for f in result.findings] == ["open.add-margin-absent"]
    assert isinstance(result.value, InstantOpen) and result.value.add_margin is None
    assert wire.instant_open_to_wire(result.value) == body


def test_a_retired_layer_is_only_named_when_the_context_lists_it():
    domain = eip712.instant_layer_domain(g.FULL.chain_id, g.RETIRED_INSTANT_LAYER)
    body = g.close_json(g.resign_for(g.close_op(), domain))
    assert _validator(g.GENERATIONS).validate_body(body).rule_ids == {
        "generation.retired-instant-layer"
    }
    assert _validator(g.FULL).validate_body(body).rule_ids == {"sig.signer"}


def test_severity_comes_from_the_catalogue_only():
    from harness.validator.catalogue import BY_ID

    result = _validator().validate_body({"operations": g.close_json()})
    for f in result.findings:
        assert f.severity == BY_ID[f.rule].severity


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=200,
)


@given(_JSON)
def test_the_cheap_limit_precheck_never_lets_an_over_limit_body_through(value):
    text = json.dumps(value)
    if inputs.obviously_within_limits(text):
        assert inputs.check_limits(value) is None
    deep = "[" * (inputs.MAX_DEPTH + 1) + "]" * (inputs.MAX_DEPTH + 1)
    assert not inputs.obviously_within_limits(deep)
    assert inputs.check_limits(json.loads(deep)) is not None


def _ungated(validator: Validator) -> Validator:
    """The same validator with every check run on every body (no `only_if` skipping)."""
    validator._plans = {kind: [plans[-1]] * len(plans) for kind, plans in validator._plans.items()}
    return validator


def _verdict(result) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.severity, f.path, f.message) for f in result.findings]


def test_skipping_only_if_checks_never_changes_a_verdict_over_the_whole_corpus():
    differed, judged = [], 0
    for case in g.CASES:
        value = case.make()
        if isinstance(value, g.Missing):
            continue
        data = value.data if isinstance(value, g.Raw) else g.dumps(value)
        context = g.CONTEXTS[case.context] if case.context else None
        options = Options(context=context, now=g.NOW)
        gated, ungated = Validator(options), _ungated(Validator(options))
        for source in inputs.sources_from_bytes(data, case.id):
            judged += 1
            a, b = gated.validate_source(source), ungated.validate_source(source)
            if _verdict(a) != _verdict(b):
                differed.append(f"{case.id}: skipping {_verdict(a)} vs all {_verdict(b)}")
    assert judged >= len(g.MUTATIONS), judged  # every mutation was judged both ways
    assert not differed, "\n".join(differed)


def test_a_clean_body_skips_the_only_if_checks():
    validator = _validator()
    plans = validator._plans["instant_close"]
    clean, everything = len(plans[0]), len(plans[-1])
    assert everything - clean >= 8, f"a clean close runs {clean} of {everything} checks"
    result = validator.validate_body(g.close_json(g.close_op()))
    assert not result.findings, result.findings


def _corpus_sources():
    out = []
    for case in g.CASES:
        value = case.make()
        if isinstance(value, g.Missing) or case.context != "full":
            continue
        data = value.data if isinstance(value, g.Raw) else g.dumps(value)
        out.extend(inputs.sources_from_bytes(data, case.id))
    return out


def test_a_batch_gives_each_body_the_verdict_and_typed_body_it_gets_alone():
    sources = _corpus_sources()
    assert len(sources) > 50, len(sources)
    validator = _validator()
    batch = validator.validate_batch(sources)
    alone = [validator.validate_source(source) for source in sources]
    for source, a, b in zip(sources, batch, alone, strict=True):
        assert _verdict(a) == _verdict(b), f"{source.name}: batch {_verdict(a)} vs {_verdict(b)}"
        assert (a.value, a.calls) == (b.value, b.calls), source.name


def test_a_body_that_breaks_the_validator_in_a_batch_leaves_the_others_their_verdicts():
    from unittest import mock

    from harness.validator import engine

    good = g.close_json(g.close_op(1, "batch good"))
    bad = g.close_json(g.close_op(2, "batch bad"))
    sources = [
        inputs.Source(name, g.dumps(body), "instant_close")
        for name, body in (("a", good), ("b", bad), ("c", good))
    ]
    bad_signature = wire.wrapped_operation_from_wire(bad[0]).signature
    real = engine.recover_many

    def recover_many(pairs):
        if any(signature == bad_signature for _, signature in pairs):
            raise RuntimeError("boom")
        return real(pairs)

    with mock.patch.object(engine, "recover_many", recover_many):
        results = _validator().validate_batch(sources)
    assert [r.rule_ids for r in results] == [set(), {"input.unreadable"}, set()]
    assert "RuntimeError: boom" in results[1].findings[0].message


def test_a_check_that_breaks_on_one_body_of_a_batch_leaves_the_others_their_verdicts():
    bodies = [g.close_json(g.close_op(i + 1, f"check {i}")) for i in range(3)]
    sources = [inputs.Source(str(i), g.dumps(b), "instant_close") for i, b in enumerate(bodies)]
    validator = _validator()
    target = validator._plans["instant_close"][0][0]

    def breaks_on_the_second(env, facts):
        if facts.ops[0].op.replay_attack_header.salt == g.salt("check 1"):
            raise RuntimeError("a check bug")
        target(env, facts)

    validator._plans = {
        kind: [[breaks_on_the_second if fn is target else fn for fn in plan] for plan in plans]
        for kind, plans in validator._plans.items()
    }
    results = validator.validate_batch(sources)
    assert [r.rule_ids for r in results] == [set(), {"input.unreadable"}, set()]
    assert "RuntimeError: a check bug" in results[1].findings[0].message


def test_a_validator_moved_to_another_clock_judges_as_one_made_at_that_clock():
    body = g.close_json()
    deadline = g.close_op().signed_operation.replay_attack_header.deadline
    base = _validator()
    for now in (g.PAST, g.NOW, deadline, deadline + 1):
        moved = base.at(now)
        fresh = Validator(Options(context=g.FULL, now=now))
        assert (moved.now, moved.options.now) == (now, now)
        got, expected = moved.validate_body(body).rule_ids, fresh.validate_body(body).rule_ids
        assert got == expected, f"at {now}: moved {got}, made there {expected}"
    assert "deadline.expired" in base.at(deadline).validate_body(body).rule_ids
    assert base.now == g.NOW, "moving a validator leaves the original at its own clock"
