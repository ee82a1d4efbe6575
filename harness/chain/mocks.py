"""Deploy and wire our mock contracts (contracts/), and the mock-only helpers on top of them.

`deploy_system` deploys MockERC20, SymmioCore, AccountLayer, InstantLayer and MockPartyB on a
`Chain` (for `generation=V0_8_6`: their v0.8.6 mocks and a GaslessLayer, contracts/v086/),
wires them (contracts/README.md "Deploy and wire") and returns a `MockSystem`: the
real-surface driver (`harness.chain.driver.System`) plus what only our mocks have: the token
faucet, the mock core's quote and balance views, and full-ABI contract objects for tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from .. import artifacts, flow
from .. import calldata as cd
from ..context import Symbol
from ..keys import LocalKey
from ..primitives import keccak
from ..protocol import V0_8_5, Protocol
from . import surface
from .driver import (
    INSTANT_OPEN_NO_MARGIN_TEMPLATE,
    INSTANT_OPEN_TEMPLATE,
    Deployment,
    Onboarded,
    System,
)
from .node import Chain, Sent

WAD = 10**18

#: MockPartyB's generic call as the PartyB (hedger or admin only): how our solver sends a
#: transaction with the PartyB contract as msg.sender, as a real PartyB self-executes.
PARTY_B_EXECUTE = cd.Function(
    "execute", (("target", "address"), ("data", "bytes")), ("bytes",), "mock_party_b"
)


def default_affiliate() -> str:
    return to_checksum_address(keccak(b"symmio-harness affiliate")[12:])


class MockSystem(System):
    """Our deployment: the driver, plus mock-only helpers and full-ABI contract objects."""

    def __init__(self, chain: Chain, deployment: Deployment, wiring_gas: dict[str, int]) -> None:
        super().__init__(chain, deployment)
        self.wiring_gas = wiring_gas
        names = surface.names(deployment.generation)
        located = [
            ("MockERC20", "MockERC20", deployment.collateral),
            ("SymmioCore", names.symmio_core, deployment.symmio_core),
            ("AccountLayer", names.account_layer, deployment.account_layer),
            ("InstantLayer", names.instant_layer, deployment.instant_layer),
            ("MockPartyB", "MockPartyB", deployment.party_b),
        ]
        if names.gasless_layer is not None and deployment.gasless_layer is not None:
            located.append(("GaslessLayer", names.gasless_layer, deployment.gasless_layer))
        #: full-ABI objects of our mocks by role (the v0.8.5 names; a v0.8.6 system's entries
        #: are its v0.8.6 mocks), tests reach mock-only functions through these
        self.mock = {
            role: chain.contract(surface.ARTIFACT_OF.get(name, name), address)
            for role, name, address in located
        }
        self.party_b = self.mock["MockPartyB"]

    def as_party_b(self, tx: flow.TxRequest) -> flow.TxRequest:
        """`tx` relayed by MockPartyB.execute (sent by the admin): the InstantLayer sees the
        PartyB as msg.sender, so its own operations and the flex fields naming it need no
        signature (perps-core docs/v0.8.5/instant-layer-partyb-integration.md, self-execution)."""
        data = PARTY_B_EXECUTE.encode(tx.to, tx.data)
        return flow.TxRequest(tx.step, self.admin, self.party_b.address, data, PARTY_B_EXECUTE)

    def template_results(self, tx: flow.TxRequest, raw: bytes) -> list[bytes]:
        if tx.function is PARTY_B_EXECUTE:
            (raw,) = PARTY_B_EXECUTE.decode_output(raw)
            tx = flow.TxRequest(tx.step, tx.sender, tx.to, b"", cd.EXECUTE_TEMPLATE)
        return super().template_results(tx, raw)

    def mint(self, to: str, units: int) -> Sent:
        """Test-token faucet (MockERC20.mint is open to anyone)."""
        return self.chain.send(self.mock["MockERC20"].functions.mint(to, units), to)

    def onboard(
        self, user: str | flow.Signer, session_key: str, tpsl_bot: str | None = None, **kw: Any
    ) -> Onboarded:
        """Faucet mint of the deposit, then the driver's steps 1-5 (`user`: the owner's address,
        or its key where the generation grants by operation)."""
        minted = self.mint(user if isinstance(user, str) else user.address, kw["deposit_units"])
        done = super().onboard(user, session_key, tpsl_bot, **kw)
        return Onboarded(done.user, done.sub_account, {"mint": minted, **done.steps})

    def quote(self, quote_id: int) -> dict[str, Any]:
        """The mock core's quote record, by field name."""
        fn = self.mock["SymmioCore"].functions.getQuote(quote_id)
        outputs = fn.abi["outputs"][0]["components"]
        return dict(zip([o["name"] for o in outputs], self.view(fn), strict=True))

    def solver_fee_caps(self, quote_id: int) -> tuple[int, int]:
        """v0.8.6: the (openRateCap, closeRateCap) the mock core stored with the quote, wei."""
        caps = self.view(self.mock["SymmioCore"].functions.getQuoteSolverFeeCaps(quote_id))
        return int(caps[0]), int(caps[1])

    def balance(self, account: str) -> int:
        """The account's free balance inside the mock core (18 decimals)."""
        return self.view(self.mock["SymmioCore"].functions.balanceOf(account))


