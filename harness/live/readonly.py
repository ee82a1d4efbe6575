"""Stage 1 of a live smoke run: read-only checks, safe against any deployment.

Nothing is signed or sent: every chain check is an `eth_call` or `eth_getCode`, every service
check a GET. What it proves: the chain is the one the profile names, the configured contracts
exist, the InstantLayer's domain separator and typehash constants equal ours, its
`getOperationHash` equals our digest for sample operations (so our EIP-712 signing matches the
deployed contract), its revocation cooldown is within the real bounds, the deployment's
generation is the one we pin, and the solver's and COH's published configuration parses and
equals our pinned types. A drift names the differing field and both values.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from web3 import Web3

from .. import deployments, eip712, pricing, wire
from ..calldata import (
    ADD_MARGIN_TO_NEXT_VA,
    REQUEST_TO_CLOSE_POSITION,
    VA_ISO_MARKET_LONG,
    operation_args,
)
from ..chain import surface
from ..errors import HarnessError
from ..model import Account, FlexField, ReplayAttackHeader, SignedOperation
from ..primitives import to_hex
from ..protocol import V0_8_5, V0_8_6
from .config import ENV, Profile

PASS, FAIL, SKIP = "pass", "fail", "skip"
#: The real contract's bounds (InstantLayer.setRevocationCooldown).
COOLDOWN_BOUNDS = (5 * 60, 30 * 86_400)
#: InstantLayer constant -> our type whose hash it must be
TYPEHASH_CONSTANTS = {
    "ACCOUNT_TYPEHASH": "Account",
    "REPLAY_HEADER_TYPEHASH": "ReplayAttackHeader",
    "FLEX_FIELD_TYPEHASH": "FlexField",
    "FLEX_FILL_AUTH_TYPEHASH": "FlexFillAuth",
    "DELEGATION_INFO_TYPEHASH": "DelegationInfo",
    "SIGNED_DELEGATION_TYPEHASH": "SignedDelegation",
}
#: Selectors whose presence in the InstantLayer's dispatcher names its generation.
V085_SELECTORS = ("06bcc336", "adc33a88")  # 4-argument executeBatch, executeTemplate
LEGACY_SELECTORS = ("a623ad55", "75fc7332")  # 2-argument (5-field) executeBatch, executeTemplate
V086_SELECTORS = {
    "9cfb6914": "grantDelegations(DelegationInfo[])",
    "982a80f9": "setTransientContextEnabled(bool)",
}


class Unreachable(HarnessError):
    """An endpoint did not answer (stage 1 cannot start): exit 2."""


@dataclass(frozen=True)
class Check:
    id: str
    status: str  # pass | fail | skip
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "status": self.status, "detail": self.detail}


def _same(what: str, ours: Any, theirs: Any) -> Check:
    if ours == theirs:
        return Check(what, PASS, _show(ours))
    return Check(what, FAIL, f"drift: ours {_show(ours)}, deployed {_show(theirs)}")


def _show(value: Any) -> str:
    """A value as a reader wants it, never a Python repr: bytes in hex, a Decimal positionally
    (`2`, `0.5`, never `Decimal('2')` or `1E+1`), a dataclass as `field value, ...`, JSON
    (what a service served) as JSON."""
    if isinstance(value, bytes | bytearray):
        return to_hex(bytes(value))
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ", ".join(
            f"{f.name} {_show(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
    if isinstance(value, dict | list | str | bool) or value is None:
        return json.dumps(value, default=str)
    return str(value)


def _decimal_text(value: Decimal) -> str:
    """Positional notation without trailing zeros: 2, 0.5, 100 (not 1E+2)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def locked_params_text(params: pricing.LockedParamsPct) -> str:
    """The solver's locked parameters as served, percentages: `cva 2 %, lf 1 %, ...`."""
    percentages = (
        ("cva", params.cva),
        ("lf", params.lf),
        ("partyAmm", params.party_amm),
        ("partyBmm", params.party_bmm),
    )
    shown = ", ".join(f"{name} {_decimal_text(value)} %" for name, value in percentages)
    return f"{shown}, leverage {params.leverage}"


