"""Deployments as profiles: which contracts generation, addresses, solver kind, COH, price and
notification services, gasless relay and retired layers a deployment has, spelled once.

A `Profile` is everything the harness needs to know about one deployment. `REGISTRY` holds the
real ones (each address with its status and its source) and the local ones (`local`, the default
v0.8.5 profile `serve` has always run; `arbitrum` and `base` reproduced locally take their kinds
and version from the real profiles and their addresses from the local chain).

Sources (read 2026-12-07; see shared/spec/real-world.md §1): the Trading-SDK chain registry
`packages/core/src/chains/chain-configs.ts` (newest version: Base v0.8.5 with Rasa, Arbitrum
v0.8.6 with Enigma and the COH; HyperEVM as an older version had it before SDK 3.0.0 removed it
from trading), its changeset `.changeset/arbitrum-registry-alignment.md@c1714ef` and perps-core
`tasks/data/42161/instantlayer.json@be219e1` (the retired Arbitrum layers), perps-core
`scripts/migrateInstantLayer.ts@a6f49e6` (what a layer swap means for frontends).

Bottom layer: imports only `protocol` and `primitives`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .primitives import eip55
from .protocol import V0_8_5, V0_8_6, Protocol

REGISTRY_SOURCE = "Trading-SDK packages/core/src/chains/chain-configs.ts (newest, read 2026-12-07)"
OLD_REGISTRY_SOURCE = "Trading-SDK packages/core/src/chains/chain-configs.ts (before SDK 3.0.0)"
RETIRED_SOURCE = (
    "Trading-SDK .changeset/arbitrum-registry-alignment.md@c1714ef; "
    "perps-core tasks/data/42161/instantlayer.json@be219e1"
)


class SolverKind(StrEnum):
    """Whose published API the solver speaks (real-world.md §1, §4)."""

    ENIGMA = "enigma"  # "Low Cap Solver API" 1.0: /instant_trade/instant_open, instant_close
    RASA = "rasa"  # "Hedger Parameters Web App" 0.1.0: /instant_trade/open, /instant_trade/close


class PriceFeed(StrEnum):
    ENIGMA = "enigma"  # the solver's own mark-price REST + websocket
    BINANCE = "binance"  # Binance USD-M futures all-symbols mark-price stream (!markPrice@arr@1s)


class Notifications(StrEnum):
    ENIGMA = "enigma"  # the Enigma notification protocol (channel per deployment)
    RASA = "rasa"  # Rasa's own position-state websocket


class Status(StrEnum):
    TRADING = "trading"
    NON_TRADING = "non-trading"  # deployed, removed from the trading registry
    RETIRED = "retired"  # a replaced layer: still answers reads, its operations go nowhere
    STAGING = "staging"
    LOCAL = "local"  # deployed by the harness on a local chain


#: each address role, as the context file and a live profile name the setting (the PartyB the
#: user binds to is their `hedger`)
SETTING_OF_ROLE = {
    "instant_layer": "instant_layer",
    "account_layer": "account_layer",
    "symmio_core": "symmio_core",
    "affiliate": "affiliate",
    "collateral": "collateral",
    "party_b": "hedger",
}


@dataclass(frozen=True)
class Address:
    """One address of a deployment, with where it comes from."""

    role: str
    address: str
    source: str
    status: Status = Status.TRADING
    #: for a retired layer: the address that replaced it
    replaced_by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", eip55(self.address))


@dataclass(frozen=True)
class Coh:
    """A deployment's conditional-order handler: its EIP-712 domain and app name."""

    domain_name: str
    domain_version: str
    app_name: str
    #: the domain's verifyingContract (the COH wallet); None on a local chain (its own address)
    wallet: str | None
    url: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    generation: type[Protocol]
    solver: SolverKind
    coh: Coh | None
    prices: PriceFeed
    notifications: Notifications
    status: Status
    chain_id: int | None = None  # None: the local chain's own
    solver_url: str | None = None
    #: role -> address for a real deployment (instant_layer, account_layer, symmio_core,
    #: affiliate, collateral, party_b, gasless_layer); empty for a local profile
    addresses: tuple[Address, ...] = ()
    retired: tuple[Address, ...] = ()
    collateral_decimals: int = 6
    notes: tuple[str, ...] = field(default=())

    @property
    def gasless(self) -> bool:
        return self.generation.gasless

    def address(self, role: str) -> str | None:
        return next((a.address for a in self.addresses if a.role == role), None)

    def address_settings(self) -> dict[str, str]:
        """The deployment's addresses under the names a context and a live profile give them."""
        return {SETTING_OF_ROLE[a.role]: a.address for a in self.addresses}

    @property
    def instant_layer(self) -> str | None:
        return self.address("instant_layer")


