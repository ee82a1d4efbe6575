"""Fixtures shipped with the `symmio` pytest plugin, for a frontend's or bot's own tests.

- `symmio_chain`: the embedded chain with our system deployed (a `SymmioChain`: `.system`,
  `.chain`); every test starts from the same snapshot, so state never leaks between tests; use
  `with symmio_chain.isolated():` inside a hypothesis test so examples do not leak either.
- `symmio_context`: the deployment's `Context` (addresses, chain id, symbols).
- `symmio_user`: an onboarded user (sub-account with 1,000 collateral deposited, bound to the
  PartyB, the session key's and the TP/SL bot's delegations): a `SymmioUser` whose keys are
  never shown (repr hides them); `.session` signs.
- `symmio_services`: the solver and COH in-process on that chain (`.solver`, `.coh`: a
  `SolverClient` and `CohClient`; `.http`, `.services`); the solver client reconciles on chain.
- `mock_solver` / `mock_coh` / `mock_prices`: respx routers at a configurable base URL (ini
  options `symmio_mock_solver_url`, `symmio_mock_coh_url`, `symmio_mock_price_url`) for the
  team's own HTTP client code, answering like the services and recording every request
  (`harness.services.mocks`); `mock_prices` serves the price service's REST reads (the marks).
- `symmio_profile`: the deployment profile all of them reproduce (`harness.deployments`):
  `@pytest.mark.symmio_deployment("arbitrum")` on a test, else `--symmio-deployment NAME`, else
  the ini option `symmio_deployment`, else `local`. `arbitrum` deploys the v0.8.6 mocks (grants
  as one owner-signed operation relayed by the GaslessLayer, the capped open) with Enigma and
  the COH under Arbitrum's domain; `base` the v0.8.5 mocks with Rasa's solver routes and no COH
  (`mock_coh` and `symmio_services.coh` are then refused by name).

Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .chain import Chain, System
    from .context import Context
    from .deployments import Profile
    from .keys import LocalKey
    from .services import CohClient, Services, SolverClient
    from .services.mocks import MockCoh, MockPrices, MockSolver

DEFAULT_SOLVER_URL = "https://solver.symmio.test"
DEFAULT_COH_URL = "https://coh.symmio.test"
DEFAULT_PRICE_URL = "https://prices.symmio.test"
DEPOSIT = Decimal(1000)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "symmio_deployment",
        "deployment profile the symmio fixtures reproduce (local, base, arbitrum)",
        default="local",
    )
    parser.getgroup("symmio").addoption(
        "--symmio-deployment",
        metavar="NAME",
        default=None,
        help="deployment profile the symmio fixtures reproduce (local, base, arbitrum)",
    )
    parser.addini(
        "symmio_mock_solver_url",
        "base URL the mock_solver fixture answers at",
        default=DEFAULT_SOLVER_URL,
    )
    parser.addini(
        "symmio_mock_coh_url", "base URL the mock_coh fixture answers at", default=DEFAULT_COH_URL
    )
    parser.addini(
        "symmio_mock_price_url",
        "base URL the mock_prices fixture (the price service) answers at",
        default=DEFAULT_PRICE_URL,
    )


@dataclass
class SymmioChain:
    """The embedded chain and the deployed system, restored to `snapshot` before each test."""

    system: System
    snapshot: int
    hedger: LocalKey = field(repr=False)
    bot: LocalKey = field(repr=False)

    @property
    def chain(self) -> Chain:
        return self.system.chain

    def restore(self) -> None:
        self.chain.revert(self.snapshot)

    @contextlib.contextmanager
    def isolated(self) -> Iterator[SymmioChain]:
        """Whatever happens inside is undone afterwards (one hypothesis example, say)."""
        taken = self.chain.snapshot()
        try:
            yield self
        finally:
            self.chain.revert(taken)


@dataclass(frozen=True)
class SymmioUser:
    """An onboarded user; the user's and session key's private keys are never shown."""

    address: str
    sub_account: str
    expiry: int
    user_key: LocalKey = field(repr=False)
    session: LocalKey = field(repr=False)

    @property
    def session_key(self) -> str:
        return self.session.address


@dataclass
class SymmioServices:
    services: Services
    http: Any = field(repr=False)
    solver: SolverClient = field(repr=False)
    coh: CohClient = field(repr=False)

    def set_price(self, symbol_id: int, price: Decimal | str) -> dict[str, Any]:
        return self.coh.set_mock_price(symbol_id, price)


@dataclass
class _Deployed:
    system: System
    hedger: LocalKey
    bot: LocalKey
    deployed: int
    onboarded: int | None = None
    user: SymmioUser | None = None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "symmio_deployment(name): the deployment profile the symmio fixtures reproduce "
        "for this test (local, base, arbitrum)",
    )


#: the profiles the fixtures reproduce on a local chain
LOCAL_PROFILES = ("local", "base", "arbitrum")


@pytest.fixture
def symmio_profile(request: pytest.FixtureRequest) -> Profile:
    """The deployment profile of this test: its `symmio_deployment` marker, else the
    `--symmio-deployment` option, else the `symmio_deployment` ini option (default local)."""
    from . import deployments

    marker = request.node.get_closest_marker("symmio_deployment")
    if marker is not None:
        if len(marker.args) != 1:
            raise pytest.UsageError("symmio_deployment takes one profile name, e.g. 'arbitrum'")
        name, where = marker.args[0], "the symmio_deployment marker"
    elif request.config.getoption("symmio_deployment", None):
        name, where = request.config.getoption("symmio_deployment"), "--symmio-deployment"
    else:
        name, where = request.config.getini("symmio_deployment"), "the symmio_deployment ini"
    if name not in LOCAL_PROFILES:
        raise pytest.UsageError(
            f"{where}: {name!r} is not a profile the fixtures reproduce "
            f"({', '.join(LOCAL_PROFILES)})"
        )
    return deployments.profile(name)


@pytest.fixture(scope="session")
def _symmio_deployments() -> dict[str, _Deployed]:
    """Our system deployed once per session and profile on the embedded chain, with its
    snapshot (private: `symmio_chain` and `symmio_user` restore from it)."""
    return {}


@pytest.fixture
def _symmio_deployed(
    _symmio_deployments: dict[str, _Deployed], symmio_profile: Profile
) -> _Deployed:
    """This test's profile deployed (once per session and profile), with its snapshot."""
    from .chain import Chain, deploy_system
    from .keys import LocalKey

    d = _symmio_deployments.get(symmio_profile.name)
    if d is None:
        chain = Chain()
        hedger, bot = LocalKey.generate(), LocalKey.generate()
        system = deploy_system(chain, hedger=hedger, generation=symmio_profile.generation)
        d = _symmio_deployments[symmio_profile.name] = _Deployed(
            system, hedger, bot, chain.snapshot()
        )
    return d