def sample_operations(profile: Profile) -> dict[str, SignedOperation]:
    """Operations whose digests the deployed contract must reproduce: a PartyA addMarginToNextVA,
    a close with a flex field, a PartyB operation with a nonce. Never signed, never sent."""
    signer = "0x1111111111111111111111111111111111111111"
    sub = "0x2222222222222222222222222222222222222222"
    header = ReplayAttackHeader(0, 1_900_000_000, b"\x5a" * 32)
    margin = ADD_MARGIN_TO_NEXT_VA.encode(sub, VA_ISO_MARKET_LONG, 1, 10**18)
    close = REQUEST_TO_CLOSE_POSITION.encode(7, 65_000 * 10**18, 10**15, 1, 1_900_000_000)
    core, al = profile.symmio_core or sub, profile.account_layer or sub
    return {
        "addMarginToNextVA": SignedOperation(
            signer, al, margin, Account(sub, False), (), 1, header
        ),
        "close with a flex field": SignedOperation(
            signer, core, close, Account(sub, False), (FlexField(32, 32, signer),), 0, header
        ),
        "PartyB operation with a nonce": SignedOperation(
            sub, core, close, Account(sub, True), (), 2, ReplayAttackHeader(3, 0, b"\x01" * 32)
        ),
    }


class ReadOnlyRun:
    """Stage 1 against one profile. `run()` yields every check; `Unreachable` if the RPC is."""

    def __init__(
        self,
        profile: Profile,
        *,
        w3: Web3 | None = None,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.profile = profile
        if w3 is None and profile.rpc_url is not None:
            provider = Web3.HTTPProvider(profile.rpc_url, request_kwargs={"timeout": timeout})
            w3 = Web3(provider)
        self.w3 = w3
        self.http = http if http is not None else httpx.Client(timeout=timeout)

    def run(self) -> list[Check]:
        return list(self._checks())

    # ------------------------------------------------------------------ chain
    def _checks(self) -> Iterator[Check]:
        p = self.profile
        if self.w3 is None:
            raise Unreachable(f"{ENV['rpc_url']} is not set")
        try:
            chain_id = self.w3.eth.chain_id
        except Exception as exc:  # any transport failure: one line, exit 2
            raise Unreachable(
                f"{ENV['rpc_url']} {p.rpc_url}: no JSON-RPC answer ({type(exc).__name__})"
            ) from None
        yield _same("chain.id", p.chain_id, chain_id)
        code: dict[str, bytes] = {}
        for key in ("instant_layer", "account_layer", "symmio_core", "collateral"):
            address = getattr(p, key)
            if address is None:
                if key != "collateral":
                    yield Check(f"code.{key}", FAIL, f"{ENV[key]} is not set")
                continue
            code[key] = bytes(self.w3.eth.get_code(address))
            yield Check(
                f"code.{key}",
                PASS if code[key] else FAIL,
                f"{len(code[key])} bytes at {address}" if code[key] else f"no code at {address}",
            )
        il = p.instant_layer
        if il is None or not code.get("instant_layer"):
            reason = "no InstantLayer to read" if il is None else f"no code at {il}"
            for what in self._instant_layer_check_ids():
                yield Check(what, FAIL, reason)
        else:
            yield from self._instant_layer(chain_id, il, code["instant_layer"])
        yield from self._services(chain_id)

    def _instant_layer_check_ids(self) -> list[str]:
        ids = ["il.domain_separator"]
        ids += [f"il.typehash.{c}" for c in TYPEHASH_CONSTANTS]
        ids += [f"il.operation_hash[{n}]" for n in sample_operations(self.profile)]
        return [*ids, "il.revocation_cooldown", "il.generation"]

    def _instant_layer(self, chain_id: int, address: str, code: bytes) -> Iterator[Check]:
        assert self.w3 is not None
        contract = self.w3.eth.contract(address, abi=surface.abi("InstantLayer"))
        fns = contract.functions
        domain = eip712.instant_layer_domain(chain_id, address)

        def read(what: str, call: Callable[[], Any], expect: Any) -> Check:
            try:
                got = call()
            except Exception as exc:  # a revert or a missing function: the check fails
                return Check(what, FAIL, f"the call failed ({type(exc).__name__}: {exc})"[:300])
            return _same(what, expect, bytes(got) if isinstance(got, bytes) else got)

        yield read(
            "il.domain_separator", lambda: fns.domainSeparator().call(), eip712.separator(domain)
        )
        for const, type_name in TYPEHASH_CONSTANTS.items():
            yield read(
                f"il.typehash.{const}",
                lambda c=const: getattr(fns, c)().call(),
                eip712.TYPEHASH[type_name],
            )
        for name, op in sample_operations(self.profile).items():
            yield read(
                f"il.operation_hash[{name}]",
                lambda o=op: fns.getOperationHash(operation_args(o)).call(),
                eip712.digest(domain, op),
            )
        try:
            cooldown = fns.revocationCooldown().call()
        except Exception as exc:
            yield Check("il.revocation_cooldown", FAIL, f"the call failed ({type(exc).__name__})")
        else:
            low, high = COOLDOWN_BOUNDS
            ok = low <= cooldown <= high
            yield Check(
                "il.revocation_cooldown",
                PASS if ok else FAIL,
                f"{cooldown} s" + ("" if ok else f" (the real bounds are {low}..{high} s)"),
            )
        yield self._generation(address, code)

    def _generation(self, address: str, code: bytes) -> Check:
        known = deployments.owner_of_layer(address)
        if address in self.profile.retired_instant_layers or (
            known is not None and known[1].status is not deployments.Status.TRADING
        ):
            replaced = (
                f"; {known[0].name} replaced it with {known[1].replaced_by}"
                if known is not None and known[1].replaced_by
                else ""
            )
            return Check(
                "il.generation",
                FAIL,
                f"{address} is a retired InstantLayer (its delegations, nonces and replay counts "
                f"were not migrated: operations signed for it are dead){replaced}",
            )

        wanted = self.profile.deployment
        if known is not None and wanted is not None and known[0].name != wanted:
            return Check(
                "il.generation",
                FAIL,
                f"{address} is the InstantLayer of {known[0].name}, not of {wanted}: operations "
                f"signed for it are verified by {known[0].name}'s layer",
            )

        def has(selector: str) -> bool:
            return b"\x63" + bytes.fromhex(selector) in code  # PUSH4 <selector> in the dispatcher

        expected = self.profile.generation
        newer = [sig for sel, sig in V086_SELECTORS.items() if has(sel)]
        if newer:
            if expected.at_least(V0_8_6):
                return Check("il.generation", PASS, f"v0.8.6 (has {', '.join(newer)})")
            return Check(
                "il.generation",
                FAIL,
                f"contracts-version mismatch: the profile expects v{expected.version}, the "
                f"InstantLayer is v0.8.6 (has {', '.join(newer)}); name its deployment "
                '(deployment = "arbitrum")',
            )
        if all(has(s) for s in V085_SELECTORS):
            if expected is not V0_8_5:
                return Check(
                    "il.generation",
                    FAIL,
                    f"contracts-version mismatch: the profile expects v{expected.version} "
                    f"({self.profile.deployment}), the InstantLayer is v0.8.5",
                )
            return Check("il.generation", PASS, "v0.8.5 (7-field SignedOperation, FlexFillAuth)")
        if any(has(s) for s in LEGACY_SELECTORS):
            return Check(
                "il.generation", FAIL, "legacy 5-field InstantLayer (2-argument executeBatch)"
            )
        return Check("il.generation", FAIL, "not an InstantLayer of a known generation")

    # --------------------------------------------------------------- services
    def _get(self, base: str, path: str, **params: Any) -> Any:
        url = base + path
        try:
            response = self.http.get(url, params=params or None)
        except httpx.HTTPError as exc:
            raise Unreachable(f"GET {url}: no answer ({type(exc).__name__})") from None
        if not response.is_success:
            raise _Refused(f"GET {url}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise _Refused(f"GET {url}: not JSON") from None

    def _services(self, chain_id: int) -> Iterator[Check]:
        p = self.profile
        if p.solver_base is None:
            for what in ("solver.symbols", "solver.locked_params", "solver.eip712_config"):
                yield Check(what, SKIP, f"{ENV['solver_base']} is not set")
        else:
            yield from self._solver(p.solver_base, chain_id)
        if p.tpsl_base is None:
            yield Check("coh.signing_spec", SKIP, f"{ENV['tpsl_base']} is not set")
        else:
            yield self._guard("coh.signing_spec", lambda: self._coh(p.tpsl_base or "", chain_id))

    @staticmethod
    def _guard(what: str, check: Callable[[], Check]) -> Check:
        try:
            return check()
        except _Refused as exc:
            return Check(what, FAIL, str(exc))
        except HarnessError as exc:
            if isinstance(exc, Unreachable):
                raise
            return Check(what, FAIL, str(exc))

    def _solver(self, base: str, chain_id: int) -> Iterator[Check]:
        first: dict[str, Any] = {}

        def symbols() -> Check:
            got = self._get(base, "/api/contract-symbols")
            rows = got.get("symbols") if isinstance(got, dict) else None
            if not isinstance(rows, list) or not rows:
                return Check(
                    "solver.symbols", FAIL, f"expected {{symbols: [...]}}, got {_show(got)}"[:200]
                )
            for i, row in enumerate(rows):
                for key, kind in (("symbol_id", int), ("name", str)):
                    if not isinstance(row, dict) or type(row.get(key)) is not kind:
                        return Check(
                            "solver.symbols",
                            FAIL,
                            f"symbols[{i}].{key}: missing or not {kind.__name__}",
                        )
                for key in ("price_precision", "quantity_precision"):
                    if type(row.get(key)) is not int or row[key] < 0:
                        return Check("solver.symbols", FAIL, f"symbols[{i}].{key}: not a precision")
            first.update(rows[0])
            return Check("solver.symbols", PASS, f"{len(rows)} symbols, first {rows[0]['name']}")

        yield self._guard("solver.symbols", symbols)

        def locked() -> Check:
            if not first:
                return Check("solver.locked_params", FAIL, "no symbol to ask about")
            got = self._get(base, f"/api/get_locked_params/{first['name']}", leverage="1")
            params = pricing.LockedParamsPct.from_response(got)
            shown = locked_params_text(params)
            return Check("solver.locked_params", PASS, f"{first['name']} x1: {shown}")

        yield self._guard("solver.locked_params", locked)
        yield self._guard("solver.eip712_config", lambda: self._eip712_config(base, chain_id))

    def _eip712_config(self, base: str, chain_id: int) -> Check:
        got = self._get(base, "/api/instant_trade/eip712-config")
        il = self.profile.instant_layer or ""
        ours = {
            "domain": wire.domain_to_wire(eip712.instant_layer_domain(chain_id, il)),
            "types": eip712.eip712_types("SignedOperation"),
            "primaryType": "SignedOperation",
        }
        for key, value in ours.items():
            theirs = got.get(key) if isinstance(got, dict) else None
            drift = _first_drift(value, theirs, key)
            if drift:
                return Check("solver.eip712_config", FAIL, drift)
        for name, digest in (got.get("typehashes") or {}).items():
            ours_hash = to_hex(eip712.TYPEHASH[name]) if name in eip712.TYPEHASH else digest
            if digest != ours_hash:
                drift = f"drift at typehashes.{name}: ours {ours_hash}, served {digest}"
                return Check("solver.eip712_config", FAIL, drift)
        return Check("solver.eip712_config", PASS, "domain, types and typehashes equal ours")

    def _coh(self, base: str, chain_id: int) -> Check:
        got = self._get(base, "/api/v5/signing-spec")
        ours_domain = eip712.default_conditional_order_domain(
            chain_id, self.profile.instant_layer or ""
        )
        ours = {
            "domain": wire.domain_to_wire(ours_domain),
            "types": eip712.eip712_types("ConditionalOrder"),
            "primaryType": "ConditionalOrder",
        }
        for key, value in ours.items():
            drift = _first_drift(value, got.get(key) if isinstance(got, dict) else None, key)
            if drift:
                return Check("coh.signing_spec", FAIL, drift)
        return Check("coh.signing_spec", PASS, "ConditionalOrder domain and types equal ours")


class _Refused(HarnessError):
    """A service answered, but not with what the check needs."""


def _first_drift(ours: Any, theirs: Any, path: str) -> str | None:
    """The first place where two JSON values differ, as 'drift at PATH: ours X, served Y'."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            if key not in theirs:
                return f"drift at {path}.{key}: ours {_show(ours[key])}, served nothing"
            if key not in ours:
                return f"drift at {path}.{key}: ours nothing, served {_show(theirs[key])}"
            found = _first_drift(ours[key], theirs[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            found = _first_drift(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    if ours != theirs:
        return f"drift at {path}: ours {_show(ours)}, served {_show(theirs)}"
    return None
