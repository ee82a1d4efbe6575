"""schemas/: the generated JSON Schemas (draft 2020-12) against the fixture corpus.

Every fixture body is judged by the schema of its kind with the `jsonschema` library:
- valid bodies, and warning bodies whose warning is not a shape variant, match;
- the shape variants the validator only warns about (SDK-style numbers, the close envelope, a
  TP/SL `types` without EIP712Domain) do not: the schemas describe the canonical form;
- the invalid bodies of the shape rules fail it, and every other invalid body (a semantic rule:
  signatures, calldata, context checks) still matches, so the schema neither misses a shape
  defect nor rejects a well-shaped body.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness import context as context_module
from harness import schemas

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
CASES = {case["id"]: case for case in MANIFEST["cases"]}

#: Rules a JSON Schema can express: keys, JSON types, formats and lengths.
SHAPE_RULES = {
    "body.kind",
    "json.missing-key",
    "json.unknown-key",
    "json.type",
    "op.legacy-5-field",
    "generation.gasless-gateway",  # a 5-field operation: the shape itself is another generation
    "close.empty",
    "close.op-count",
    "uint.decimal-string",
    "int.format",
    "address.format",
    "bool.type",
    "hex.format",
    "hex.length",
    "decimal.format",
    "sig.length",
    "tpsl.primary-type",
    "tpsl.types",
    "tpsl.salt-string",
}
#: Warnings and information that are a non-canonical shape (read by the validator, not matched
#: by the schema, which states the guide's form).
SHAPE_WARNINGS = {"close.envelope", "uint.json-number", "int.string", "tpsl.types-no-domain"}
#: Information about a value, not a shape (v0.8.6: a decoded fee-limit salt, deadline 0 as "no
#: deadline"): the body matches its schema.
SEMANTIC_INFORMATION = {"salt.fee-limit", "deadline.none"}
#: Wire-level rules a schema cannot express: a duplicate key is gone once JSON is parsed, the
#: range of a 78-digit decimal string and the EIP-55 checksum are arithmetic.
NOT_EXPRESSIBLE = {"json.duplicate-key", "uint.range", "address.eip55"}


def _schema(kind: str) -> dict:
    name = schemas.SCHEMAS[kind][0]
    return json.loads((REPO / "schemas" / name).read_text())


def _kind(case: dict) -> str:
    """The body kind: a valid case's is its id's stem, a mutation's that of the case it mutates."""
    root = case
    while root.get("mutates"):
        root = CASES[root["mutates"]]
    stem = root["id"].removeprefix("v086-")  # the v0.8.6 cases: the same kinds, and grants
    kinds = ("instant_open", "instant_close", "tpsl", "grant_operation")
    return next(k for k in kinds if stem.startswith(k))


def _body_cases(folder: str) -> list[dict]:
    return [
        c
        for c in MANIFEST["cases"]
        if c["file"].startswith(folder + "/")
        and c["file"].endswith(".json")
        and not c["id"].startswith("input.")
    ]


def _errors(kind: str, body: object) -> list[str]:
    validator = Draft202012Validator(_schema(kind))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}"
        for e in validator.iter_errors(body)
    ]


def _load(case: dict) -> object:
    return json.loads((FIXTURES / case["file"]).read_text())


@pytest.mark.parametrize("kind", sorted(schemas.SCHEMAS))
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = _schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", sorted(schemas.SCHEMAS))
def test_committed_schema_equals_a_fresh_generation(kind: str) -> None:
    name, make = schemas.SCHEMAS[kind]
    committed = (REPO / "schemas" / name).read_text()
    assert committed == schemas.render(make()), (
        f"schemas/{name} differs from the generator: run python -m harness.schemas --write"
    )


def test_check_mode_reports_a_stale_schema(tmp_path: Path) -> None:
    assert schemas.main(["--write", "--dir", str(tmp_path)]) == 0
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "tpsl.schema.json").write_text("{}\n")
    assert schemas.differences(tmp_path) == ["tpsl.schema.json"]
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1


@pytest.mark.parametrize("case", _body_cases("valid"), ids=lambda c: c["id"])
def test_valid_fixture_matches_its_schema(case: dict) -> None:
    assert _errors(_kind(case), _load(case)) == []