@pytest.fixture
def symmio_chain(_symmio_deployed: _Deployed) -> SymmioChain:
    """The embedded chain with the system deployed, at the deployment snapshot (a
    `SymmioChain`: `.system`, `.chain`; `with symmio_chain.isolated():` inside a hypothesis
    test)."""
    d = _symmio_deployed
    d.system.chain.revert(d.deployed)
    return SymmioChain(d.system, d.deployed, d.hedger, d.bot)


@pytest.fixture
def symmio_context(symmio_chain: SymmioChain, symmio_profile: Profile) -> Context:
    """The deployment's `Context`: chain id, contract addresses, hedger, affiliate, symbols
    (and on a profile whose COH has its own domain, that domain, the bot as its wallet)."""
    from dataclasses import replace

    from .context import ConditionalOrderDomainConfig

    context = symmio_chain.system.context()
    coh = symmio_profile.coh
    if coh is not None and coh.wallet is not None:
        domain = ConditionalOrderDomainConfig(
            coh.domain_name, coh.domain_version, verifying_contract=symmio_chain.bot.address
        )
        context = replace(context, conditional_order_domain=domain)
    return context


def _onboard(d: _Deployed) -> SymmioUser:
    from . import pricing
    from .keys import LocalKey

    system, chain = d.system, d.system.chain
    user, session = LocalKey.generate(), LocalKey.generate()
    chain.add_key(user)
    expiry = chain.now() + 30 * 24 * 3600
    decimals = system.collateral.functions.decimals().call()
    # v0.8.6: the owner's key, so the delegations are one owner-signed grant operation
    owner = user if system.generation.grants_as_operations else user.address
    done = system.onboard(
        owner,
        session.address,
        d.bot.address,
        deposit_units=pricing.to_token_units(DEPOSIT, decimals, "deposit"),
        expiry=expiry,
    )
    return SymmioUser(user.address, done.sub_account, expiry, user, session)


