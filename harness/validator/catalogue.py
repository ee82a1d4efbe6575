"""The validator's rule catalogue, as data: one `Rule` per check, with a stable ID.

An ID never changes meaning once published (fixtures in other languages key on it); a rule that
is dropped keeps its ID retired. Each rule cites the passage of this repository's protocol notes
(`docs/protocol.md`, by section) and quotes the sentence or fact it enforces, names the body kinds
it applies to, and the context keys that switch it on (`requires`: `"context"` means any context
file; other names are the context file's optional keys).

This module is data: it imports only `protocol` and `severity` (never `errors`, whose `Problem`
asks it for a rule's severity), so the wire reader (a layer below the engine) can name rules and
every severity comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import BODY_KINDS as KINDS
from ..protocol import (
    BY_VERSION,
    GRANT_OPERATION,
    INSTANT_CLOSE,
    INSTANT_OPEN,
    TPSL,
    V0_8_6,
    Protocol,
)
from ..severity import ERROR as E
from ..severity import INFO, Severity
from ..severity import WARNING as W

OPS: tuple[str, ...] = (INSTANT_OPEN, INSTANT_CLOSE)
#: every body made of SignedOperations: the trading ones and (v0.8.6) grant operations
SIGNED_OPS: tuple[str, ...] = (*OPS, GRANT_OPERATION)
#: the bodies of every generation (a grant operation is v0.8.6's)
TRADING: tuple[str, ...] = (*OPS, TPSL)
GRANTS: tuple[str, ...] = (GRANT_OPERATION,)
_V086 = "docs/protocol.md §12"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    title: str
    spec: str
    sentence: str
    kinds: tuple[str, ...] = KINDS
    requires: tuple[str, ...] = ()
    #: the body kinds `requires` applies to (sig.signer needs a context only for operations:
    #: a TP/SL body carries its own domain)
    requires_for: tuple[str, ...] = KINDS
    #: the first protocol generation whose bodies the rule judges (None: every generation); on
    #: an earlier one it neither runs nor counts as "not run"
    since: str | None = None

    def applies_to(self, generation: type[Protocol]) -> bool:
        return self.since is None or generation.at_least(BY_VERSION[self.since])

    @property
    def unusable_input(self) -> bool:
        """Input rules: the input could not be validated at all (exit code 2)."""
        return self.id.startswith("input.")

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "spec": self.spec,
            "sentence": self.sentence,
            "kinds": list(self.kinds),
            "requires": list(self.requires),
            **({"since": self.since} if self.since is not None else {}),
        }


def _r(
    id: str,
    severity: Severity,
    title: str,
    spec: str,
    sentence: str,
    kinds: tuple[str, ...] = KINDS,
    requires: tuple[str, ...] = (),
    requires_for: tuple[str, ...] = KINDS,
) -> Rule:
    return Rule(id, severity, title, spec, sentence, kinds, requires, requires_for)


def _v086(
    id: str,
    severity: Severity,
    title: str,
    sentence: str,
    kinds: tuple[str, ...],
    requires: tuple[str, ...] = (),
) -> Rule:
    """A rule of what v0.8.6 adds (docs/protocol.md §12): judged on v0.8.6 and later only."""
    return Rule(id, severity, title, _V086, sentence, kinds, requires, KINDS, V0_8_6.version)


_DOCUMENTED_WIRE = (
    "The documented form is canonical (numerics as decimal strings; instant_close body a bare "
    "JSON list of one or more wrapped ops)."
)
_OBSERVED = (
    'The SDK-observed variants (JSON numbers; a {"operations": [...]} close envelope) are '
    "recognised and reported, never silently accepted as canonical."
)
_PUBLISHED = (
    "Order of truth (real-world.md §0): what the services publish outranks the builder guide, "
    "and a form the official SDK sends is conforming: the solver's OpenAPI document (Trading-SDK "
    "enigma-solver.ts) publishes this form, so the validator names it as information, never as "
    "a warning; the guide's form stays accepted too."
)

RULES: tuple[Rule, ...] = (
    # --- The input itself (exit code 2: nothing could be validated) -------------------------
    _r(
        "input.unreadable",
        E,
        "the file, directory or stdin cannot be read",
        "docs/protocol.md §1",
        "Exit code 2 when an input cannot be used at all (unreadable file, not JSON, bad context).",
    ),
    _r(
        "input.not-json",
        E,
        "the input is not UTF-8 JSON text (RFC 8259; NaN and Infinity are not JSON)",
        "docs/protocol.md §1",
        "Exit code 2 when an input cannot be used at all (unreadable file, not JSON, bad context).",
    ),
    _r(
        "input.limits",
        E,
        "the input is over a size, nesting or value-count limit and was not read",
        "docs/protocol.md §1",
        "Oversized inputs (a body over 2 MiB, nesting deeper than 64, more than 200,000 values) "
        "are rejected with a clear message within a bounded time, before the work they would "
        "cost.",
    ),
    _r(
        "input.empty",
        E,
        "a directory without .json/.jsonl/.har files, or a HAR capture without an instant_open, "
        "instant_close or TP/SL POST",
        "docs/protocol.md §1",
        "A HAR capture (the POSTs to instant_open, instant_close and the TP/SL /api/v5/ endpoint "
        "are extracted).",
    ),
    # --- Body shape -----------------------------------------------------------------------
    _r(
        "body.kind",
        E,
        "the body has the shape of none of instant_open, instant_close and TP/SL",
        "docs/protocol.md §2",
        "instant_open takes {addMargin?, sendQuote}; instant_close a list of wrapped ops; "
        "POST /api/v5/ takes {typedData, signature, signer}.",
    ),
    _r(
        "json.missing-key",
        E,
        "a required key is missing",
        "docs/protocol.md §2",
        "OpWithSig = {signedOperation:{signer,target,callData,signerAccount:{addr,isPartyB},"
        "flexFields:[{offset,length,authorizedFlexFiller}],maxUses,replayAttackHeader:"
        "{nonce,deadline,salt}}, signature}.",
    ),
    _r(
        "json.unknown-key",
        E,
        "a key that is not part of the body's pinned shape",
        "docs/protocol.md §2, §4",
        "Pin the 7-field SignedOperation (with flexFields and maxUses).",
    ),
    _r(
        "json.type",
        E,
        "a value has the wrong JSON type (object, array or string expected)",
        "docs/protocol.md §3",
        "The wire format the solver expects: objects, arrays and 0x-hex strings as documented.",
    ),
    _r(
        "json.duplicate-key",
        E,
        "a key appears twice in one JSON object (which value a server keeps is undefined)",
        "RFC 8259 §4",
        "The names within an object SHOULD be unique; when they are not, the behaviour of "
        "software that receives such an object is unpredictable.",
    ),
    _r(
        "op.legacy-5-field",
        E,
        "legacy 5-field SignedOperation (no flexFields, no maxUses): it can never verify",
        "docs/protocol.md §11",
        "A payload in the legacy 5-field form is recognised and rejected with a rule that says "
        'exactly that ("legacy 5-field SignedOperation"), not a generic signature failure; '
        "everything else that applies to it is still checked.",
        OPS,
    ),
    _r(
        "generation.v086-send-quote",
        E,
        "a v0.8.6 open on a v0.8.5 context: callData is the capped sendQuote (selector "
        "0x0ac30baf, with SolverFeeCaps)",
        "docs/protocol.md §11",
        "v0.8.6 opens with sendQuote(..., (uint256,uint256) SolverFeeCaps), selector 0x0ac30baf; "
        "a v0.8.5 Symmio core has no such function.",
        OPS,
    ),
    _r(
        "generation.v086-grant-operation",
        E,
        "a v0.8.6 grant operation on a v0.8.5 context (a SignedOperation targeting the "
        "InstantLayer, callData grantDelegation or grantDelegations 0x9cfb6914)",
        "docs/protocol.md §11",
        "In v0.8.6 a delegation grant is itself a SignedOperation whose target is the "
        "InstantLayer; "
        "in v0.8.5 the account owner sends grantDelegation as a transaction.",
        SIGNED_OPS,
    ),
    _r(
        "generation.gasless-gateway",
        E,
        'a GaslessGateway wallet operation (5-field SignedOperation signed under "GaslessGateway" '
        "v1)",
        "docs/protocol.md §11",
        "GaslessGateway wallet operations sign the 5-field SignedOperation under domain "
        '"GaslessGateway"/"1"; they are not InstantLayer operations.',
        OPS,
        ("gasless_gateway",),
    ),
    _r(
        "generation.retired-instant-layer",
        E,
        "the operation is signed for an InstantLayer the context lists as retired",
        "docs/protocol.md §11",
        "An InstantLayer can be retired and replaced; delegations, nonces and replay counts are "
        "not "
        "migrated, so an operation signed for the old one never executes on the new one.",
        SIGNED_OPS,
        ("retired_instant_layers",),
    ),
    _r(
        "deployment.other-layer",
        E,
        "the operation is signed for another deployment's InstantLayer (or a retired one)",
        "docs/protocol.md §13",
        "Each deployment has its own InstantLayer (the verifyingContract) and chain id; two "
        "retired Arbitrum layers still answer reads, so an operation signed for one of them, or "
        "for another chain's layer, fails only downstream (the Trading-SDK changelog records "
        "both incidents).",
        SIGNED_OPS,
    ),
    _r(
        "open.add-margin-absent",
        W,
        "an instant_open without addMargin: the next virtual account must already hold the margin",
        "docs/protocol.md §2, §8",
        "instant_open takes {addMargin?, sendQuote}: addMargin is optional in the solver's schema; "
        "without it the quote is funded only by margin the VA already holds.",
        (INSTANT_OPEN,),
    ),
    _r(
        "close.envelope",
        INFO,
        'close body sent as {"operations": [...]}, the published ApiV2InstantCloseRequest (the '
        "guide sends a bare list)",
        "docs/protocol.md §2, §3; Trading-SDK enigma-solver.ts ApiV2InstantCloseRequest",
        _DOCUMENTED_WIRE + " " + _PUBLISHED,
        (INSTANT_CLOSE,),
    ),
    _r(
        "close.empty",
        E,
        "the close list holds no operation",
        "docs/protocol.md §2, §9",
        "The request body is a JSON array of one wrapped op (1-100 items, one per quote).",
        (INSTANT_CLOSE,),
    ),
    _r(
        "close.op-count",
        E,
        "more than 100 operations in one close request (not checked one by one)",
        "docs/protocol.md §2",
        "POST /instant_trade/instant_close: {operations:[OpWithSig…]} (1–100 items, one per "
        "quote).",
        (INSTANT_CLOSE,),
    ),
    # --- Wire values ------------------------------------------------------------------------
    _r(
        "uint.decimal-string",
        E,
        "a SignedOperation uint (maxUses, nonce, deadline, offset, length) is not a decimal string"
        ' like "1"',
        "docs/protocol.md §3",
        'The solver\'s HTTP layer expects "0" / "1" / decimal strings for nonce, maxUses, deadline '
        "even though they're typed as uint256.",
        OPS,
    ),
    _r(
        "uint.json-number",
        INFO,
        "a SignedOperation uint sent as a JSON integer, as the solver's schema publishes it (the "
        "guide writes decimal strings)",
        "docs/protocol.md §3; Trading-SDK enigma-solver.ts Eip712SignedOperationJSON",
        _PUBLISHED + " [SDK] sends uint fields (nonce, deadline, maxUses, offset, length) as JSON "
        "numbers.",
        OPS,
    ),
    _r(
        "uint.range",
        E,
        "an integer is out of range for its EIP-712 type (uint8, uint256, int256)",
        "docs/protocol.md §3, §4",
        "Each member is encoded as its declared Solidity type (uint256 nonce, uint8 orderType, "
        "int256 quoteId, ...).",
    ),
    _r(
        "int.format",
        E,
        "a TP/SL integer (quoteId, symbolId, positionType, orderType, leverage, chainId) is not "
        "an integer",
        "docs/protocol.md §10",
        "ConditionalOrder(... int256 quoteId,uint256 symbolId,uint8 positionType ...); legs "
        "carry uint8 orderType and SendQuote uint256 leverage.",
        (TPSL,),
    ),
    _r(
        "int.string",
        W,
        "a TP/SL integer sent as a decimal string instead of a JSON number",
        "docs/protocol.md §10",
        "Wire format: salt becomes a decimal string (the other integers stay JSON numbers).",
        (TPSL,),
    ),
    _r(
        "address.format",
        E,
        "an address is not 0x followed by 40 hex digits",
        "docs/protocol.md §3, §4",
        "address members are 20-byte addresses.",
    ),
    _r(
        "address.eip55",
        E,
        "an address is not in EIP-55 checksum form",
        "docs/protocol.md §3, §6",
        "Addresses go on the wire as Web3.to_checksum_address(...) (EIP-55).",
    ),
    _r(
        "bool.type",
        E,
        "a boolean (isPartyB) is not JSON true/false",
        "docs/protocol.md §3, §6",
        '"signerAccount": {"addr": ..., "isPartyB": False} - a JSON boolean.',
        OPS,
    ),
    _r(
        "hex.format",
        E,
        "a byte string (callData, salt, signature) is not 0x-prefixed hex with an even number of "
        "digits",
        "docs/protocol.md §3, §6",
        'call_hex = "0x" + call_data.hex(); salt_hex = "0x" + 32 random bytes in hex.',
    ),
    _r(
        "hex.length",
        E,
        "a fixed-size byte string has the wrong length (salt: bytes32)",
        "docs/protocol.md §3, §4",
        "ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt).",
        OPS,
    ),
    _r(
        "decimal.format",
        E,
        'a TP/SL amount is not a plain decimal string like "1.25"',
        "docs/protocol.md §10",
        "TakeProfit/StopLoss/SendQuote carry string quantity, price and conditionalPrice: "
        "decimal strings.",
        (TPSL,),
    ),
    # --- Signatures -------------------------------------------------------------------------
    _r(
        "sig.length",
        E,
        "the signature is not exactly 65 bytes (r‖s‖v)",
        "docs/protocol.md §5",
        "OZ SignatureChecker accepts a 65-byte ECDSA signature (EIP-2098 compact signatures not "
        "accepted in OZ 4.9.6).",
    ),
    _r(
        "sig.v",
        E,
        "the signature's v is not 27 or 28",
        "docs/protocol.md §5",
        "v must effectively be 27 or 28.",
    ),
    _r(
        "sig.low-s",
        E,
        "the signature's s is in the upper half of the curve order (high-s)",
        "docs/protocol.md §5",
        "OZ ECDSA rejects high-s signatures (InvalidSignature).",
    ),
    _r(
        "sig.range",
        E,
        "the signature's r or s is zero or not below the curve order",
        "docs/protocol.md §5",
        "ECDSA r and s lie in 1..n-1; anything else is InvalidSignature.",
    ),
    _r(
        "sig.unrecoverable",
        E,
        "no public key recovers from the signature",
        "docs/protocol.md §5",
        "isValidSignatureNow(signer, digest, sig) must hold, else InvalidSignature() 0x8baa579f.",
    ),
    _r(
        "sig.signer",
        E,
        "the recovered signer is not the declared signer (SignedOperations: InstantLayer domain "
        "from the context; TP/SL: the body's own domain)",
        "docs/protocol.md §4, §5",
        'The domain is EIP712Domain(name "SymmioInstantLayer", version "1", chainId, '
        "verifyingContract = InstantLayer); the signature is checked against signer.",
        KINDS,
        ("context",),
        SIGNED_OPS,
    ),
    _r(
        "sig.session-key",
        E,
        "the operation or order is not signed by the context's session key",
        "docs/protocol.md §5",
        "PER-TRADE (signed by SESSION KEY only): every open, close, and TP/SL request is signed "
        "by the session key.",
        TRADING,
        ("session_key",),
    ),
    # --- Calldata ---------------------------------------------------------------------------
    _r(
        "calldata.short",
        E,
        "callData is shorter than a 4-byte selector",
        "docs/protocol.md §6",
        "If callData.length < 4: CallDataLengthMismatch() 0x25ddcbe5.",
        OPS,
    ),
    _r(
        "calldata.delegation-key",
        E,
        "callData starts with a delegation-only key (eaa31b19, ee9ef781, 00000001)",
        "docs/protocol.md §7",
        "eaa31b19, ee9ef781 and 00000001 are delegation keys only: valid in a delegation's "
        "selector list, never as the first 4 bytes of an operation's callData.",
        OPS,
    ),
    _r(
        "calldata.selector",
        E,
        "the selector is not the one for this slot (addMargin: addMarginToNextVA, sendQuote: "
        "sendQuoteWithAffiliateAndData, close: requestToClosePosition)",
        "docs/protocol.md §7",
        "addMarginToNextVA 0xa6d66852, sendQuoteWithAffiliateAndData 0xa7f3b34b, "
        "requestToClosePosition 0x501e891f.",
        OPS,
    ),
    _r(
        "calldata.target",
        E,
        "the target is not the contract of the selector (addMargin -> AccountLayer, sendQuote "
        "and close -> Symmio core)",
        "docs/protocol.md §7",
        "addMarginToNextVA(...) on the Account Layer; sendQuoteWithAffiliateAndData(...) on "
        "Symmio Core; the close targets SYMMIO_CORE.",
        OPS,
        ("context",),
    ),
    _r(
        "calldata.decode",
        E,
        "the arguments do not decode completely and canonically for the selector",
        "docs/protocol.md §7",
        "Calldata is selector ‖ abi.encode(args) of the canonical signature: no trailing bytes, "
        "no dirty padding, standard offsets.",
        OPS,
    ),
    _r(
        "calldata.enum",
        E,
        "an enum argument is out of range (positionType, orderType 0..1; vaIsolationType 0..3)",
        "docs/protocol.md §7",
        "PositionType: LONG=0, SHORT=1. OrderType: LIMIT=0, MARKET=1. VirtualAccountIsolationType "
        "POSITION=0 .. MARKET_SHORT=3.",
        OPS,
    ),
    _r(
        "flex.bounds",
        E,
        "a flex field reaches past the end of callData",
        "docs/protocol.md §6",
        "If offset + length + 4 > callData.length, revert with FlexFieldOutOfBounds 0xf470be8e.",
        OPS,
    ),
    # --- Accounts ---------------------------------------------------------------------------
    _r(
        "account.party-b",
        E,
        "signerAccount.isPartyB is true on a frontend (PartyA) operation",
        "docs/protocol.md §3, §6",
        '"signerAccount": {"addr": ..., "isPartyB": False}.',
        OPS,
    ),
    _r(
        "open.signer-account",
        E,
        "an open operation's signerAccount is not the sub-account (the context's, or else the "
        "same for both operations)",
        "docs/protocol.md §8",
        "signerAccount.addr differs by operation. On open it's the sub-account.",
        (INSTANT_OPEN,),
    ),
    _r(
        "close.signer-account",
        E,
        "the close's signerAccount is not the context's virtual account",
        "docs/protocol.md §9",
        "On close it's the virtual account (because the position lives on the VA).",
        (INSTANT_CLOSE,),
        ("virtual_account",),
    ),
    _r(
        "open.add-margin-account",
        E,
        "addMarginToNextVA's sub-account argument is not the operation's signerAccount",
        "docs/protocol.md §8",
        "addMarginToNextVA(subAccount, vaIsoType, symbolId, marginWei) pre-funds the next VA "
        "with margin transferred from the sub-account.",
        (INSTANT_OPEN,),
    ),
    # --- Open semantics ---------------------------------------------------------------------
    _r(
        "open.symbol",
        E,
        "addMarginToNextVA and sendQuote name different symbols",
        "docs/protocol.md §8",
        "Both ops are built for the same symbol_id: margin goes to the next VA for that symbol.",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.va-isolation",
        E,
        "the VA isolation type contradicts the side (MARKET_LONG with a short, MARKET_SHORT with "
        "a long)",
        "docs/protocol.md §8",
        "va_iso = VA_ISO_MARKET_LONG if position_type == POSITION_LONG else VA_ISO_MARKET_SHORT.",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.hedger",
        E,
        "sendQuote's PartyB whitelist is not exactly [the context's hedger]",
        "docs/protocol.md §8",
        "encode_send_quote(... [Web3.to_checksum_address(hedger)] ...): the whitelist is the "
        "PartyB the sub-account is bound to.",
        (INSTANT_OPEN,),
        ("hedger",),
    ),
    _r(
        "open.affiliate",
        E,
        "sendQuote's affiliate is not the context's affiliate",
        "docs/protocol.md §8",
        "The creation struct pins the affiliate; sendQuote passes AFFILIATE.",
        (INSTANT_OPEN,),
        ("affiliate",),
    ),
    _r(
        "open.upnl-sig",
        E,
        "sendQuote's upnlSig carries attestation data (a non-zero upnl, reqId, gateway or "
        "Schnorr signature) instead of a placeholder",
        "docs/protocol.md §8",
        "upnlSig is a placeholder in one of three forms, all conforming: the guide's all-zero "
        "sentinel; the SDK's (zero upnl, a zero or empty reqId, empty signatures, price = the "
        "requested open price, timestamp = now); or that placeholder with one flex field over "
        "its region that the solver fills.",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.upnl-sig-price",
        E,
        "sendQuote's upnlSig.price is neither 0 nor the quote's requested price (MARKET quote)",
        "docs/protocol.md §8",
        "For a MARKET quote the core checks and charges the opening fee on upnlSig.price, "
        "unverified: the price is 0 (the guide) or the quote's requested open price (the SDK).",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.upnl-sig-flex-count",
        E,
        "sendQuote carries more than one flex field",
        "docs/protocol.md §8",
        "sendQuote carries no flex field, or exactly one covering the upnlSig region.",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.upnl-sig-flex-range",
        E,
        "a sendQuote flex field covers anything but exactly the encoded upnlSig region",
        "docs/protocol.md §8",
        "The flex range is [head word of upnlSig, head word of data) of the encoded arguments, "
        "computed from the callData itself.",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.upnl-sig-flex-filler",
        E,
        "a sendQuote flex field's authorizedFlexFiller is not the context's hedger",
        "docs/protocol.md §8",
        "Its authorizedFlexFiller is the solver's PartyB (the hedger), which fills the region as "
        "the transaction's sender.",
        (INSTANT_OPEN,),
        ("hedger",),
    ),
    _r(
        "open.add-margin-flex",
        E,
        "addMarginToNextVA carries a flex field",
        "docs/protocol.md §8",
        "addMarginToNextVA carries no flex field (the SDK keeps it fully fixed).",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.quote-data",
        E,
        "sendQuote's data is not the ABI encoding of a (string uuid) tuple",
        "docs/protocol.md §8",
        'The reference implementation stuffs a UUID into it via abi_encode(["(string)"], '
        "[(uuid,)]).",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.quote-uuid",
        W,
        "the string in sendQuote's data is not a UUID",
        "docs/protocol.md §8",
        "The data field carries a client-side correlation ID: str(uuid.uuid4()).",
        (INSTANT_OPEN,),
    ),
    _r(
        "open.precision",
        E,
        "sendQuote's price or quantity (wei) has more decimals than the symbol allows",
        "docs/protocol.md §8",
        "req_price is quantized to price_precision and qty to quantity_precision before to_wei.",
        (INSTANT_OPEN,),
        ("symbols",),
    ),
    _r(
        "symbol.known",
        E,
        "the symbolId is not among the context's symbols",
        "docs/protocol.md §8, §10",
        "Symbols come from /contract-symbols: symbol_id, price_precision, quantity_precision.",
        (INSTANT_OPEN, TPSL),
        ("symbols",),
    ),
    # --- Replay header and deadlines ---------------------------------------------------------
    _r(
        "deadline.expired",
        E,
        "replayAttackHeader.deadline is not in the future",
        "docs/protocol.md §6",
        "If deadline != 0 and deadline < block.timestamp: DeadlineExpired(uint256) 0xbc3088ef.",
        SIGNED_OPS,
    ),
    _r(
        "deadline.never",
        W,
        "replayAttackHeader.deadline is 0: the operation never expires",
        "docs/protocol.md §6",
        "A deadline of 0 means it never expires.",
        SIGNED_OPS,
    ),
    _r(
        "deadline.call-expired",
        E,
        "the deadline argument of sendQuote or requestToClosePosition is not in the future",
        "docs/protocol.md §7",
        "deadline = int(time.time()) + 3600 is passed to sendQuote and to requestToClosePosition.",
        OPS,
    ),
    _r(
        "salt.zero",
        E,
        "replayAttackHeader.salt is all zero bytes",
        "docs/protocol.md §3, §6",
        "Salt-only nonces: nonce=0 lets multiple operations execute in any order as long as each "
        "salt is unique (salt = 32 random bytes).",
        SIGNED_OPS,
    ),
    _r(
        "salt.unique",
        E,
        "two operations in one body share a salt",
        "docs/protocol.md §3, §6",
        "nonce=0 lets multiple operations execute in any order as long as each salt is unique.",
        SIGNED_OPS,
    ),
    _r(
        "maxuses.one",
        W,
        "maxUses is not 1 (0 = unlimited replays until the deadline; N > 1 = N executions)",
        "docs/protocol.md §6",
        "maxUses=1 for standard ops. maxUses=0 means unlimited until the deadline, useful for "
        "flex-field flows.",
        OPS,
    ),
    _v086(
        "deadline.none",
        INFO,
        "replayAttackHeader.deadline is 0 on v0.8.6: no deadline (named as information)",
        "Deadline 0 means no deadline (deadline != 0 && deadline < now reverts).",
        SIGNED_OPS,
    ),
    _v086(
        "salt.fee-limit",
        INFO,
        "replayAttackHeader.salt is a v0.8.6 fee-limit salt: its maximum relay fee and caller "
        "salt, decoded",
        "When salt bytes 0..8 equal the tag 0x596c7d5c49096006, bytes 8..24 are a uint128 maximum "
        "fee (18 decimals) and bytes 24..32 the caller's salt; a salt rule must decode these, "
        "never call them low-entropy.",
        SIGNED_OPS,
    ),
    # --- v0.8.6 opens -----------------------------------------------------------------------
    _v086(
        "open.v086-capped-required",
        E,
        "on v0.8.6 the sendQuote slot calls the legacy sendQuoteWithAffiliateAndData "
        "(0xa7f3b34b), which stores zero SolverFeeCaps; the capped sendQuote 0x0ac30baf is "
        "required",
        "The legacy sendQuoteWithAffiliateAndData (0xa7f3b34b) still exists on a v0.8.6 diamond "
        "but stores zero caps.",
        (INSTANT_OPEN,),
    ),
    _v086(
        "open.v086-fee-cap-minimum",
        E,
        "a SolverFeeCaps cap is below its symbol's min_open_solver_fee_cap / "
        "min_close_solver_fee_cap",
        "contract-symbols carries min_open_solver_fee_cap / min_close_solver_fee_cap (decimal "
        'strings, default "0"): a quote must allow at least these.',
        (INSTANT_OPEN,),
        ("symbols",),
    ),
    # --- v0.8.6 grant operations (each named by the InstantLayer's revert) --------------------
    _v086(
        "grant.target",
        E,
        "a grant operation does not target the InstantLayer itself",
        "An owner-signed SignedOperation whose target is the InstantLayer itself and whose "
        "callData is grantDelegation (0xfd7f4c5e) or grantDelegations (0x9cfb6914).",
        GRANTS,
        ("context",),
    ),
    _v086(
        "grant.selector",
        E,
        "a grant operation calls another InstantLayer function than grantDelegation / "
        "grantDelegations (InvalidGrantOperation 0xf7b39f62)",
        "Any other self-target selector, non-empty flexFields, or maxUses != 1 -> "
        "InvalidGrantOperation() 0xf7b39f62, raised directly (not wrapped).",
        GRANTS,
    ),
    _v086(
        "grant.flex-fields",
        E,
        "a grant operation has flexFields (InvalidGrantOperation 0xf7b39f62)",
        "Any other self-target selector, non-empty flexFields, or maxUses != 1 -> "
        "InvalidGrantOperation() 0xf7b39f62, raised directly (not wrapped).",
        GRANTS,
    ),
    _v086(
        "grant.max-uses",
        E,
        "a grant operation's maxUses is not 1 (InvalidGrantOperation 0xf7b39f62)",
        "Any other self-target selector, non-empty flexFields, or maxUses != 1 -> "
        "InvalidGrantOperation() 0xf7b39f62, raised directly (not wrapped).",
        GRANTS,
    ),
    _v086(
        "grant.signer-owner",
        E,
        "a grant operation is not signed by the account owner (InvalidDelegation 0xa9e649e9)",
        "Signed by a non-owner (e.g. the session key) -> InvalidDelegation 0xa9e649e9.",
        GRANTS,
        ("owner",),
    ),
    _v086(
        "grant.party-b",
        E,
        "a grant operation is signed for a PartyB account (InvalidDelegation 0xa9e649e9)",
        "Signed for a PartyB account -> InvalidDelegation 0xa9e649e9.",
        GRANTS,
    ),
    _v086(
        "grant.account",
        E,
        "a DelegationInfo's account is not the operation's signerAccount (InvalidDelegation "
        "0xa9e649e9)",
        "DelegationInfo.account.addr != signerAccount.addr (exact address), or a "
        "grantDelegations entry for another account -> InvalidDelegation 0xa9e649e9.",
        GRANTS,
    ),
    _v086(
        "grant.empty",
        E,
        "grantDelegations with an empty list (InvalidDelegation 0xa9e649e9)",
        "grantDelegations with an entry for another account or an empty list -> InvalidDelegation.",
        GRANTS,
    ),
    _v086(
        "grant.selectors-empty",
        E,
        "a DelegationInfo grants no selector (InvalidDelegation 0xa9e649e9)",
        "An empty selector list -> InvalidDelegation 0xa9e649e9.",
        GRANTS,
    ),
    _v086(
        "grant.expired",
        E,
        "a DelegationInfo's expiryTimestamp is not after now (DelegationExpired(uint256) "
        "0x12b6b89c)",
        "expiry <= now -> DelegationExpired(uint256) 0x12b6b89c.",
        GRANTS,
    ),
    _v086(
        "grant.self-delegation",
        E,
        "a DelegationInfo delegates to the owner itself (SelfDelegation 0x52e0d047)",
        "delegate == owner -> SelfDelegation 0x52e0d047.",
        GRANTS,
    ),
    _v086(
        "grant.session-key-set",
        E,
        "on v0.8.6 a delegation grants the v0.8.5 session-key set (the legacy open 0xa7f3b34b): "
        "re-grant with the v0.8.6 set",
        "Session-key selector set v0.8.6: [0xa6d66852, 0x0ac30baf, 0x501e891f]; v0.8.5: "
        "[0xa6d66852, 0xa7f3b34b, 0x501e891f]. Keys granted under the old set must be re-granted.",
        GRANTS,
    ),
    # --- TP/SL ------------------------------------------------------------------------------
    _r(
        "tpsl.primary-type",
        E,
        'typedData.primaryType is not "ConditionalOrder"',
        "docs/protocol.md §10",
        'typed = {"domain": ..., "types": ..., "primaryType": "ConditionalOrder", "message": ...}.',
        (TPSL,),
    ),
    _r(
        "tpsl.types",
        E,
        "typedData.types differ from the pinned ConditionalOrder types",
        "docs/protocol.md §10",
        "ConditionalOrder(address virtualAccount,address subAccount,uint256 salt,int256 quoteId,"
        "uint256 symbolId,uint8 positionType,address affiliate,TakeProfit takeProfit,StopLoss "
        "stopLoss,SendQuote sendQuote) with the pinned leg types.",
        (TPSL,),
    ),
    _r(
        "tpsl.types-no-domain",
        W,
        "typedData.types does not list EIP712Domain",
        "docs/protocol.md §10",
        "CONDITIONAL_ORDER_TYPES lists EIP712Domain(name, version, chainId, verifyingContract).",
        (TPSL,),
    ),
    _r(
        "tpsl.salt-string",
        E,
        "the TP/SL salt is not sent as a decimal string",
        "docs/protocol.md §10",
        'Wire format: salt becomes a decimal string (wire["message"]["salt"] = str(salt_int)).',
        (TPSL,),
    ),
    _r(
        "tpsl.domain",
        E,
        "the TP/SL domain is not the configured ConditionalOrder domain",
        "docs/protocol.md §4, §10",
        'TP/SL (ConditionalOrder) domain is configuration. Default: name "ConditionalOrder", '
        'version "1", verifyingContract = InstantLayer.',
        (TPSL,),
        ("context",),
    ),
    _r(
        "tpsl.virtual-account",
        E,
        "message.virtualAccount is not the context's virtual account",
        "docs/protocol.md §10",
        "The virtualAccount is the VA that owns the quote (stored as party_a_address).",
        (TPSL,),
        ("virtual_account",),
    ),
    _r(
        "tpsl.sub-account",
        E,
        "message.subAccount is not the context's sub-account",
        "docs/protocol.md §10",
        '"subAccount": Web3.to_checksum_address(sub_account).',
        (TPSL,),
        ("sub_account",),
    ),
    _r(
        "tpsl.affiliate",
        E,
        "message.affiliate is not the context's affiliate",
        "docs/protocol.md §10",
        '"affiliate": AFFILIATE.',
        (TPSL,),
        ("affiliate",),
    ),
    _r(
        "tpsl.enum",
        E,
        "positionType or a leg's orderType is not 0 or 1",
        "docs/protocol.md §10",
        "PositionType: LONG=0, SHORT=1. OrderType: LIMIT=0, MARKET=1.",
        (TPSL,),
    ),
    _r(
        "tpsl.price-type",
        E,
        'a conditionalPriceType is not "market" or "last_close"',
        "docs/protocol.md §10",
        'conditionalPriceType is "market" or "last_close".',
        (TPSL,),
    ),
    _r(
        "tpsl.zero-leg",
        E,
        "an unused leg (quantity 0) is not exactly the canonical zero leg",
        "docs/protocol.md §10",
        'A null leg is padded with {quantity:"0", price:"0", orderType:0, conditionalPrice:"0", '
        'conditionalPriceType:"market"}, plus leverage: 0 for sendQuote.',
        (TPSL,),
    ),
    _r(
        "tpsl.leg-used",
        E,
        "no leg is used: takeProfit, stopLoss and sendQuote are all zero legs",
        "docs/protocol.md §10",
        "at least one of tp_price / sl_price must be set.",
        (TPSL,),
    ),
    _r(
        "tpsl.precision",
        E,
        "a TP/SL amount has more decimals than the symbol's price or quantity precision",
        "docs/protocol.md §10",
        "Every numeric string in the order should match the symbol's price_precision / "
        "quantity_precision (407: provided values do not meet the required precision).",
        (TPSL,),
        ("symbols",),
    ),
    _r(
        "tpsl.trigger-zero",
        E,
        "a used take-profit or stop-loss leg has conditionalPrice (its trigger) 0",
        "docs/protocol.md §10",
        "A used take-profit or stop-loss leg has a conditionalPrice (trigger) and a price above "
        "zero.",
        (TPSL,),
    ),
    _r(
        "tpsl.price-zero",
        E,
        "a used take-profit or stop-loss leg has price 0 (the close could never be filled)",
        "docs/protocol.md §10",
        "A used take-profit or stop-loss leg has a conditionalPrice (trigger) and a price above "
        "zero.",
        (TPSL,),
    ),
    _r(
        "tpsl.sl-beyond-tp",
        E,
        "the stop-loss trigger is at or beyond the take-profit trigger for the position's side",
        "docs/protocol.md §10",
        "With both legs, the stop-loss is not at or beyond the take-profit.",
        (TPSL,),
    ),
    _r(
        "tpsl.trigger-side",
        E,
        "a trigger lies on the wrong side of the mark (long: TP below, SL above; short: the "
        "opposite): the order would fire at once",
        "docs/protocol.md §10",
        "Its trigger lies on the position's side of the current mark (long: take-profit above "
        "the mark, stop-loss below; short: the opposite), never at it.",
        (TPSL,),
        ("mark_prices",),
    ),
    _r(
        "tpsl.trigger-at-mark",
        E,
        "a trigger equals the current mark: the order would fire at once",
        "docs/protocol.md §10",
        "Its trigger lies on the position's side of the current mark (long: take-profit above "
        "the mark, stop-loss below; short: the opposite), never at it.",
        (TPSL,),
        ("mark_prices",),
    ),
    _r(
        "tpsl.min-distance",
        E,
        "a trigger is closer to the mark than MinPriceDistancePercent",
        "docs/protocol.md §10",
        "At least MinPriceDistancePercent of the mark away from it (|trigger - mark| / mark x "
        "100).",
        (TPSL,),
        ("mark_prices", "coh_limits"),
    ),
    _r(
        "tpsl.tp-sl-spread",
        E,
        "take-profit and stop-loss are closer than MinProfitStopLossSpreadPercent of the mark",
        "docs/protocol.md §10",
        "|TP - SL| / mark x 100 is at least MinProfitStopLossSpreadPercent.",
        (TPSL,),
        ("mark_prices", "coh_limits"),
    ),
    _r(
        "tpsl.quantity-position",
        E,
        "a leg's quantity is above the position's open quantity",
        "docs/protocol.md §10",
        "A leg's quantity is not above the position's open quantity.",
        (TPSL,),
        ("open_quantities",),
    ),
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def severity_of(rule_id: str) -> Severity:
    """The catalogue's severity of a rule; codes outside it (context.*) are errors."""
    rule = BY_ID.get(rule_id)
    return rule.severity if rule is not None else "error"


def rules_for(kind: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if kind in rule.kinds)
