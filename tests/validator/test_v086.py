"""The validator judges v0.8.6 (docs/protocol.md §12, real-world.md §2): the generation comes from
the context or `--contracts-version` (the flag wins), v0.8.6 bodies of every kind are accepted
without a warning, each invalid one is refused with words naming its defect, and the close,
TP/SL and upnlSig rules judge a v0.8.6 context as they judge a v0.8.5 one.

The bodies are the fixture corpus's (fixtures/generate.py), so the corpus and these tests agree.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from harness import calldata as cd
from harness import inputs, upnl_sig
from harness.model import FlexField
from harness.protocol import GRANT_OPERATION, V0_8_5, V0_8_6
from harness.upnl_sig import UpnlSigRegime
from harness.validator.catalogue import RULES
from harness.validator.checks import REGISTRY
from harness.validator.engine import Options, Validator, resolve_generation
from harness.validator.results import Result, rules_not_run

from .corpus import generate as g

FIXTURES = g.HERE
V086_CONTEXT = str(FIXTURES / "contexts" / "v086.json")
FULL_CONTEXT = str(FIXTURES / "contexts" / "full.json")
CASES = {case.id: case for case in g.CASES}
#: information a valid v0.8.6 body may carry (conforming values shown, never a warning)
V086_INFORMATION = {"salt.fee-limit", "deadline.none"}


def judge(body: object, context=g.V086, *, version: str | None = None) -> Result:
    data = body.data if isinstance(body, g.Raw) else g.dumps(body)
    validator = Validator(Options(context=context, now=g.NOW, contracts_version=version))
    (result,) = [validator.validate_source(s) for s in inputs.sources_from_bytes(data, "body")]
    return result


def shown(result: Result) -> str:
    return "; ".join(f"{f.rule} {f.path}: {f.message}" for f in result.findings)


# --- where the version comes from -------------------------------------------------------------


def test_the_version_is_the_contexts_and_v085_without_one() -> None:
    assert resolve_generation(Options(context=g.V086)) is V0_8_6
    assert resolve_generation(Options(context=g.FULL)) is V0_8_5
    assert resolve_generation(Options()) is V0_8_5


def test_the_contracts_version_flag_wins_over_the_context() -> None:
    assert resolve_generation(Options(context=g.FULL, contracts_version="0.8.6")) is V0_8_6
    assert resolve_generation(Options(context=g.V086, contracts_version="0.8.5")) is V0_8_5
    capped = g.v086_open_json()
    assert judge(capped, g.FULL, version="0.8.6").rule_ids == set(), "the flag did not win"
    assert judge(capped, g.V086, version="0.8.5").rule_ids == {"generation.v086-send-quote"}


def test_an_unknown_contracts_version_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown contracts version '0.8.7'"):
        Validator(Options(contracts_version="0.8.7"))


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "validate", "--now", str(g.NOW), *args],
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.subprocess
def test_validate_judges_the_v086_corpus_with_its_context_and_the_flag_overrides_it() -> None:
    valid = sorted(str(p) for p in (FIXTURES / "valid").glob("v086-*.json"))
    ok = _cli("--context", V086_CONTEXT, *valid)
    assert ok.returncode == 0, ok.stdout.decode() + ok.stderr.decode()
    flagged = _cli("--context", V086_CONTEXT, "--contracts-version", "0.8.5", valid[0], *valid[-3:])
    assert flagged.returncode == 1 and b"v0.8.6 open on a v0.8.5 context" in flagged.stdout, (
        flagged.stdout.decode()
    )
    bad = _cli("--contracts-version", "0.8.7", valid[0])
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr


# --- v0.8.6 bodies: accepted, or refused by name ------------------------------------------------

#: Twelve valid v0.8.6 bodies of different kinds.
VALID_V086 = {
    "capped open, guide upnlSig": g.v086_open_json,
    "capped open, SDK placeholder": lambda: g.v086_open_json(UpnlSigRegime.SDK_PLACEHOLDER),
    "capped open, SDK flex field": lambda: g.v086_open_json(UpnlSigRegime.SDK_FLEX),
    "capped open, fee-limit salts": CASES["salt.fee-limit--open"].make,
    "close": g.close_json,
    "two closes": CASES["v086-instant_close-two-ops"].make,
    "close, deadline 0": lambda: g.close_json(g.resign(g.close_op(), header={"deadline": 0})),
    "TP/SL": g.tpsl_json,
    "grant operation": g.grant_json,
    "grant operation, batch": CASES["v086-grant_operation-batch"].make,
    "grant operation, listed": CASES["v086-grant_operation-list"].make,
    "grant operation, fee-limit salt": CASES["salt.fee-limit"].make,
}


def test_twelve_valid_v086_bodies_of_different_kinds_are_accepted_without_a_warning() -> None:
    assert len(VALID_V086) == 12
    refused = {}
    for name, make in VALID_V086.items():
        result = judge(make())
        if result.violations or result.warnings or result.rule_ids - V086_INFORMATION:
            refused[name] = shown(result)
    assert not refused, f"valid v0.8.6 bodies not accepted cleanly: {refused}"


#: Each v0.8.6 mutation of the corpus, and the words its finding must hold.
DEFECT_WORDS = {
    "open.v086-capped-required": ("stores zero caps", "0x0ac30baf"),
    "open.v086-fee-cap-minimum": ("openRateCap 0.0005", "min_open_solver_fee_cap 0.0006"),
    "generation.v086-send-quote--capped-open": ("v0.8.6 open on a v0.8.5 context",),
    "generation.v086-grant-operation--owner-signed": ("v0.8.6 grant operation on a v0.8.5",),
    "grant.target": ("targets the InstantLayer itself",),
    "grant.selector": ("InvalidGrantOperation", "0xf7b39f62", "initiateRevokeDelegation"),
    "grant.flex-fields": ("InvalidGrantOperation", "0xf7b39f62"),
    "grant.max-uses": ("InvalidGrantOperation", "0xf7b39f62"),
    "grant.signer-owner": ("InvalidDelegation", "0xa9e649e9", g.OWNER.address),
    "grant.party-b": ("InvalidDelegation", "PartyB"),
    "grant.account": ("InvalidDelegation", "is not the operation's signerAccount"),
    "grant.account--batch": ("InvalidDelegation", "infos[1]"),
    "grant.empty": ("InvalidDelegation", "grantDelegations with no DelegationInfo"),
    "grant.selectors-empty": ("InvalidDelegation", "no selector"),
    "grant.expired": (f"DelegationExpired({g.PAST})", "0x12b6b89c"),
    "grant.self-delegation": ("SelfDelegation", "0x52e0d047"),
    "grant.session-key-set": ("re-grant", "0xa7f3b34b", "0x0ac30baf"),
}


@pytest.mark.parametrize("case_id", sorted(DEFECT_WORDS))
def test_each_invalid_v086_body_is_refused_with_words_naming_its_defect(case_id: str) -> None:
    case = CASES[case_id]
    result = judge(case.make(), g.CONTEXTS[case.context])
    assert result.verdict == "fail" and result.rule_ids == set(case.rules), shown(result)
    text = shown(result)
    missing = [w for w in DEFECT_WORDS[case_id] if w not in text]
    assert not missing, f"{case_id}: the finding lacks {missing}: {text}"


def test_every_v086_rule_has_its_defect_words() -> None:
    v086_rules = {r for c in g.MUTATIONS if c.context == "v086" for r in c.rules}
    worded = {CASES[i].rules[0] for i in DEFECT_WORDS}
    assert v086_rules - V086_INFORMATION <= worded, v086_rules - worded


def test_a_grant_operation_is_its_own_body_kind() -> None:
    assert judge(g.grant_json()).kind == GRANT_OPERATION
    assert judge([g.grant_json()]).kind == GRANT_OPERATION
    assert judge(g.close_json()).kind == "instant_close"


def test_the_session_key_set_of_v085_is_told_to_re_grant_only_on_v086() -> None:
    old = g.grant_json(g.grant_op(g.session_key_info(selectors=cd.session_key_selectors(V0_8_5))))
    assert "grant.session-key-set" in judge(old).rule_ids
    assert "grant.session-key-set" not in judge(g.grant_json()).rule_ids


def test_a_session_key_cannot_sign_its_own_grant() -> None:
    by_key = g.grant_json(g.resign(g.grant_op(), g.SESSION, signer=g.SESSION.address))
    found = judge(by_key)
    assert {"grant.signer-owner", "grant.self-delegation"} <= found.rule_ids, shown(found)
    assert "the session key" in shown(found)


# --- fee-limit salts and deadline 0 ---------------------------------------------------------------


def test_a_fee_limit_salt_is_decoded_and_shown_never_called_low_entropy() -> None:
    result = judge(CASES["salt.fee-limit"].make())
    (found,) = result.findings
    assert found.rule == "salt.fee-limit" and found.severity == "info", shown(result)
    assert "at most 0.01 (10000000000000000 wei" in found.message, found.message
    assert "caller salt 0x0000000000000000" in found.message, found.message
    assert "entropy" not in found.message


def test_a_fee_limit_salt_on_v085_is_an_ordinary_salt() -> None:
    body = g.close_json(g.resign(g.close_op(), header={"salt": g.fee_limit_salt(10**16)}))
    assert judge(body, g.FULL).rule_ids == set()


def test_deadline_zero_is_no_deadline_on_v086_and_a_warning_on_v085() -> None:
    body = g.close_json(g.resign(g.close_op(), header={"deadline": 0}))
    on_v086 = judge(body)
    assert on_v086.rule_ids == {"deadline.none"} and not on_v086.warnings, shown(on_v086)
    assert "no deadline" in shown(on_v086)
    assert judge(body, g.FULL).rule_ids == {"deadline.never"}


# --- close, TP/SL and upnlSig rules unchanged on v0.8.6 ---------------------------------------

_UNCHANGED_BASES = ("instant_close", "instant_close-two-ops", "tpsl")
_ALSO_ON_V086 = replace(g.FULL, contracts_version="0.8.6", owner=g.OWNER.address)


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in g.MUTATIONS
        if c.base in _UNCHANGED_BASES
        and c.context == "full"
        and not c.id.startswith(("input.", "generation.", "deadline.never"))
    ],
    ids=lambda c: c.id,
)
def test_close_and_tpsl_rules_judge_a_v086_context_as_a_v085_one(case) -> None:
    body = case.make()
    v085, v086 = judge(body, g.FULL), judge(body, _ALSO_ON_V086)
    assert [(f.rule, f.path) for f in v086.findings] == [(f.rule, f.path) for f in v085.findings], (
        f"v0.8.5: {shown(v085)} | v0.8.6: {shown(v086)}"
    )


def _capped_sdk(upnl: UpnlSigRegime = UpnlSigRegime.SDK_FLEX):
    return g.open_body(upnl, g.V086).send_quote


def _recall_capped(w, **args):
    return g.recall(w, g.CAPPED, **args)


#: The upnlSig rules' mutations, applied to the capped open.
UPNL_ON_CAPPED = {
    "open.upnl-sig": lambda: g.v086_open_json(
        send=_recall_capped(
            _capped_sdk(UpnlSigRegime.GUIDE_ZERO),
            upnlSig=(bytes(32), 0, 0, 0, b"\x11" * 65, (0, cd.ZERO_ADDRESS, cd.ZERO_ADDRESS)),
        )
    ),
    "open.upnl-sig-price": lambda: g.v086_open_json(
        UpnlSigRegime.SDK_PLACEHOLDER,
        send=_price_moved(_capped_sdk(UpnlSigRegime.SDK_PLACEHOLDER)),
    ),
    "open.upnl-sig-flex-count": lambda: g.v086_open_json(
        UpnlSigRegime.SDK_FLEX,
        send=g.resign(
            _capped_sdk(), flex_fields=(g.upnl_flex(_capped_sdk()), g.upnl_flex(_capped_sdk()))
        ),
    ),
    "open.upnl-sig-flex-range": lambda: g.v086_open_json(
        UpnlSigRegime.SDK_FLEX,
        send=g.resign(_capped_sdk(), flex_fields=(g.upnl_flex(_capped_sdk(), shift=-32),)),
    ),
    "open.upnl-sig-flex-filler": lambda: g.v086_open_json(
        UpnlSigRegime.SDK_FLEX,
        send=g.resign(
            _capped_sdk(), flex_fields=(g.upnl_flex(_capped_sdk(), filler=g.OTHER.address),)
        ),
    ),
}


def _price_moved(w):
    sig = list(g.CAPPED.decode(w.signed_operation.call_data)["upnlSig"])
    sig[3] -= 1
    return _recall_capped(w, upnlSig=tuple(sig))


@pytest.mark.parametrize("rule", sorted(UPNL_ON_CAPPED))
def test_the_upnl_sig_rules_judge_the_capped_open(rule: str) -> None:
    result = judge(UPNL_ON_CAPPED[rule]())
    assert result.rule_ids == {rule}, shown(result)


def test_the_capped_opens_upnl_sig_region_is_read_from_the_same_head_words() -> None:
    call = _capped_sdk().signed_operation.call_data
    where = upnl_sig.region(call)
    decoded = g.CAPPED.decode(call)["upnlSig"]
    assert upnl_sig.decode_region(call[4 + where.offset : 4 + where.end]) == decoded
    legacy = g.open_body(UpnlSigRegime.SDK_FLEX).send_quote.signed_operation.call_data
    # the same heads (upnlSig is argument 12, data 13); the capped open's tail holds two more
    # static words before the dynamic parts, so its region lies 64 bytes later
    assert where.offset == upnl_sig.region(legacy).offset + 64
    flex = _capped_sdk().signed_operation.flex_fields
    assert flex == (FlexField(where.offset, where.length, g.HEDGER),)


# --- what a v0.8.5 run reports stays as it was ------------------------------------------------


def test_v086_rules_neither_run_nor_count_as_not_run_on_v085() -> None:
    later = {r.id for r in RULES if r.since == "0.8.6"}
    assert later, "no rule is marked as v0.8.6's"
    for context in (None, g.MINIMAL, g.FULL):
        named = {row["rule"] for row in rules_not_run(context)}
        assert not named & later, f"v0.8.5 run lists v0.8.6 rules as not run: {named & later}"
    kinds = ("instant_open", "grant_operation")
    v085 = {fn for kind in kinds for fn, _ in REGISTRY.for_kind(kind, g.FULL)}
    v086_checks = {REGISTRY.checks[r].fn for r in later}
    assert not v085 & v086_checks, "a v0.8.6 check is planned on a v0.8.5 run"
    without_owner = replace(g.V086, owner=None)
    assert {"rule": "grant.signer-owner", "needs": "the context key owner"} in rules_not_run(
        without_owner
    )
    assert "grant.signer-owner" in {r["rule"] for r in rules_not_run(g.FULL, "0.8.6")}