@pytest.mark.parametrize("case", _body_cases("warning"), ids=lambda c: c["id"])
def test_warning_fixture_matches_unless_its_warning_is_a_shape_variant(case: dict) -> None:
    (warning,) = case["expect"]["warnings"]
    errors = _errors(_kind(case), _load(case))
    if warning in SHAPE_WARNINGS:
        assert errors, f"{case['id']}: the non-canonical shape ({warning}) matched the schema"
    else:
        assert errors == [], f"{case['id']}: a canonical body with warning {warning} was refused"


@pytest.mark.parametrize("case", _body_cases("information"), ids=lambda c: c["id"])
def test_information_fixture_is_a_published_shape_the_guide_schema_does_not_match(
    case: dict,
) -> None:
    (named,) = case["expect"]["information"]
    if named in SEMANTIC_INFORMATION:  # a conforming value the validator decodes and shows
        assert _errors(_kind(case), _load(case)) == [], f"{case['id']}: {named} failed its schema"
        return
    assert named in SHAPE_WARNINGS, f"{case['id']}: classify {named}"
    assert _errors(_kind(case), _load(case)), f"{case['id']}: the guide's schema matched {named}"


@pytest.mark.parametrize("case", _body_cases("invalid"), ids=lambda c: c["id"])
def test_invalid_fixture_fails_its_schema_exactly_when_the_rule_is_about_shape(
    case: dict,
) -> None:
    (rule,) = case["expect"]["violations"]
    errors = _errors(_kind(case), _load(case))
    if rule in SHAPE_RULES:
        assert errors, f"{case['id']}: the shape violation {rule} matched the schema"
    else:
        assert errors == [], f"{case['id']}: a well-shaped body ({rule} is not a shape rule) failed"


def test_every_shape_rule_of_the_corpus_is_classified() -> None:
    rules = {
        v
        for c in MANIFEST["cases"]
        for v in c["expect"]["violations"] + c["expect"]["warnings"] + c["expect"]["information"]
    }
    wire_level = {r for r in rules if r.split(".")[0] in ("json", "uint", "int", "address", "hex")}
    unclassified = wire_level - SHAPE_RULES - SHAPE_WARNINGS - NOT_EXPRESSIBLE
    assert not unclassified, f"decide whether a schema can express {sorted(unclassified)}"


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "contexts").glob("*.json")), ids=lambda p: p.stem
)
def test_fixture_context_matches_the_context_schema(path: Path) -> None:
    assert _errors("context", json.loads(path.read_text())) == []


@pytest.mark.parametrize(
    ("mutation", "where"),
    [
        ({"chain_id": "999"}, "chain_id"),
        ({"extra": 1}, "(root)"),
        (
            {
                "symbols": [
                    {"id": 1, "name": "BTCUSDT", "price_precision": 19, "quantity_precision": 3}
                ]
            },
            "symbols/0/price_precision",
        ),
        ({"conditional_order_domain": {"name": "x"}}, "conditional_order_domain"),
        ({"hedger": "0x1234"}, "hedger"),
    ],
    ids=[
        "chain-id-string",
        "unknown-key",
        "precision-above-18",
        "domain-without-version",
        "short-address",
    ],
)
def test_context_shape_errors_fail_the_schema_and_the_reader(mutation: dict, where: str) -> None:
    base = json.loads((FIXTURES / "contexts" / "full.json").read_text())
    bad = {**base, **mutation}
    errors = _errors("context", bad)
    assert any(e.startswith(where + ":") for e in errors), f"expected an error at {where}: {errors}"
    with pytest.raises(context_module.ContextError):
        context_module.context_from_json(bad)


def test_context_schema_covers_exactly_the_readers_keys() -> None:
    schema = _schema("context")
    keys = [*context_module.REQUIRED_KEYS, *context_module.OPTIONAL_KEYS]
    assert list(schema["properties"]) == keys
    assert schema["required"] == list(context_module.REQUIRED_KEYS)


def test_tpsl_schema_pins_the_types_object_from_eip712() -> None:
    from harness.eip712 import eip712_types

    types = _schema("tpsl")["properties"]["typedData"]["properties"]["types"]["const"]
    assert types == eip712_types("ConditionalOrder")