@pytest.fixture
def symmio_user(symmio_chain: SymmioChain, _symmio_deployed: _Deployed) -> SymmioUser:
    """An onboarded user (steps 1-5: sub-account, 1,000 collateral, bound, delegations), built
    once per session and restored from its snapshot; `.session` signs, keys never shown."""
    d = _symmio_deployed
    chain = d.system.chain
    if d.onboarded is None:
        d.user = _onboard(d)
        d.onboarded = chain.snapshot()
    else:
        chain.revert(d.onboarded)
    symmio_chain.snapshot = d.onboarded
    assert d.user is not None
    return d.user


@pytest.fixture
def symmio_services(symmio_chain: SymmioChain, symmio_profile: Profile) -> Iterator[SymmioServices]:
    """The profile's solver and COH in-process (no socket) on `symmio_chain`, fresh state per
    test (`.solver` speaks Enigma's routes: on `base`, post to Rasa's through `.http`)."""
    from .services import Backend, CohClient, Services, SolverClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    backend = Backend(symmio_chain.system, symmio_chain.bot)
    services = Services(backend, profile=symmio_profile)
    base = "http://symmio.in-process"
    with TestClient(services.app, base_url=base) as http:
        solver = SolverClient(
            f"{base}/solver", client=http, usage_count=symmio_chain.system.usage_count
        )
        coh = CohClient(f"{base}/coh", client=http)
        yield SymmioServices(services, http, solver, coh)


@pytest.fixture
def symmio_respx() -> Iterator[Any]:
    """The one respx router `mock_solver` and `mock_coh` add their routes to. Loopback passes
    through (a `serve` the test started); any other unmocked request fails the test."""
    import respx

    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        yield router


@pytest.fixture
def mock_solver(
    pytestconfig: pytest.Config,
    symmio_respx: Any,
    symmio_context: Context,
    symmio_chain: SymmioChain,
    symmio_profile: Profile,
) -> MockSolver:
    """A respx mock of the profile's solver kind (Enigma, or Rasa on `base`) at
    `symmio_mock_solver_url`, judging bodies by our rules."""
    from .services.mocks import MockSolver

    url = pytestconfig.getini("symmio_mock_solver_url")
    return MockSolver(symmio_respx, symmio_context, url, symmio_chain.chain.now, symmio_profile)


@pytest.fixture
def mock_coh(
    pytestconfig: pytest.Config,
    symmio_respx: Any,
    symmio_context: Context,
    symmio_chain: SymmioChain,
    symmio_profile: Profile,
) -> MockCoh:
    """A respx mock of the COH (TP/SL handler) at `symmio_mock_coh_url`, recording every
    request; refused by name on a profile without a COH."""
    from .services.mocks import MockCoh

    if symmio_profile.coh is None:
        raise pytest.UsageError(f"mock_coh: the {symmio_profile.name} profile has no COH")

    url = pytestconfig.getini("symmio_mock_coh_url")
    return MockCoh(symmio_respx, symmio_context, url, symmio_chain.chain.now)


@pytest.fixture
def mock_prices(
    pytestconfig: pytest.Config, symmio_respx: Any, symmio_context: Context
) -> MockPrices:
    """A respx mock of the price service's REST reads at `symmio_mock_price_url`: the marks
    (`/api/v1/price`, `/api/v1/prices/{names}`); `.set_price(name, price)` moves one."""
    from .services.mocks import MockPrices

    return MockPrices(symmio_respx, symmio_context, pytestconfig.getini("symmio_mock_price_url"))
