"""The `upnlSig` argument of an instant open's sendQuote: its three client regimes and its region.

`sendQuoteWithAffiliateAndData(..., SingleUpnlAndPriceSig upnlSig, bytes data)` carries a Muon
attestation slot that real clients fill three ways (shared/spec/real-world.md §3), all conforming:

1. `GUIDE_ZERO`: the builder guide's all-zero sentinel, `flexFields: []`;
2. `SDK_PLACEHOLDER`: the official SDK's `getFakeSendQuoteMuonSignature(price)`: `price` = the
   quote's (slippage-adjusted) open price in wei, `timestamp` = now, zero upnl, empty gateway
   signature and Schnorr part, and a 32-byte zero `reqId` (Trading-SDK
   `packages/core/src/solvers/instant-open/shared/calldata.ts@73ad0fa`; its earlier version and
   the CHANGELOG record that the SDK first sent `reqId: "0x"`: both are placeholders here),
   `flexFields: []`;
3. `SDK_FLEX`: the same placeholder plus ONE FlexField covering exactly the encoded upnlSig
   region, `authorizedFlexFiller` = the solver's PartyB (the SDK's Enigma instant-open adapter
   `submitEnigmaInstantOpen`, with `sendQuoteUpnlSigFlexRange` from the same calldata.ts: the
   range is [head word of upnlSig, head word of data)), so the solver writes an attestation of
   the same size at execution time. The SDK never puts a flex field on addMargin ("addMargin
   stays fully fixed").

What the real core does with it on an instant open (perps-core
`contracts/facets/PartyA/PartyAFacetImpl.sol@cae77f2cee9e7465beb88c8752a48b38ee43104e`,
`sendQuote`; the same at 09845359aa317a616c4656957b27fe49aa7c4b71): a PartyA bound to the
whitelisted PartyB skips `LibMuonPartyA.verifyPartyAUpnlAndPrice` entirely, so `reqId`,
`timestamp`, the gateway and Schnorr signatures are never read; `upnlSig.upnl` is still added to
the PartyA's available balance (`LibAccount.partyAAvailableForQuote(upnlSig.upnl, ...)`), and for
a MARKET quote `upnlSig.price` is the price the opening fee is checked and charged on
(`tradingPrice = orderType == LIMIT ? price : upnlSig.price`; `marketPrice: upnlSig.price`;
`LibQuote.getOpenTradingFee` and `LibPartyBPositionsActions.openPosition` charge
`quantity * marketPrice * tradingFee`). Hence the rules (`harness.validator`): no upnl and no
attestation data (unverified, they would be trusted); a price of 0 (the guide: no fee basis
claimed) or exactly the quote's requested price (the SDK); any timestamp (never read).

This module is pure: offsets are computed from the encoded calldata's own head words, never
hard-coded (an earlier dynamic argument, e.g. a longer PartyB whitelist, moves the region).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from . import abicodec
from . import calldata as cd
from .errors import CalldataError, InputError

SEND_QUOTE = cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA
_WORD = 32
#: Argument positions of upnlSig and data in sendQuote, read from its signature (never typed in).
UPNL_SIG_INDEX = SEND_QUOTE.arg_names.index("upnlSig")
DATA_INDEX = SEND_QUOTE.arg_names.index("data")
#: The SDK's placeholder reqId: shaped like a real (bytes32) Muon request id.
PLACEHOLDER_REQ_ID = bytes(32)
_ZERO_SCHNORR = (0, cd.ZERO_ADDRESS, cd.ZERO_ADDRESS)


class UpnlSigRegime(Enum):
    """How a client fills sendQuote's upnlSig (the module docstring, regimes 1-3)."""

    GUIDE_ZERO = "guide-zero"
    SDK_PLACEHOLDER = "sdk-placeholder"
    SDK_FLEX = "sdk-flex"


