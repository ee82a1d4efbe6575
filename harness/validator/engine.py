"""The engine: a body -> its facts (read once, decoded once, recovered once) -> every check that
applies -> a verdict carrying the typed body and the decoded calls.

Nothing here raises on any input: a body that cannot be read becomes an `input.*` finding
(exit code 2), an internal bug an unusable-input result that says so.
"""

from __future__ import annotations

import copy
import multiprocessing
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from .. import calldata as cd
from .. import deployments, eip712, inputs, wire
from ..context import Context
from ..errors import SignatureError
from ..model import (
    Domain,
    InstantClose,
    InstantOpen,
    SignedOperation,
    TpslRequest,
    WrappedOperation,
    unchecked,
)
from ..primitives import address_bytes
from ..protocol import (
    BODY_KINDS,
    GASLESS_GATEWAY_DOMAIN,
    GRANT_OPERATION,
    INSTANT_CLOSE,
    INSTANT_OPEN,
    Protocol,
)
from ..signatures import recover_address_bytes, recover_many
from .checks import REGISTRY, CheckFn, Env, judged_generation
from .facts import (
    CALL_PROBLEM,
    EXPLAINED,
    FACT_FLAGS,
    SIGNATURE_PROBLEM,
    Body,
    Op,
    Signed,
    slot_functions,
)
from .results import Finding, Report, Result, finding


@dataclass(frozen=True)
class Options:
    """What a validation run is told: the body kind (or "auto"), the context, and the clock.

    `now` judges deadlines; None means the context's recorded clock (`recorded_at`, written by
    `demo --record`) if it has one, else the wall clock when the Validator is made.

    `contracts_version` ("0.8.5", "0.8.6"; `validate --contracts-version`) names the protocol
    generation the bodies are judged as. It wins over the context's `contracts_version`, as `now`
    wins over its `recorded_at`: a context file describes a deployment and is reused, the flag is
    what this one run is asked (e.g. judging captures against a v0.8.5 context as v0.8.6 before a
    migration). Neither given: v0.8.5.
    """

    kind: str = "auto"
    context: Context | None = None
    now: int | None = None
    contracts_version: str | None = None


def resolve_generation(options: Options) -> type[Protocol]:
    """The generation a run judges as: the flag, else the context's, else v0.8.5 (ValueError
    naming the known versions for an unknown one)."""
    return judged_generation(options.context, options.contracts_version)


def resolve_now(options: Options) -> int:
    if options.now is not None:
        return options.now
    ctx = options.context
    if ctx is not None and ctx.recorded_at is not None:
        return ctx.recorded_at
    return int(time.time())


@lru_cache(maxsize=64)
def _foreign_domains(
    chain_id: int, instant_layer: str, retired: tuple[str, ...]
) -> tuple[tuple[Domain, str], ...]:
    """`Validator.foreign_domains` of a context on `chain_id` whose InstantLayer is
    `instant_layer` and which lists `retired` as replaced (built once per such context)."""
    return tuple(
        (eip712.instant_layer_domain(chain, a.address), describe_layer(p, a, chain))
        for p, a in deployments.layer_domains()
        for chain in dict.fromkeys((p.chain_id, chain_id))
        if chain is not None
        and (chain, a.address) != (chain_id, instant_layer)
        and a.address not in retired
    )


