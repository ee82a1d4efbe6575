"""What the engine learns about one body before any rule is judged, computed once.

The wire reader runs once; each operation's calldata is decoded once for its slot, each
signature's form is checked once and it is recovered once (under the domain it is judged with).
Checks (`checks`) only read these facts. The typed body and the decoded arguments travel on in
the verdict, so nothing downstream reads or decodes the body again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import calldata as cd
from ..errors import CalldataError, SignatureError
from ..model import Domain, LegacySignedOperation, SignedOperation
from ..protocol import Protocol
from ..signatures import check_signature, well_formed
from ..wire import TpslParts, join_path

#: The function each slot of a body calls (v0.8.5's; `slot_functions` gives a generation's).
SLOT_FUNCTION: dict[str, cd.Function] = {
    "addMargin": cd.ADD_MARGIN_TO_NEXT_VA,
    "sendQuote": cd.SEND_QUOTE_WITH_AFFILIATE_AND_DATA,
    "close": cd.REQUEST_TO_CLOSE_POSITION,
    "grant": cd.GRANT_DELEGATION,
}


def slot_functions(generation: type[Protocol]) -> dict[str, tuple[cd.Function, ...]]:
    """The functions each slot may call in `generation`, the one it should call first. On
    v0.8.6 the sendQuote slot decodes the legacy open too (it still exists on the diamond, and
    stores zero caps: `open.v086-capped-required` names it), so that every other open rule
    still judges it; a grant operation calls grantDelegation or grantDelegations."""
    opens = (cd.open_function(generation),)
    if generation.legacy_open_function is not None:
        opens += (cd.NAMED[generation.legacy_open_function],)
    return {
        "addMargin": (cd.ADD_MARGIN_TO_NEXT_VA,),
        "sendQuote": opens,
        "close": (cd.REQUEST_TO_CLOSE_POSITION,),
        "grant": (cd.GRANT_DELEGATION, cd.GRANT_DELEGATIONS),
    }


@dataclass(slots=True)
class Signed:
    """A signature and what it is judged against: the form, and the address it recovers to."""

    path: str  # JSON path of the signature
    signature: bytes | None
    form_error: SignatureError | None = None
    recovered: bytes | None = None  # 20 bytes, when recovered under `domain`
    recover_error: SignatureError | None = None
    domain: Domain | None = None

    @classmethod
    def of(cls, path: str, signature: bytes | None) -> Signed:
        signed = cls(path, signature)
        if signature is not None and not well_formed(signature):
            try:
                check_signature(signature)
            except SignatureError as exc:
                signed.form_error = exc
        return signed

    @property
    def usable(self) -> bool:
        return self.signature is not None and self.form_error is None

    def record(self, domain: Domain, recovered: bytes | SignatureError) -> None:
        """What the signature recovered to under `domain` (`signatures.recover_many`)."""
        self.domain = domain
        if isinstance(recovered, SignatureError):
            self.recover_error = recovered
        else:
            self.recovered = recovered


@dataclass(slots=True)
class Op:
    """One operation that read: the typed value, its slot, its signature, its decoded call."""

    path: str  # JSON path of the wrapped operation
    slot: str  # addMargin | sendQuote | close | grant
    op: SignedOperation | LegacySignedOperation
    signed: Signed
    selector: bytes | None = None
    args: dict[str, Any] | None = None  # decoded for the slot's function, canonically
    decode_error: str | None = None
    explained: frozenset[str] = frozenset()  # generation rules that explain a mismatch
    other_type: str | None = None  # the type the signature is over, when not the one shown
    retired_layer: str | None = None  # the retired InstantLayer the signature is for
    foreign_layer: str | None = None  # another deployment's InstantLayer it is for (described)
    quote_uuid: tuple[str | None, str | None] | None = None  # sendQuote data: (uuid, error)
    called: cd.Function | None = None  # the slot function the selector names (decode)
    expected: cd.Function | None = None  # the function the slot should call (decode)

    @property
    def op_path(self) -> str:
        return join_path(self.path, "signedOperation")

    @property
    def call_path(self) -> str:
        return join_path(self.path, "signedOperation.callData")

    @property
    def legacy(self) -> bool:
        return isinstance(self.op, LegacySignedOperation)

    @property
    def function(self) -> cd.Function:
        """The function this slot calls: the one the selector names among the slot's, else the
        one the slot should call."""
        return self.called or self.expected or SLOT_FUNCTION[self.slot]

    def decode(self, functions: tuple[cd.Function, ...] | None = None) -> None:
        """Decode the callData with the slot's function its selector names (`functions`, the
        expected one first; default v0.8.5's one); `called` stays None when none matches."""
        functions = functions or (SLOT_FUNCTION[self.slot],)
        self.expected = functions[0]
        data = self.op.call_data
        if len(data) < 4:
            return
        self.selector = data[:4]
        for fn in functions:
            if self.selector == fn.selector:
                self.called = fn
                try:
                    self.args = fn.decode(data)
                except CalldataError as exc:
                    self.decode_error = str(exc)
                return


#: Facts a check can be registered `only_if` (bits of `Body.flags`, set while the facts are
#: computed): a signature is malformed or recovers to nothing; an operation's calldata is not
#: exactly its slot's function; another generation explains a signature (Op.explained).
SIGNATURE_PROBLEM, CALL_PROBLEM, EXPLAINED = 1, 2, 4
FACT_FLAGS: dict[str, int] = {
    "signature_problem": SIGNATURE_PROBLEM,
    "call_problem": CALL_PROBLEM,
    "explained": EXPLAINED,
}


@dataclass(slots=True)
class Body:
    """One body's facts: its kind, its operations (or TP/SL parts), and the typed value."""

    kind: str
    ops: list[Op] = field(default_factory=list)
    add_margin: Op | None = None
    send_quote: Op | None = None
    add_margin_present: bool = True
    tpsl: TpslParts | None = None
    tpsl_signed: Signed | None = None
    value: Any = None  # InstantOpen / InstantClose / TpslRequest when the body read completely
    signatures: list[tuple[Signed, str | None]] | None = None  # (signature, declared signer)
    flags: int = 0  # FACT_FLAGS bits: checks registered `only_if` one run only when it is set

    def signed_by_signers(self) -> list[tuple[Signed, str | None]]:
        """Every signature of the body with its declared signer (listed once per body: the
        engine and six checks read it)."""
        out = self.signatures
        if out is None:
            out = [(op.signed, op.op.signer) for op in self.ops]
            if self.tpsl_signed is not None:
                signer = self.tpsl.signer if self.tpsl is not None else None
                out.append((self.tpsl_signed, signer))
            self.signatures = out
        return out

    @property
    def calls(self) -> dict[str, dict[str, Any]]:
        """Decoded calldata arguments by the JSON path of their operation."""
        return {op.path: op.args for op in self.ops if op.args is not None}