def _addresses(source: str, **by_role: str) -> tuple[Address, ...]:
    return tuple(Address(role, value, source) for role, value in by_role.items())


#: Arbitrum's production InstantLayer: the profile's, and what each retired or staging layer
#: was replaced by
_ARBITRUM_LAYER = "0xCB8F789d6f7e59B3D266490e1Aa8e35cFb755132"

_ARBITRUM_COH = Coh(
    "SymmioConditionalOrder",
    "1",
    "Arbitrum_COH_Production",
    eip55("0xFC3a98d30AdAA220Ae4150fcaC06Bd200b6E146B"),
    "https://tpsl.enigma.bz",
)

ARBITRUM = Profile(
    name="arbitrum",
    title="Arbitrum One: v0.8.6, Enigma solver, COH, gasless relay",
    generation=V0_8_6,
    solver=SolverKind.ENIGMA,
    coh=_ARBITRUM_COH,
    prices=PriceFeed.ENIGMA,
    notifications=Notifications.ENIGMA,
    status=Status.TRADING,
    chain_id=42161,
    solver_url="https://solver.enigma.bz/api",
    addresses=_addresses(
        REGISTRY_SOURCE,
        instant_layer=_ARBITRUM_LAYER,
        account_layer="0x573310d1D6ec18cB21E1aB949414470D9bf5c24E",
        symmio_core="0x57331027091994FCb9c5Aec48ea92cEf0a93CF6A",
        affiliate="0x58bB5Bdc279321507DfB7AB54B9e7EF3DdA6E24D",
        collateral="0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
        party_b="0x0420b24359d2DCccA53904042aa36A641162445c",
    ),
    retired=(
        Address(
            "instant_layer",
            "0xDBc6DAe3De0b10a10b6c4d1b33D4C79567E07F6d",
            RETIRED_SOURCE,
            Status.RETIRED,
            eip55(_ARBITRUM_LAYER),
        ),
        Address(
            "instant_layer",
            "0x2C9e944cB71329fC659Da50A10a79a508Dd49ba5",
            RETIRED_SOURCE,
            Status.RETIRED,
            eip55(_ARBITRUM_LAYER),
        ),
        Address(
            "instant_layer",
            "0x473468D6B25D1639Ba96A933556dB937283D803b",
            "real-world.md §1: the staging gasless gateway's instantLayer()",
            Status.STAGING,
            eip55(_ARBITRUM_LAYER),
        ),
    ),
    notes=(
        "After a layer swap frontends must move verifyingContract, users must re-grant and "
        "ordered nonces restart at 0 (perps-core scripts/migrateInstantLayer.ts@a6f49e6).",
    ),
)

BASE = Profile(
    name="base",
    title="Base: v0.8.5, Rasa solver, no COH",
    generation=V0_8_5,
    solver=SolverKind.RASA,
    coh=None,
    prices=PriceFeed.BINANCE,
    notifications=Notifications.RASA,
    status=Status.TRADING,
    chain_id=8453,
    solver_url="https://stage-archon.rasa.capital",
    addresses=_addresses(
        REGISTRY_SOURCE,
        instant_layer="0x0825435285ac0E5c02c7a7c443F631f3e07fE375",
        account_layer="0x56caf00c6C5cB5478570Bb23807B9d1D697863DC",
        symmio_core="0x91Cf2D8Ed503EC52768999aA6D8DBeA6e52dbe43",
        affiliate="0x45Eecd7B4f442388ACD90467E423A5CAAC3a9C3f",
        collateral="0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        party_b="0x81631953E0C093e72935C1CAA4C7D519B2A0E407",
    ),
    notes=(
        "The solver URL is Rasa's staging URL (the registry's own note); no COH is confirmed for "
        "Base, so conditional orders are unsupported there.",
        "Rasa's published SignedOperation lists 5 fields while the SDK signs, and the v0.8.5 "
        "InstantLayer verifies, 7: the profile follows the contract (unknown which Rasa reads).",
    ),
)

HYPEREVM = Profile(
    name="hyperevm",
    title="HyperEVM: v0.8.5, removed from the trading registry (SDK 3.0.0)",
    generation=V0_8_5,
    solver=SolverKind.ENIGMA,
    coh=None,
    prices=PriceFeed.ENIGMA,
    notifications=Notifications.ENIGMA,
    status=Status.NON_TRADING,
    chain_id=999,
    solver_url="https://solver.enigma.bz/api",
    addresses=tuple(
        Address(a.role, a.address, a.source, Status.NON_TRADING)
        for a in _addresses(
            OLD_REGISTRY_SOURCE,
            instant_layer="0x72DBF07457b2712b160F67A85D338F860c1CA620",
            account_layer="0x46493c376758Da47823D7E3Ae5d417eA6546eEB3",
            symmio_core="0x57331038c21982116EE9b0906E4a5c5cB52dcE2e",
            affiliate="0xBcB033C9154401fA000a1Ae60843f79f45741b7c",
            collateral="0xb88339CB7199b77E23DB6E890353E22632Ba630f",
            party_b="0x76bc5889c0cfcC20960b0D81F541595d81a95122",
        )
    ),
)