def deploy_system(
    chain: Chain | None = None,
    *,
    hedger: flow.Signer | None = None,
    collateral_decimals: int = 6,
    symbols: Sequence[Symbol] = (Symbol(1, "BTCUSDT", 1, 3),),
    min_quote_value: Decimal = Decimal(5),
    affiliate: str | None = None,
    generation: type[Protocol] = V0_8_5,
) -> MockSystem:
    """Deploy and wire the mocks of `generation`; the instant-open templates (with and without
    addMargin) get the InstantLayer's next ids. v0.8.6 adds the GaslessLayer, holding the
    InstantLayer's OPERATOR_ROLE, with the admin as its relayer and no fee set."""
    names = surface.names(generation)
    chain = chain if chain is not None else Chain()
    hedger = hedger if hedger is not None else LocalKey.generate()
    admin = chain.admin
    gas: dict[str, int] = {}

    def deploy(name: str, *args: Any) -> Contract:
        contract, sent = chain.deploy_sent(name, *args)
        gas[sent.step] = sent.gas_used
        return contract

    def send(label: str, fn: ContractFunction) -> None:
        gas[label] = chain.send(fn, admin).gas_used

    usdc = deploy("MockERC20", "Mock USDC", "mUSDC", collateral_decimals)
    core = deploy(surface.ARTIFACT_OF[names.symmio_core], usdc.address, admin)
    al = deploy(surface.ARTIFACT_OF[names.account_layer], admin)
    il = deploy(surface.ARTIFACT_OF[names.instant_layer], core.address, admin)
    pb = deploy("MockPartyB", hedger.address, core.address, admin)
    gasless = (
        deploy(surface.ARTIFACT_OF[names.gasless_layer], il.address, admin)
        if names.gasless_layer is not None
        else None
    )

    send("core.setAccountLayer", core.functions.setAccountLayer(al.address))
    send("core.setInstantLayer", core.functions.setInstantLayer(il.address))
    send("core.registerPartyB", core.functions.registerPartyB(pb.address, True))
    min_value = int(min_quote_value * WAD)
    for s in symbols:
        send(f"core.addSymbol({s.id})", core.functions.addSymbol(s.id, s.name, min_value))
    send("al.setSymmioCoreAllowed", al.functions.setSymmioCoreAllowed(core.address, True))
    role = al.functions.INSTANT_LAYER_ROLE().call()
    send("al.grantRole(INSTANT_LAYER_ROLE)", al.functions.grantRole(role, il.address))
    send("il.setAccountLayer", il.functions.setAccountLayer(al.address))
    send("il.registerPartyBs", il.functions.registerPartyBs([pb.address]))
    send("pb.setInstantLayer", pb.functions.setInstantLayer(il.address))
    if gasless is not None:
        operator = il.functions.OPERATOR_ROLE().call()
        send(
            "il.grantRole(OPERATOR_ROLE, gasless)",
            il.functions.grantRole(operator, gasless.address),
        )
    template_ids = []
    for name, steps in (
        ("instant_open", INSTANT_OPEN_TEMPLATE),
        ("instant_open_no_margin", INSTANT_OPEN_NO_MARGIN_TEMPLATE),
    ):
        template_id = il.functions.nextTemplateId().call()
        template = [list(map(list, op)) for op in steps]
        send(f"il.addTemplate({name})", il.functions.addTemplate(name, template))
        instant_mode = il.functions.setTemplateInstantOpenMode(template_id, True)
        send(f"il.setTemplateInstantOpenMode({name})", instant_mode)
        template_ids.append(template_id)
    deployment = Deployment(
        collateral=usdc.address,
        symmio_core=core.address,
        account_layer=al.address,
        instant_layer=il.address,
        party_b=pb.address,
        hedger=hedger,
        affiliate=affiliate or default_affiliate(),
        symbols=tuple(symbols),
        open_template_id=template_ids[0],
        open_no_margin_template_id=template_ids[1],
        generation=generation,
        gasless_layer=gasless.address if gasless is not None else None,
    )
    return MockSystem(chain, deployment, gas)


def mock_abi(name: str) -> list[dict[str, Any]]:
    """A mock's full compiled ABI (for tests that reach past the real surface)."""
    return artifacts.abi(name)