def placeholder(regime: UpnlSigRegime, price_wei: int, timestamp: int) -> tuple[Any, ...]:
    """The SingleUpnlAndPriceSig a client of `regime` signs (`price_wei`, `timestamp` are used
    by the SDK regimes only)."""
    if regime is UpnlSigRegime.GUIDE_ZERO:
        return cd.EMPTY_UPNL_SIG
    return (PLACEHOLDER_REQ_ID, timestamp, 0, price_wei, b"", _ZERO_SCHNORR)


def regime_of(sig: tuple[Any, ...], flex_fields: int) -> UpnlSigRegime:
    """Which regime a conforming sendQuote's upnlSig and flex-field count show (for reports: the
    validator's rules decide conformance, this only names the form)."""
    if flex_fields:
        return UpnlSigRegime.SDK_FLEX
    _, timestamp, _, price, _, _ = sig
    return UpnlSigRegime.GUIDE_ZERO if price == timestamp == 0 else UpnlSigRegime.SDK_PLACEHOLDER


@dataclass(frozen=True)
class Region:
    """The upnlSig tuple's bytes inside sendQuote calldata, as a FlexField names them: `offset`
    counts from the end of the 4-byte selector (the InstantLayer writes at 4 + offset)."""

    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


def region(call_data: bytes) -> Region:
    """Where the encoded upnlSig lies in sendQuote calldata: from its head word to data's head
    word (tails follow argument order in a canonical encoding, and data comes right after).
    CalldataError when the calldata is too short or the two words are out of order."""
    args = call_data[4:]
    heads = (UPNL_SIG_INDEX, DATA_INDEX)
    if len(args) < (max(heads) + 1) * _WORD:
        raise CalldataError("sendQuote: calldata too short to hold the upnlSig and data heads")
    start, end = (int.from_bytes(args[i * _WORD : (i + 1) * _WORD], "big") for i in heads)
    if not start < end <= len(args):
        raise CalldataError(
            f"sendQuote: upnlSig region out of order or out of bounds (offset {start}, end {end})"
        )
    return Region(start, end - start)


def encode_region(sig: tuple[Any, ...]) -> bytes:
    """A SingleUpnlAndPriceSig as its bytes in the calldata region (the tuple's own encoding,
    offsets relative to its start)."""
    try:
        return cd.abi_encode([cd.SIG5], [sig])[_WORD:]  # drop the one-argument head
    except Exception as exc:  # eth-abi raises several types for a value it cannot encode
        raise InputError("upnlSig", f"cannot ABI-encode the SingleUpnlAndPriceSig: {exc}") from None


def decode_region(value: bytes) -> tuple[Any, ...]:
    """The SingleUpnlAndPriceSig a region's bytes encode (CalldataError unless canonical)."""
    (sig,) = abicodec.decode([cd.SIG5], _WORD.to_bytes(_WORD, "big") + value, "upnlSig region")
    return sig


def solver_fill(
    call_data: bytes, flex_offset: int, flex_length: int, *, price_wei: int, timestamp: int
) -> bytes:
    """What the solver writes into a flex range over the upnlSig region: the signed placeholder
    with the fill `price_wei` and `timestamp`, same byte shapes, so exactly `flex_length` bytes.
    InputError when the range is not the upnlSig region (the validator refuses such a body)."""
    where = region(call_data)
    if (flex_offset, flex_length) != (where.offset, where.length):
        raise InputError(
            "flexFields",
            f"[{flex_offset}, {flex_offset + flex_length}) is not the upnlSig region "
            f"[{where.offset}, {where.end})",
        )
    signed = decode_region(call_data[4 + where.offset : 4 + where.end])
    req_id, _, upnl, _, gateway, schnorr = signed
    value = encode_region((req_id, timestamp, upnl, price_wei, gateway, schnorr))
    if len(value) != flex_length:  # same shapes, so never; kept as the contract's own check
        raise InputError("flexFields", f"fill of {len(value)} bytes for a {flex_length}-byte range")
    return value


__all__ = [
    "DATA_INDEX",
    "PLACEHOLDER_REQ_ID",
    "UPNL_SIG_INDEX",
    "Region",
    "UpnlSigRegime",
    "decode_region",
    "encode_region",
    "placeholder",
    "regime_of",
    "region",
    "solver_fill",
]
