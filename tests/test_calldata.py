"""Selectors and strict codecs (contracts-and-services.md §2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import calldata as cd
from harness.errors import CalldataError
from tests.strategies import abi_values

# Documented / facts-file selectors (✓ = quoted in the docs summary too).
KNOWN_SELECTORS = {
    "createSubAccounts": (cd.CREATE_SUB_ACCOUNTS, "817ed7f6"),
    "getUserSubAccountsAddresses": (cd.GET_USER_SUB_ACCOUNTS_ADDRESSES, "83a08b8f"),
    "depositForAccount": (cd.DEPOSIT_FOR_ACCOUNT, "342fcda9"),
    "_call": (cd.ACCOUNT_LAYER_CALL, "bd367d8e"),
    "addMarginToNextVA": (cd.ADD_MARGIN_TO_NEXT_VA, "a6d66852"),
    "predictNextVirtualAccountAddress": (cd.PREDICT_NEXT_VIRTUAL_ACCOUNT_ADDRESS, "06232f2e"),
    "ownerOf": (cd.OWNER_OF, "14afd79e"),
    "getVirtualAccount": (cd.GET_VIRTUAL_ACCOUNT, "b4626376"),
    "bindToPartyB": (cd.BIND_TO_PARTY_B, "cf462cb2"),
    "getBindState": (cd.GET_BIND_STATE, "a8eda21b"),
    "requestToUnbindFromPartyB": (cd.REQUEST_TO_UNBIND_FROM_PARTY_B, "9da6ff6a"),
    "completeUnbindRequest": (cd.COMPLETE_UNBIND_REQUEST, "d66409bd"),
    "cancelUnbindRequest": (cd.CANCEL_UNBIND_REQUEST, "7bcb7050"),
    "sendQuoteWithAffiliateAndData": (cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA, "a7f3b34b"),
    "requestToClosePosition": (cd.REQUEST_TO_CLOSE_POSITION, "501e891f"),
    "requestToClosePosition+upnlSig (delegation key)": (
        cd.REQUEST_TO_CLOSE_POSITION_WITH_UPNL_SIG,
        "ee9ef781",
    ),
    "lockQuote": (cd.LOCK_QUOTE, "ca6b88de"),
    "openPosition": (cd.OPEN_POSITION, "fa59fbe8"),
    "grantDelegation": (cd.GRANT_DELEGATION, "fd7f4c5e"),
    "grantBatchDelegationBySig": (cd.GRANT_BATCH_DELEGATION_BY_SIG, "880231ed"),
    "initiateRevokeDelegation": (cd.INITIATE_REVOKE_DELEGATION, "feae205f"),
    "finalizeRevokeDelegation": (cd.FINALIZE_REVOKE_DELEGATION, "7f41bb6a"),
    "isDelegationActive": (cd.IS_DELEGATION_ACTIVE, "9d1daab3"),
    "executeBatch (4-arg)": (cd.EXECUTE_BATCH, "06bcc336"),
    "executeTemplate": (cd.EXECUTE_TEMPLATE, "adc33a88"),
    "executeBatch (legacy 2-arg)": (cd.LEGACY_EXECUTE_BATCH, "a623ad55"),
    "approve": (cd.ERC20_APPROVE, "095ea7b3"),
    "transferFrom": (cd.ERC20_TRANSFER_FROM, "23b872dd"),
}


@pytest.mark.parametrize("name", sorted(KNOWN_SELECTORS))
def test_selector_known_answer(name: str) -> None:
    function, expected = KNOWN_SELECTORS[name]
    got = function.selector.hex()
    assert got == expected, f"{function.signature}: keccak gives {got}, documented {expected}"


def test_delegation_only_keys() -> None:
    assert {k.hex() for k in cd.DELEGATION_ONLY_KEYS} == {"eaa31b19", "ee9ef781", "00000001"}
    for key in cd.DELEGATION_ONLY_KEYS:
        assert key not in cd.BY_SELECTOR, f"0x{key.hex()} must not decode as a callable function"


def test_delegation_sets_match_the_spec() -> None:
    assert [s.hex() for s in cd.SESSION_KEY_SELECTORS] == [
        "a6d66852",
        "a7f3b34b",
        "501e891f",
        "eaa31b19",
        "00000001",
    ]
    assert [s.hex() for s in cd.TPSL_BOT_SELECTORS] == [
        "501e891f",
        "eaa31b19",
        "ee9ef781",
        "00000001",
    ]


def test_no_two_functions_share_a_selector() -> None:
    selectors = [f.selector for f in cd.FUNCTIONS]
    assert len(selectors) == len(set(selectors))


@pytest.mark.parametrize("function", cd.FUNCTIONS, ids=lambda f: f.signature[:60])
@given(data=st.data())
def test_encode_decode_round_trip(function: cd.Function, data: st.DataObject) -> None:
    args = [data.draw(abi_values(t), label=n) for n, t in function.inputs]
    encoded = function.encode(*args)
    decoded = function.decode(encoded)
    assert list(decoded.values()) == [_normal(a) for a in args]
    assert function.encode(*decoded.values()) == encoded


def _normal(value):
    if isinstance(value, list | tuple):
        return tuple(_normal(v) for v in value)
    return value


def test_decode_rejects_trailing_bytes() -> None:
    data = cd.REQUEST_TO_CLOSE_POSITION.encode(1, 2, 3, 1, 4)
    with pytest.raises(CalldataError, match="not canonically encoded"):
        cd.REQUEST_TO_CLOSE_POSITION.decode(data + b"\x00")


def test_decode_rejects_dirty_padding() -> None:
    data = bytearray(cd.REQUEST_TO_CLOSE_POSITION.encode(1, 2, 3, 1, 4))
    data[4 + 3 * 32] = 0xFF  # high byte of the uint8 orderType word
    with pytest.raises(CalldataError):
        cd.REQUEST_TO_CLOSE_POSITION.decode(bytes(data))


def test_decode_rejects_other_selector_and_short_input() -> None:
    data = cd.REQUEST_TO_CLOSE_POSITION.encode(1, 2, 3, 1, 4)
    with pytest.raises(CalldataError, match="selector 0x501e891f is not 0xca6b88de"):
        cd.LOCK_QUOTE.decode(data)
    with pytest.raises(CalldataError, match="shorter than the 4-byte selector"):
        cd.LOCK_QUOTE.decode(b"\x01\x02")


def test_encode_reports_the_function_on_bad_arguments() -> None:
    with pytest.raises(ValueError, match="requestToClosePosition: cannot ABI-encode"):
        cd.REQUEST_TO_CLOSE_POSITION.encode(-1, 2, 3, 1, 4)
    with pytest.raises(ValueError, match="expected 5 arguments, got 1"):
        cd.REQUEST_TO_CLOSE_POSITION.encode(1)


def test_empty_upnl_sig_sentinel() -> None:
    assert cd.is_empty_upnl_sig(cd.EMPTY_UPNL_SIG)
    assert not cd.is_empty_upnl_sig(
        (b"\x01", 0, 0, 0, b"", (0, "0x" + "00" * 20, "0x" + "00" * 20))
    )


@given(st.text(max_size=64))
def test_quote_data_round_trip(text: str) -> None:
    assert cd.decode_quote_data(cd.encode_quote_data(text)) == text


def test_quote_data_rejects_bare_string_encoding() -> None:
    from eth_abi import encode

    bare = encode(["string"], ["abc"])  # `string`, not the `(string)` tuple: one offset fewer
    with pytest.raises(CalldataError):
        cd.decode_quote_data(bare)


@pytest.mark.parametrize(
    ("sub", "side", "va"),
    [(0, 0, 0), (1, 1, 1), (2, 0, 2), (2, 1, 3)],
    ids=["position", "market", "direction-long", "direction-short"],
)
def test_va_isolation_table(sub: int, side: int, va: int) -> None:
    assert cd.va_isolation_type(sub, side) == va


def test_custom_sub_account_has_no_next_va_type() -> None:
    with pytest.raises(ValueError, match="CUSTOM"):
        cd.va_isolation_type(cd.SUB_ISO_CUSTOM, 0)


# --- abicodec: one-pass canonical decoding equals eth-abi's decode + re-encode ---------------

_STRICT_FUNCTIONS = (
    cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA,
    cd.ADD_MARGIN_TO_NEXT_VA,
    cd.REQUEST_TO_CLOSE_POSITION,
    cd.GRANT_DELEGATION,
    cd.ACCOUNT_LAYER_CALL,
)


def _eth_abi_strict(types: list[str], data: bytes):
    from eth_abi import decode, encode

    try:
        values = decode(types, data)
    except Exception:
        return None
    return values if encode(types, values) == data else None


def _ours(types: list[str], data: bytes):
    from harness import abicodec

    try:
        return abicodec.decode(types, data)
    except CalldataError:
        return None


_EXAMPLES = {
    cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA: (
        ["0x" + "11" * 20, "0x" + "22" * 20],
        1,
        0,
        1,
        10**18,
        5,
        1,
        2,
        3,
        4,
        99,
        "0x" + "33" * 20,
        (b"\x01\x02", 0, -5, 0, b"", (0, "0x" + "00" * 20, "0x" + "00" * 20)),
        cd.encode_quote_data("3b241101-e2bb-4255-8caf-4136c566a962"),
    ),
    cd.ADD_MARGIN_TO_NEXT_VA: ("0x" + "44" * 20, 3, 1, 10**20),
    cd.REQUEST_TO_CLOSE_POSITION: (42, 10**18, 10**15, 1, 4102444800),
    cd.GRANT_DELEGATION: (
        (("0x" + "55" * 20, False), "0x" + "66" * 20, [b"abcd", b"\0\0\0\1"], 7),
    ),
    cd.ACCOUNT_LAYER_CALL: ("0x" + "77" * 20, [b"", b"x" * 33, b"y" * 64]),
}


@pytest.mark.parametrize("fn", _STRICT_FUNCTIONS, ids=lambda f: f.name)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_abicodec_accepts_exactly_what_eth_abi_decodes_and_re_encodes(fn, data):
    encoded = fn.encode(*_EXAMPLES[fn])[4:]
    mutated = bytearray(encoded)
    for _ in range(data.draw(st.integers(0, 3))):
        i = data.draw(st.integers(0, len(mutated) - 1))
        mutated[i] = data.draw(
            st.sampled_from([0, 1, 0x20, 0x40, 0xFF, data.draw(st.integers(0, 255))])
        )
    cut = data.draw(st.sampled_from([0, 0, 0, 1, 31, 32, 64]))
    tail = data.draw(st.sampled_from([b"", b"", bytes(32), b"\x01"]))
    blob = bytes(mutated[: len(mutated) - cut]) + tail
    assert _ours(fn.input_types, blob) == _eth_abi_strict(fn.input_types, blob)
