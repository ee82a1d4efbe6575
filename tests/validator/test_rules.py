"""The rule catalogue: stable, well-formed IDs; exactly one check per rule; every rule the wire
reader names is in the catalogue; citations inside this repository; the README's table generated
from it; the `rules` renderers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from harness import wire
from harness.context import OPTIONAL_KEYS
from harness.errors import Problem
from harness.report import rules_command, rules_markdown
from harness.validator.catalogue import BY_ID, KINDS, RULES
from harness.validator.checks import REGISTRY

ROOT = Path(__file__).resolve().parents[2]

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"
_ID = re.compile(r"[a-z0-9]+(\.[a-z0-9-]+)+\Z")


def test_rule_ids_are_unique_and_well_formed():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not _ID.match(i)] == []


def test_every_rule_cites_the_spec_and_says_where_it_applies():
    for rule in RULES:
        assert rule.severity in ("error", "warning", "info"), rule.id
        assert rule.title and rule.spec and rule.sentence, rule.id
        assert rule.kinds and set(rule.kinds) <= set(KINDS), rule.id
        assert set(rule.requires) <= {"context", *OPTIONAL_KEYS}, rule.id


def test_input_rules_are_errors_exit_code_2():
    for rule in RULES:
        if rule.unusable_input:
            assert rule.severity == "error", rule.id


def test_every_rule_the_wire_reader_names_is_in_the_catalogue():
    codes = {
        value
        for name, value in vars(wire).items()
        if name.isupper()
        and isinstance(value, str)
        and re.fullmatch(r"[a-z0-9]+\.[a-z0-9-]+", value)
    }
    assert codes - set(BY_ID) == set()


def test_every_catalogue_id_has_exactly_one_check():
    registered = REGISTRY.registrations
    assert sorted(registered) == sorted(BY_ID), (
        f"without a check: {sorted(set(BY_ID) - set(registered))}; "
        f"not in the catalogue: {sorted(set(registered) - set(BY_ID))}"
    )
    assert len(registered) == len(set(registered)), "a rule is registered twice"


def test_rule_texts_cite_documents_inside_this_repository():
    docs = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (§\d+)", docs, re.M))
    for rule in RULES:
        text = f"{rule.spec} {rule.sentence} {rule.title}"
        assert "../" not in text and "shared/" not in text, rule.id
        assert not re.search(r"\bissue \d", text), rule.id
        for doc, cited in re.findall(r"(docs/[\w.-]+) ((?:§\d+(?:, )?)+)", rule.spec):
            assert (ROOT / doc).is_file(), (rule.id, doc)
            for section in re.findall(r"§\d+", cited):
                assert section in sections, (rule.id, section)
        assert rule.spec.startswith(("docs/", "RFC ")), (rule.id, rule.spec)


def test_the_reader_reports_rule_ids_and_severity_comes_from_the_catalogue():
    assert Problem("[0].signature", wire.SIG_LENGTH, "").severity == "error"
    assert Problem("[0].signedOperation.maxUses", wire.UINT_JSON_NUMBER, "").severity == "info"
    parsed = wire.parse_tpsl_parts({"typedData": {"message": {"symbolId": "x"}}})
    assert "int.format" in {p.rule for p in parsed.problems} or parsed.problems


def test_published_forms_are_information_and_the_legacy_form_an_error():
    """The solver publishes JSON-integer uints and the {operations} close (real-world.md §4):
    information, never a warning; the legacy 5-field form an error."""
    assert BY_ID["uint.json-number"].severity == "info"
    assert BY_ID["close.envelope"].severity == "info"
    assert BY_ID["op.legacy-5-field"].severity == "error"
    assert BY_ID["calldata.delegation-key"].severity == "error"


def test_readme_rule_table_is_generated_from_the_catalogue():
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, "README lacks the rules markers"
    table = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == rules_markdown().strip(), (
        "README rule table is out of date: regenerate it with "
        "`symmio-harness rules --format markdown` between the markers"
    )


def test_rules_command_formats():
    data = json.loads(rules_command("json"))
    assert [r["id"] for r in data["rules"]] == [rule.id for rule in RULES]
    markdown = rules_command("markdown").splitlines()
    assert len(markdown) == len(RULES) + 2
    text = rules_command("text")
    assert all(rule.id in text for rule in RULES)


@given(st.binary(min_size=20, max_size=20))
def test_wire_eip55_equals_eth_utils(raw):
    from eth_utils import to_checksum_address

    address = "0x" + raw.hex()
    assert wire.eip55(address) == to_checksum_address(address)
    assert wire.eip55(address.upper().replace("0X", "0x")) == to_checksum_address(address)