#: The profile `serve`, `demo` and the fixtures have always run: v0.8.5, an Enigma-shaped solver
#: and a COH under the documented ConditionalOrder domain, on a local chain.
LOCAL = Profile(
    name="local",
    title="local: v0.8.5, Enigma-shaped solver, COH (the harness's own default)",
    generation=V0_8_5,
    solver=SolverKind.ENIGMA,
    coh=Coh(*V0_8_5.conditional_order_domain, "symmio-harness", None),
    prices=PriceFeed.ENIGMA,
    notifications=Notifications.ENIGMA,
    status=Status.LOCAL,
)

#: Every profile by name; the real deployments first, then the local default.
REGISTRY: dict[str, Profile] = {p.name: p for p in (ARBITRUM, BASE, HYPEREVM, LOCAL)}
DEFAULT = LOCAL


def profile(name: str) -> Profile:
    """The profile called `name`; ValueError listing the known names otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown deployment {name!r} (known: {', '.join(REGISTRY)})") from None


def owner_of_layer(address: str) -> tuple[Profile, Address] | None:
    """The real deployment an InstantLayer address belongs to, current or retired, if any."""
    want = address.lower()
    for p in REGISTRY.values():
        for a in (*p.addresses, *p.retired):
            if a.role == "instant_layer" and a.address.lower() == want:
                return p, a
    return None


def layer_domains() -> tuple[tuple[Profile, Address], ...]:
    """Every InstantLayer of a real deployment, current and retired, with its deployment (for
    naming a signature made for one of them)."""
    return tuple(
        (p, a)
        for p in REGISTRY.values()
        if p.chain_id is not None
        for a in (*p.addresses, *p.retired)
        if a.role == "instant_layer"
    )


def owner_of_coh_wallet(address: str) -> Profile | None:
    want = address.lower()
    return next(
        (
            p
            for p in REGISTRY.values()
            if p.coh is not None and p.coh.wallet is not None and p.coh.wallet.lower() == want
        ),
        None,
    )


def to_json(p: Profile) -> dict[str, object]:
    """A profile as `symmio-harness deployments --format json` prints it."""

    def one(a: Address) -> dict[str, object]:
        out: dict[str, object] = {
            "role": a.role,
            "address": a.address,
            "status": a.status.value,
            "source": a.source,
        }
        if a.replaced_by is not None:
            out["replaced_by"] = a.replaced_by
        return out

    coh = None
    if p.coh is not None:
        coh = {
            "domain": {"name": p.coh.domain_name, "version": p.coh.domain_version},
            "app_name": p.coh.app_name,
            "wallet": p.coh.wallet,
            "url": p.coh.url,
        }
    return {
        "name": p.name,
        "title": p.title,
        "status": p.status.value,
        "contracts_version": p.generation.version,
        "chain_id": p.chain_id,
        "solver": {"kind": p.solver.value, "url": p.solver_url},
        "coh": coh,
        "prices": p.prices.value,
        "notifications": p.notifications.value,
        "gasless": p.gasless,
        "addresses": [one(a) for a in p.addresses],
        "retired": [one(a) for a in p.retired],
        "notes": list(p.notes),
    }


def describe(p: Profile) -> str:
    """A profile as lines of text (the `deployments` command)."""
    chain = f"chain {p.chain_id}" if p.chain_id is not None else "the local chain"
    coh = (
        f"COH {p.coh.domain_name}/{p.coh.domain_version} app {p.coh.app_name}"
        + (f" wallet {p.coh.wallet}" if p.coh.wallet else "")
        if p.coh is not None
        else "no COH"
    )
    lines = [
        f"{p.name}  [{p.status.value}]  {p.title}",
        f"  v{p.generation.version} on {chain}; solver {p.solver.value}; {coh}; "
        f"prices {p.prices.value}; notifications {p.notifications.value}; "
        f"gasless {'yes' if p.gasless else 'no'}",
    ]
    for a in (*p.addresses, *p.retired):
        extra = f" (replaced by {a.replaced_by})" if a.replaced_by else ""
        lines.append(f"  {a.role:<14} {a.address}  {a.status.value}{extra}  [{a.source}]")
    lines.extend(f"  note: {n}" for n in p.notes)
    return "\n".join(lines)