class Validator:
    """Validates bodies against the catalogue with one set of options (reused across bodies)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        ctx = self.options.context
        self.context = ctx
        self.now = resolve_now(self.options)
        self.generation = resolve_generation(self.options)
        self._instant_layer = ctx.instant_layer if ctx is not None else None
        self._slot_functions = slot_functions(self.generation)
        self.kind = self.options.kind
        if self.kind not in ("auto", *BODY_KINDS):
            raise ValueError(
                f"kind: expected auto or one of {', '.join(BODY_KINDS)}, got {self.kind!r}"
            )
        self.op_domain: Domain | None = (
            eip712.instant_layer_domain(ctx.chain_id, ctx.instant_layer) if ctx else None
        )
        self.tpsl_domain: Domain | None = ctx.tpsl_domain() if ctx else None
        self._op_prefix = (
            b"\x19\x01" + eip712.separator(self.op_domain) if self.op_domain is not None else b""
        )
        self.retired_domains: tuple[Domain, ...] = (
            tuple(
                eip712.instant_layer_domain(ctx.chain_id, a)
                for a in ctx.retired_instant_layers or ()
            )
            if ctx
            else ()
        )
        self.gasless_domain: Domain | None = (
            Domain(*GASLESS_GATEWAY_DOMAIN, ctx.chain_id, ctx.gasless_gateway)
            if ctx is not None and ctx.gasless_gateway
            else None
        )
        # Per body kind, the checks to run for each combination of fact flags (catalogue order
        # kept): a clean body runs none of the `only_if` checks, with no test per check.
        self._plans: dict[str, list[list[CheckFn]]] = {
            kind: _plans(REGISTRY.for_kind(kind, ctx, self.generation)) for kind in BODY_KINDS
        }

    @property
    def foreign_domains(self) -> tuple[tuple[Domain, str], ...]:
        """Every real deployment's InstantLayer, current or retired, at its own chain id and at
        the context's (not the context's own, nor one it lists as retired), each with how a
        finding names it. Only a signature that does not recover to its signer is looked up
        here, so a conforming body never pays for it."""
        ctx = self.context
        if ctx is None:
            return ()
        return _foreign_domains(ctx.chain_id, ctx.instant_layer, ctx.retired_instant_layers or ())

    def at(self, now: int) -> Validator:
        """This validator judging at the clock `now`: the same catalogue plans and domains,
        nothing rebuilt (a service judges every body at its own clock)."""
        moved = copy.copy(self)
        moved.options = replace(self.options, now=now)
        moved.now = now
        return moved

    # -- entry points ----------------------------------------------------------------------
    #
    # Every entry point runs the same three steps: each body is read (JSON, wire, calldata,
    # digests) with its signatures queued; the queue is recovered in one pass; each body is then
    # judged. For a batch this keeps libsecp256k1's tables and the checks' code warm in turn
    # (about a seventh faster than interleaving them per body, 65 against 75 us per operation
    # here: benchmarks/bench_validate.py).

    def validate_body(self, body: Any, file: str = "<body>", kind: str | None = None) -> Result:
        """A parsed JSON value. `kind` (e.g. from a HAR URL) overrides "auto"; never raises."""
        queue: list[_Recovery] = []
        return self._judge(self._read_value(body, file, kind, queue, ()), queue)

    def validate_bytes(
        self, data: bytes | str, file: str = "<body>", kind: str | None = None
    ) -> Result:
        """JSON text (bytes or str), limits applied before anything else; never raises."""
        queue: list[_Recovery] = []
        return self._judge(self._read_bytes(data, file, kind, queue), queue)

    def validate_source(self, source: inputs.Source) -> Result:
        return self.validate_batch([source])[0]

    def validate_batch(self, sources: Sequence[inputs.Source]) -> list[Result]:
        """The verdicts of `sources`, in order (each exactly as `validate_source` gives it, the
        typed body included); never raises."""
        queue: list[_Recovery] = []
        read = [self._read_source(source, queue) for source in sources]
        return self._judge_all(read, queue)

    def _judge(self, read: Result | _Read, queue: list[_Recovery]) -> Result:
        return self._judge_all([read], queue)[0]

    def _judge_all(self, read: list[Result | _Read], queue: list[_Recovery]) -> list[Result]:
        """Steps 2 and 3: recover the queue, then judge each body that read. Bodies with the same
        checks to run are judged check by check (each check still sees one body at a time, and
        each body's findings stay in catalogue order); a failure stays with its own body."""
        crashed = _recover_all(queue)
        groups: dict[int, tuple[list[CheckFn], list[_Read]]] = {}
        for r in read:
            if isinstance(r, _Read):
                try:
                    self._settle(r, crashed)
                except Exception as exc:
                    r.failure = exc
                    continue
                plan = self._plans[r.kind][r.facts.flags]
                groups.setdefault(id(plan), (plan, []))[1].append(r)
        for plan, members in groups.values():
            for check in plan:
                for r in members:
                    if r.failure is None:
                        try:
                            check(r.env, r.facts)
                        except Exception as exc:
                            r.failure = exc
        return [self._verdict(r) if isinstance(r, _Read) else r for r in read]

    # -- step 1: read ------------------------------------------------------------------------

    def _read_source(self, source: inputs.Source, queue: list[_Recovery]) -> Result | _Read:
        if source.problem is not None:
            rule, message = source.problem
            return _unusable(source.name, source.kind, rule, message)
        assert source.data is not None
        return self._read_bytes(source.data, source.name, source.kind, queue)

    def _read_bytes(
        self, data: bytes | str, file: str, kind: str | None, queue: list[_Recovery]
    ) -> Result | _Read:
        try:
            loaded = inputs.load_json(data)
        except Exception as exc:  # a validator bug must not become a traceback at the user
            return _internal_error(file, exc)
        if loaded.problem is not None:
            rule, message = loaded.problem
            return _unusable(file, None, rule, message)
        return self._read_value(
            loaded.value, file, kind, queue, loaded.duplicate_keys, loaded.within_limits
        )

    def _read_value(
        self,
        body: Any,
        file: str,
        kind_hint: str | None,
        queue: list[_Recovery],
        duplicate_keys: Sequence[str],
        within_limits: bool = False,
    ) -> Result | _Read:
        try:
            if not within_limits:
                problem = inputs.check_limits(body)
                if problem is not None:
                    return _with_duplicates(
                        _unusable(file, None, "input.limits", problem), duplicate_keys
                    )
            kind = (
                self.kind
                if self.kind != "auto"
                else (kind_hint or _detect_kind(body, self._instant_layer))
            )
            if kind is None:
                result = Result(
                    file,
                    None,
                    [
                        finding(
                            "body.kind",
                            "",
                            "expected an instant_open object {addMargin?, sendQuote}, an "
                            "instant_close list of wrapped operations, or a TP/SL object "
                            "{typedData, signature, signer}; pass --kind to say which",
                        )
                    ],
                )
                return _with_duplicates(result, duplicate_keys)
            facts, problems = self._facts(kind, body, queue)
            return _Read(file, kind, facts, problems, duplicate_keys)
        except Exception as exc:
            return _internal_error(file, exc)

    # -- step 3: judge -------------------------------------------------------------------------

    def _settle(self, read: _Read, crashed: dict[int, BaseException]) -> None:
        """After recovery: what other generation explains a signature, and the fact flags."""
        facts = read.facts
        for signed, _ in facts.signed_by_signers():
            if crashed and id(signed) in crashed:
                raise crashed[id(signed)]
            if signed.form_error is not None or signed.recover_error is not None:
                facts.flags |= SIGNATURE_PROBLEM
        for op in facts.ops:
            if op.signed.recovered is not None:
                self._explain(op)
            if op.explained:
                facts.flags |= EXPLAINED
        read.env = Env(self.context, self.now, self.op_domain, self.tpsl_domain, self.generation)

    def _verdict(self, read: _Read) -> Result:
        if read.failure is not None:
            return _internal_error(read.file, read.failure)
        try:
            facts, env = read.facts, read.env
            assert env is not None
            # A 5-field op recognised as a GaslessGateway operation is named as that, not as
            # legacy.
            problems = read.problems
            found = [finding(p.rule, p.path, p.message) for p in problems] if problems else []
            if found and facts.flags & EXPLAINED:
                gasless = {
                    op.op_path for op in facts.ops if "generation.gasless-gateway" in op.explained
                }
                found = [
                    f for f in found if not (f.rule == "op.legacy-5-field" and f.path in gasless)
                ]
            if env.findings:
                found.extend(finding(rule, path, message) for rule, path, message in env.findings)
            result = Result(read.file, read.kind, found, facts.value, facts.calls)
            return _with_duplicates(result, read.duplicate_keys)
        except Exception as exc:
            return _internal_error(read.file, exc)

    def _facts(self, kind: str, body: Any, queue: list[_Recovery]) -> tuple[Body, list[Any]]:
        facts = Body(kind)
        if kind == INSTANT_OPEN:
            parsed = wire.parse_instant_open_parts(body)
            parts = parsed.value
            if parts is not None:
                facts.add_margin_present = parts.add_margin is not None
                facts.add_margin = self._op(facts, parts.add_margin, "addMargin", queue)
                facts.send_quote = self._op(facts, parts.send_quote, "sendQuote", queue)
                facts.ops = [op for op in (facts.add_margin, facts.send_quote) if op is not None]
                add, send = facts.add_margin, facts.send_quote
                if send is not None and not send.legacy and send.signed.signature is not None:
                    if add is None and not facts.add_margin_present:
                        facts.value = _instant_open(None, _wrapped(send))
                    elif add is not None and not add.legacy and add.signed.signature is not None:
                        facts.value = _instant_open(_wrapped(add), _wrapped(send))
            return facts, parsed.problems
        if kind == GRANT_OPERATION:
            parsed_grant = wire.parse_grant_operation_parts(body)
            facts.ops = self._ops(facts, parsed_grant.value, "grant", queue)
            return facts, parsed_grant.problems
        if kind == INSTANT_CLOSE:
            parsed_close = wire.parse_instant_close_parts(body)
            facts.ops = self._ops(facts, parsed_close.value, "close", queue)
            if (
                parsed_close.value
                and len(facts.ops) == len(parsed_close.value)
                and all(not op.legacy and op.signed.signature is not None for op in facts.ops)
            ):
                facts.value = _instant_close(tuple(_wrapped(op) for op in facts.ops))
            return facts, parsed_close.problems
        parsed_tpsl = wire.parse_tpsl_parts(body)
        parts_t = parsed_tpsl.value
        facts.tpsl = parts_t
        if parts_t is not None and parts_t.signature is not None:
            signed = Signed.of("signature", parts_t.signature)
            facts.tpsl_signed = signed
            # The signer is checked under the body's own domain (a wrong domain is tpsl.domain);
            # the configured one stands in when the body's does not read.
            domain = parts_t.domain or self.tpsl_domain
            if signed.usable and parts_t.order is not None and domain is not None:
                queue.append((signed, eip712.digest(domain, parts_t.order), domain))
            if None not in (parts_t.domain, parts_t.order, parts_t.signer):
                facts.value = TpslRequest(
                    parts_t.domain,  # type: ignore[arg-type]
                    parts_t.order,  # type: ignore[arg-type]
                    parts_t.signer,  # type: ignore[arg-type]
                    parts_t.signature,
                )
        return facts, parsed_tpsl.problems

    def _ops(
        self,
        facts: Body,
        listed: Sequence[wire.OperationParts] | None,
        slot: str,
        queue: list[_Recovery],
    ) -> list[Op]:
        """The operations of a list body (a close, a grant), each read by `_op`, in order."""
        return [
            op for parts in listed or () if (op := self._op(facts, parts, slot, queue)) is not None
        ]

    def _op(
        self, facts: Body, parts: wire.OperationParts | None, slot: str, queue: list[_Recovery]
    ) -> Op | None:
        if parts is None or parts.signed_operation is None:
            return None
        value = parts.signed_operation
        signed_path = wire.join_path(parts.path, "signature")
        op = Op(parts.path, slot, value, Signed.of(signed_path, parts.signature))
        op.decode(self._slot_functions[slot])
        domain = self.op_domain
        if op.signed.usable and domain is not None:  # recovered under the InstantLayer domain
            digest = (
                eip712.legacy_digest(domain, value)
                if op.legacy
                else eip712.operation_digest(self._op_prefix, value)
            )
            queue.append((op.signed, digest, domain))
        if op.selector != op.function.selector or op.decode_error is not None:
            facts.flags |= CALL_PROBLEM
        return op

    def _explain(self, op: Op) -> None:
        """When a recovered signature is not the declared signer's, find what it is over
        (another generation's type or domain), once."""
        signed, domain, value = op.signed, self.op_domain, op.op
        want = address_bytes(value.signer)
        if signed.recovered == want:
            return
        assert domain is not None
        legacy = op.legacy
        sig = signed.signature
        assert sig is not None
        for retired in self.retired_domains:
            digest = (
                eip712.legacy_digest(retired, value) if legacy else eip712.digest(retired, value)
            )
            if _recovers(digest, sig) == want:
                op.explained = frozenset(("generation.retired-instant-layer",))
                op.retired_layer = retired.verifying_contract
                return
        for other, described in self.foreign_domains:
            digest = eip712.legacy_digest(other, value) if legacy else eip712.digest(other, value)
            if _recovers(digest, sig) == want:
                op.explained = frozenset(("deployment.other-layer",))
                op.foreign_layer = described
                return
        if (
            self.gasless_domain is not None
            and _recovers(eip712.legacy_digest(self.gasless_domain, value), sig) == want
        ):
            op.explained = frozenset(("generation.gasless-gateway",))
            return
        if not legacy and _recovers(eip712.legacy_digest(domain, value), sig) == want:
            op.other_type = "the legacy 5-field SignedOperation type"
        elif legacy:  # signed as a 7-field op, then two members dropped from the body?
            for uses in (1, 0):
                full = SignedOperation(
                    value.signer,
                    value.target,
                    value.call_data,
                    value.signer_account,
                    (),
                    uses,
                    value.replay_attack_header,
                )
                if _recovers(eip712.operation_digest(self._op_prefix, full), sig) == want:
                    op.other_type = (
                        f"the 7-field SignedOperation type (flexFields [], maxUses {uses}): the "
                        "body dropped two signed members"
                    )
                    return


def describe_layer(profile: deployments.Profile, layer: deployments.Address, chain: int) -> str:
    """A registry InstantLayer as a finding names it: whose, which chain, its status."""
    status = ""
    if layer.status is not deployments.Status.TRADING:
        status = f", {layer.status.value}"
        if layer.replaced_by:
            status += f" (replaced by {layer.replaced_by})"
    where = (
        f"chain {chain}" if chain == profile.chain_id else f"chain {chain}, not {profile.name}'s"
    )
    return f"{profile.name}'s InstantLayer {layer.address} ({where}{status})"


_GRANT_PREFIXES = tuple(
    "0x" + fn.selector.hex() for fn in (cd.GRANT_DELEGATION, cd.GRANT_DELEGATIONS)
)


def _grant_call(item: Any, instant_layer: str | None) -> bool:
    """A wrapped operation calling grantDelegation / grantDelegations, or targeting the
    InstantLayer itself (which reads any self-target operation as a grant operation)."""
    if not isinstance(item, dict):
        return False
    op = item.get("signedOperation")
    if not isinstance(op, dict):
        return False
    data, target = op.get("callData"), op.get("target")
    return (isinstance(data, str) and data[:10].lower() in _GRANT_PREFIXES) or (
        instant_layer is not None
        and isinstance(target, str)
        and target.lower() == instant_layer.lower()
    )


def _detect_kind(body: Any, instant_layer: str | None) -> str | None:
    """The body kind from its shape (`wire.detect_kind`), and a grant operation (v0.8.6) from its
    call: one wrapped operation, or a list of them, each a grant call or targeting the
    InstantLayer (real-world.md §2.5), whatever the version judged (on v0.8.5 it is named as a
    v0.8.6 grant operation)."""
    kind = wire.detect_kind(body)
    if kind == INSTANT_CLOSE:
        if isinstance(body, list):
            if body and all(_grant_call(item, instant_layer) for item in body):
                return GRANT_OPERATION
        elif _grant_call(body, instant_layer):
            return GRANT_OPERATION
    return kind


#: A signature to recover: its facts, the digest it should be over, the domain judged under.
_Recovery = tuple[Signed, bytes, Domain]


@dataclass(slots=True)
class _Read:
    """A body between reading and judging (its signatures queued for recovery)."""

    file: str
    kind: str
    facts: Body
    problems: list[Any]
    duplicate_keys: Sequence[str]
    env: Env | None = None  # where its checks put their findings
    failure: BaseException | None = None  # a validator bug met while judging it


def _recover_all(queue: list[_Recovery]) -> dict[int, BaseException]:
    """Recover every queued signature in one pass; an unexpected failure is kept (by the
    signature's facts) for its own body to report, never for the others."""
    crashed: dict[int, BaseException] = {}
    try:
        recovered = recover_many([(digest, signed.signature) for signed, digest, _ in queue])
    except Exception:  # a bug: find whose, one at a time
        recovered = []
        for signed, digest, _ in queue:
            try:
                recovered.extend(recover_many([(digest, signed.signature)]))
            except Exception as exc:
                crashed[id(signed)] = exc
                recovered.append(SignatureError("not recovered"))
    for (signed, _, domain), got in zip(queue, recovered, strict=True):
        signed.record(domain, got)
    return crashed


def _with_duplicates(result: Result, duplicate_keys: Sequence[str]) -> Result:
    for key in reversed(duplicate_keys):
        result.findings.insert(
            0,
            finding(
                "json.duplicate-key",
                "",
                f'key "{key}" appears more than once in one object; send it once',
            ),
        )
    return result


def _plans(checks: list[tuple[CheckFn, str | None]]) -> list[list[CheckFn]]:
    """For each value of `Body.flags`, the checks that run: those without `only_if`, and those
    whose flag is set."""
    return [
        [fn for fn, only_if in checks if only_if is None or mask & FACT_FLAGS[only_if]]
        for mask in range(1 << len(FACT_FLAGS))
    ]


def _recovers(digest: bytes, signature: bytes) -> bytes | None:
    """The address bytes `signature` recovers to over `digest` (None: nothing recovers)."""
    try:
        return recover_address_bytes(digest, signature)
    except SignatureError:
        return None


# The typed body of a verdict is built from values the wire reader already proved.
_wrapped_operation = unchecked(WrappedOperation)
_instant_open = unchecked(InstantOpen)
_instant_close = unchecked(InstantClose)


def _wrapped(op: Op) -> WrappedOperation:
    return _wrapped_operation(op.op, op.signed.signature)


def _unusable(file: str, kind: str | None, rule: str, message: str) -> Result:
    return Result(file, kind, [Finding(rule, "error", "", message)])


def _internal_error(file: str, exc: BaseException) -> Result:
    # Reported as an unusable input (exit 2) so that a validator bug never passes a body.
    return _unusable(
        file,
        None,
        "input.unreadable",
        f"internal validator error ({exc.__class__.__name__}: {exc}); please report it",
    )


def validate_body(
    body: Any,
    *,
    kind: str = "auto",
    context: Context | None = None,
    now: int | None = None,
    file: str = "<body>",
) -> Result:
    """Validate one parsed JSON body. Never raises."""
    return Validator(Options(kind, context, now)).validate_body(body, file)


# --------------------------------------------------------------------------------------------
# Many inputs


#: Bodies read before their signatures are recovered together (bounded memory; see the
#: entry points of `Validator`): measured best between 8 and 64.
BATCH = 32


def _verdicts(
    validator: Validator, sources: Sequence[inputs.Source], batch: int = BATCH
) -> list[Result]:
    results = []
    for start in range(0, len(sources), batch):
        for result in validator.validate_batch(sources[start : start + batch]):
            result.value, result.calls = None, {}  # a batch keeps verdicts only, any `jobs`
            results.append(result)
    return results


# What crosses a process boundary: per body its kind and findings (the parent knows the names,
# and a Result pickles twenty times slower than this pair).
_Compact = list[tuple[str | None, tuple[Finding, ...]]]


def _compact(results: list[Result]) -> _Compact:
    return [(r.kind, tuple(r.findings)) for r in results]


def _expand(sources: Sequence[inputs.Source], compact: _Compact) -> list[Result]:
    return [
        Result(source.name, kind, list(found))
        for source, (kind, found) in zip(sources, compact, strict=True)
    ]


def _validate_chunk(options: Options, sources: list[inputs.Source]) -> _Compact:
    return _compact(_verdicts(Validator(options), sources))


def iter_results(
    sources: Iterable[inputs.Source],
    options: Options,
    *,
    jobs: int = 1,
    chunk_size: int = 500,
    batch: int = BATCH,
) -> Iterator[Result]:
    """Validate in order, lazily (constant memory for a stream); in one process `batch` bodies
    at a time (1 for a live stream that wants each verdict as soon as its line arrives), with
    jobs > 1 in chunks sent to worker processes (same options, same now). Verdicts only: a
    result's `value` and `calls` are left empty here with any `jobs` (they never cross a
    process boundary, and a batch keeps no body); `Validator.validate_bytes` returns them."""
    fixed = replace(options, now=resolve_now(options))
    validator = Validator(fixed)
    if jobs <= 1:
        read: list[inputs.Source] = []
        for source in sources:
            read.append(source)
            if len(read) >= batch:
                yield from _verdicts(validator, read, batch)
                read = []
        yield from _verdicts(validator, read, batch)
        return
    size = chunk_size
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: list[Any] = []
        chunk: list[inputs.Source] = []
        for source in sources:
            chunk.append(source)
            if len(chunk) >= size:
                pending.append((chunk, pool.submit(_validate_chunk, fixed, chunk)))
                chunk = []
                while len(pending) > 2 * jobs:
                    sent, future = pending.pop(0)
                    yield from _expand(sent, future.result())
        if chunk:
            pending.append((chunk, pool.submit(_validate_chunk, fixed, chunk)))
        for sent, future in pending:
            yield from _expand(sent, future.result())


# The sources of an inherited batch: set in the parent just before its workers are forked, so
# each worker reads its ranges from memory it already has instead of from pickled chunks.
_INHERITED: tuple[Options, list[inputs.Source]] | None = None


def _validate_range(start: int, end: int) -> _Compact:
    assert _INHERITED is not None, "a range is only validated in a forked worker"
    options, items = _INHERITED
    return _compact(_verdicts(Validator(options), items[start:end]))


def _can_fork_inherit() -> bool:
    """Forking is safe (and cheap) here: the platform has it and no other thread is running."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def validate_sources(
    sources: Iterable[inputs.Source], options: Options, *, jobs: int = 1
) -> list[Result]:
    """Every source's verdict, in order. With jobs > 1 on a platform that forks (and no other
    thread running), the workers inherit the sources and are sent index ranges only; otherwise
    chunks are pickled to them (`iter_results`)."""
    global _INHERITED
    items = list(sources)
    if jobs > 1 and len(items) < 2 * jobs:
        jobs = 1
    fixed = replace(options, now=resolve_now(options))
    if jobs <= 1 or not _can_fork_inherit():
        chunk = max(1, min(500, len(items) // (jobs * 4)))  # pickled: fewer, larger chunks
        return list(iter_results(items, fixed, jobs=jobs, chunk_size=chunk))
    _INHERITED = (fixed, items)
    # Ranges are cheap to send (two numbers, a compact verdict back): small ones keep both
    # workers busy to the end.
    size = max(BATCH, len(items) // (jobs * 16))
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            ranges = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
            futures = [pool.submit(_validate_range, start, end) for start, end in ranges]
            return [
                result
                for (start, end), future in zip(ranges, futures, strict=True)
                for result in _expand(items[start:end], future.result())
            ]
    finally:
        _INHERITED = None


def validate_paths(
    paths: Iterable[str],
    options: Options | None = None,
    *,
    jobs: int = 1,
    context_file: str | None = None,
    stdin: Any = None,
    input_format: str = "auto",
) -> Report:
    """Validate every body found under `paths` (files, directories, "-", HAR captures, JSON
    Lines); the context file itself, when it lies among them, is recognised and skipped."""
    options = options or Options()
    options = replace(options, now=resolve_now(options))
    sources = inputs.iter_sources(
        list(paths), stdin=stdin, exclude=context_file, input_format=input_format
    )
    results = validate_sources(sources, options, jobs=jobs)
    return Report(results, options, options.now, context_file)  # type: ignore[arg-type]
