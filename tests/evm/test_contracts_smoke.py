"""Smoke test of the mock Symmio contracts, loaded from the committed contracts_abi/ artifacts.

Deploys MockERC20 (6 decimals), SymmioCore, AccountLayer, InstantLayer and MockPartyB on
eth-tester/py-evm through web3 and walks the v0.8.5 instant-trading flow: sub-account creation
(address formula), deposit with the core as ERC20 spender, bind via `_call`, session-key delegation,
a one-transaction `executeTemplate` open with quote-id injection, a close through `executeBatch`,
and reverts decoded to the InstantLayer's error names. Also checks every selector, error selector,
typehash and EIP-712 test vector of shared/spec/contracts-and-services.md against the artifacts.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from harness.artifacts import CONTRACT_NAMES, abi, load_artifact, signature
from harness.chain import DEFAULT_GAS as GAS
from harness.chain import Chain, deploy_system
from harness.keys import LocalKey

pytestmark = pytest.mark.evm

CONTRACTS = CONTRACT_NAMES
ZERO = "0x" + "00" * 20

# ----------------------------------------------------------------------------- facts (spec §2, §3)
FACT_FUNCTION_SELECTORS: dict[str, dict[str, str]] = {
    "SymmioCore": {
        "bindToPartyB": "cf462cb2",
        "getBindState": "a8eda21b",
        "requestToUnbindFromPartyB": "9da6ff6a",
        "completeUnbindRequest": "d66409bd",
        "cancelUnbindRequest": "7bcb7050",
        "sendQuoteWithAffiliateAndData": "a7f3b34b",
        "requestToClosePosition": "501e891f",
        "lockQuote": "ca6b88de",
        "openPosition": "fa59fbe8",
        "depositFor": "2f4f21e2",
        "internalTransfer": "3e7ba166",
        "getNextQuoteId": "aa48e2e8",
        "setCallFromInstantLayer": "4e706296",
        "setSigner": "6c19e783",
    },
    "AccountLayer": {
        "createSubAccounts": "817ed7f6",
        "getUserSubAccountsAddresses": "83a08b8f",
        "depositForAccount": "342fcda9",
        "depositAndAllocateForAccount": "31e69d2d",
        "_call": "bd367d8e",
        "addMarginToNextVA": "a6d66852",
        "predictNextVirtualAccountAddress": "06232f2e",
        "ownerOf": "14afd79e",
        "getVirtualAccount": "b4626376",
        "addMargin": "cf70cb69",
        "removeMargin": "5ce56265",
        "setSigner": "6c19e783",
    },
    "InstantLayer": {
        "grantDelegation": "fd7f4c5e",
        "grantBatchDelegationBySig": "880231ed",
        "initiateRevokeDelegation": "feae205f",
        "finalizeRevokeDelegation": "7f41bb6a",
        "isDelegationActive": "9d1daab3",
        "revocationCooldown": "ae2b3acf",
        "delegations": "feada722",
        "pendingRevocationEta": "41d0ffa1",
        "nonces": "7ecebe00",
        "delegationNonces": "03c8a3c6",
        "executeBatch": "06bcc336",
        "executeTemplate": "adc33a88",
        "getOperationHash": "6194d5f4",
        "getFlexFillAuthHash": "267f881e",
        "getDelegationHash": "905bb7ed",
        "operationUsageCount": "483c447d",
        "domainSeparator": "f698da25",
        "registerPartyBs": "79ceeac1",
        "setAccountLayer": "78c6ea51",
        "setTargetWhitelist": "108bdc14",
        "setRevocationCooldown": "465e421a",
        "addTemplate": "f871d6f2",
        "setTemplateInstantOpenMode": "be8e884c",
        "getTemplate": "31543cf4",
    },
    "MockPartyB": {"isValidSignature": "1626ba7e"},
}

FACT_ERROR_SELECTORS: dict[str, str] = {
    "ArrayLengthMismatch": "a24a13a6",
    "BadSourceResultLength": "f25bbc08",
    "CallDataLengthMismatch": "25ddcbe5",
    "DeadlineExpired": "bc3088ef",
    "DelegationAlreadyExecuted": "f5b07b26",
    "DelegationExpired": "12b6b89c",
    "EmptyBatch": "c2e5347d",
    "FlexFieldOutOfBounds": "f470be8e",
    "InsertionPointOutOfBounds": "173148bd",
    "InvalidDelegation": "a9e649e9",
    "InvalidFlexFillLength": "10d6f1ab",
    "InvalidFlexFillValueLength": "f53785bd",
    "InvalidFlexFillerSignature": "37511874",
    "InvalidIsolationType": "f1453e2d",
    "InvalidNonce": "1d8af046",
    "InvalidSignature": "8baa579f",
    "InvalidSourceIndex": "80f6092a",
    "MaxUsesExceeded": "86843b0b",
    "MismatchSignerAndAccount": "5c7c1746",
    "MissingSourceResult": "c77f7fe2",
    "NotOwner": "30cd7471",
    "NotOwnerOfAccount": "77bf8734",
    "OperationFailed": "05677227",
    "RevocationCooldownNotOver": "65c15296",
    "SelfDelegation": "52e0d047",
    "TargetNotWhitelisted": "47ccabe7",
    "TemplateOperationLengthMismatch": "62587f5c",
    "UnregisteredPartyB": "4fefca4e",
}
ERRORS_IN_ACCOUNT_LAYER = {"InvalidIsolationType", "NotOwner"}

FACT_TYPEHASHES = {
    "ACCOUNT_TYPEHASH": "31d614fa0ffec792c91f16dfe66078409e8b9f97745247e5c1f8ed002a7ee289",
    "REPLAY_HEADER_TYPEHASH": ("4ea556deed6f321beabcaecdbed7ae2fcd767b4da2c7f293f1c4eb8e852274c2"),
    "FLEX_FIELD_TYPEHASH": "0cc46038915888be0b6b7d7a9bd527d91ab573986db7973054b22213256163b2",
    "DELEGATION_INFO_TYPEHASH": "f92b10cbd34e2cbf63ff07f483a9766340058875987819d5a025d04353b7e321",
    "SIGNED_DELEGATION_TYPEHASH": (
        "1faf52f2c2de9258d9608231ba85da6933c891faec7f7acf7fd96d2941d40573"
    ),
    "FLEX_FILL_AUTH_TYPEHASH": "6f4c730db2efef49e0244b002b0f48cb41264f7aa6a1d29ed3521812c768c0a3",
}

SEL_ADD_MARGIN_TO_NEXT_VA = bytes.fromhex("a6d66852")
SEL_SEND_QUOTE = bytes.fromhex("a7f3b34b")
SEL_CLOSE = bytes.fromhex("501e891f")
SEL_COH_CLOSE = bytes.fromhex("eaa31b19")
SEL_SESSION = bytes.fromhex("00000001")

SUB_MARKET_DIRECTION = 2
VA_MARKET_LONG = 2
LONG, MARKET = 0, 1
SYMBOL_ID = 1

EMPTY_SIG5 = (b"", 0, 0, 0, b"", (0, ZERO, ZERO))
EMPTY_SIG4 = (b"", 0, 0, b"", (0, ZERO, ZERO))
EMPTY_PAIR = (b"", 0, 0, 0, 0, b"", (0, ZERO, ZERO))

E18 = 10**18
HEDGER = Account.from_key(keccak(text="symmio-harness smoke hedger"))
SESSION = Account.from_key(keccak(text="symmio-harness smoke session key"))
INTRUDER = Account.from_key(keccak(text="symmio-harness smoke intruder"))

EIP712_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Account": [{"name": "addr", "type": "address"}, {"name": "isPartyB", "type": "bool"}],
    "FlexField": [
        {"name": "offset", "type": "uint256"},
        {"name": "length", "type": "uint256"},
        {"name": "authorizedFlexFiller", "type": "address"},
    ],
    "ReplayAttackHeader": [
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
        {"name": "salt", "type": "bytes32"},
    ],
    "SignedOperation": [
        {"name": "signer", "type": "address"},
        {"name": "target", "type": "address"},
        {"name": "callData", "type": "bytes"},
        {"name": "signerAccount", "type": "Account"},
        {"name": "flexFields", "type": "FlexField[]"},
        {"name": "maxUses", "type": "uint256"},
        {"name": "replayAttackHeader", "type": "ReplayAttackHeader"},
    ],
}
DELEGATION_TYPES = {
    "EIP712Domain": EIP712_TYPES["EIP712Domain"],
    "Account": EIP712_TYPES["Account"],
    "ReplayAttackHeader": EIP712_TYPES["ReplayAttackHeader"],
    "DelegationInfo": [
        {"name": "account", "type": "Account"},
        {"name": "delegatedSigner", "type": "address"},
        {"name": "selectors", "type": "bytes4[]"},
        {"name": "expiryTimestamp", "type": "uint256"},
    ],
    "SignedDelegation": [
        {"name": "delegationInfo", "type": "DelegationInfo"},
        {"name": "replayAttackHeader", "type": "ReplayAttackHeader"},
    ],
}


# ----------------------------------------------------------------------------- helpers
def selector(text: str) -> str:
    return keccak(text=text)[:4].hex()


def op_tuple(op: dict[str, Any]) -> tuple:
    h = op["replayAttackHeader"]
    return (
        op["signer"],
        op["target"],
        op["callData"],
        (op["signerAccount"]["addr"], op["signerAccount"]["isPartyB"]),
        [(f["offset"], f["length"], f["authorizedFlexFiller"]) for f in op["flexFields"]],
        op["maxUses"],
        (h["nonce"], h["deadline"], h["salt"]),
    )


def op_typed(op: dict[str, Any], chain_id: int, verifying: str) -> dict[str, Any]:
    return {
        "types": EIP712_TYPES,
        "primaryType": "SignedOperation",
        "domain": {
            "name": "SymmioInstantLayer",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": verifying,
        },
        "message": op,
    }


def typed_digest(typed: dict[str, Any]) -> bytes:
    sm = encode_typed_data(full_message=typed)
    return keccak(b"\x19\x01" + sm.header + sm.body)


def make_op(
    signer: str,
    target: str,
    call_data: bytes,
    account: str,
    *,
    is_party_b: bool = False,
    deadline: int = 0,
    nonce: int = 0,
    max_uses: int = 1,
    salt: bytes | None = None,
    flex: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "signer": to_checksum_address(signer),
        "target": to_checksum_address(target),
        "callData": call_data,
        "signerAccount": {"addr": to_checksum_address(account), "isPartyB": is_party_b},
        "flexFields": flex or [],
        "maxUses": max_uses,
        "replayAttackHeader": {
            "nonce": nonce,
            "deadline": deadline,
            "salt": salt if salt is not None else keccak(call_data + signer.encode()),
        },
    }


def get_quote(core, quote_id: int) -> dict[str, Any]:
    outputs = next(e for e in core.abi if e.get("name") == "getQuote")["outputs"][0]
    names = [comp["name"] for comp in outputs["components"]]
    return dict(zip(names, core.functions.getQuote(quote_id).call(), strict=True))


def cd(contract, fn_name: str, *args: Any) -> bytes:
    return bytes.fromhex(contract.encode_abi(fn_name, args=list(args))[2:])


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def env():
    """Deployed and wired system with a user sub-account that is funded, bound and delegated."""
    c = Chain()
    system = deploy_system(c, hedger=LocalKey(HEDGER.key))
    admin, user, affiliate = c.accounts[0], c.accounts[1], c.accounts[5]
    # full-ABI objects: this test reaches mock-only functions (faucet, core views) too
    usdc, core, al = (system.mock[n] for n in ("MockERC20", "SymmioCore", "AccountLayer"))
    il, pb = system.mock["InstantLayer"], system.mock["MockPartyB"]

    # 1. sub-account (address formula, globalNonce pre-incremented -> 1)
    c.send(
        al.functions.createSubAccounts(
            affiliate, [("smoke", b"", core.address, SUB_MARKET_DIRECTION, True)]
        ),
        user,
    )
    sub = al.functions.getUserSubAccountsAddresses(user, 0, 10).call()[0]
    inner = keccak(bytes.fromhex(user[2:]) + (1).to_bytes(32, "big"))
    expected = keccak(b"\xff" + bytes.fromhex(affiliate[2:]) + inner + keccak(b"ACC_V1"))[12:]
    assert sub == to_checksum_address(expected)

    # 2. approve the CORE, deposit through the AccountLayer (6 decimals in, 18 decimals inside)
    c.send(usdc.functions.mint(user, 10_000 * 10**6), user)
    c.send(usdc.functions.approve(core.address, 2**256 - 1), user)
    c.send(al.functions.depositForAccount(sub, 1_000 * 10**6), user)

    # 3. bind via _call; then turn on instant mode (PartyA calls must come via the InstantLayer)
    c.send(al.functions._call(sub, [cd(core, "bindToPartyB", pb.address)]), user)
    c.send(al.functions._call(sub, [cd(core, "activateInstantMode")]), user)

    # 4. session-key delegation (owner-only)
    expiry = c.now() + 86_400
    selectors = [SEL_ADD_MARGIN_TO_NEXT_VA, SEL_SEND_QUOTE, SEL_CLOSE, SEL_COH_CLOSE, SEL_SESSION]
    c.send(il.functions.grantDelegation(((sub, False), SESSION.address, selectors, expiry)), user)

    return {
        "c": c,
        "admin": admin,
        "user": user,
        "affiliate": affiliate,
        "usdc": usdc,
        "core": core,
        "al": al,
        "il": il,
        "pb": pb,
        "sub": sub,
        "chain_id": c.w3.eth.chain_id,
    }


@pytest.fixture(autouse=True)
def _isolate(request):
    """Each test starts from the module fixture's state."""
    if "env" not in request.fixturenames:
        yield
        return
    env = request.getfixturevalue("env")
    snap = env["c"].snapshot()
    yield
    env["c"].revert(snap)


def sign(env, op: dict[str, Any], key) -> bytes:
    typed = op_typed(op, env["chain_id"], env["il"].address)
    return bytes(key.sign_typed_data(full_message=typed).signature)


def open_ops(env, deadline: int) -> tuple[list[dict[str, Any]], list[bytes]]:
    """addMarginToNextVA + sendQuote (session key), lockQuote + openPosition (hedger, PartyB)."""
    core, al, pb, sub = env["core"], env["al"], env["pb"], env["sub"]
    qty, price = E18 // 100, 60_000 * E18
    add = cd(al, "addMarginToNextVA", sub, VA_MARKET_LONG, SYMBOL_ID, 100 * E18)
    data = encode(["(string)"], [("7f1e6c1e-smoke",)])
    send = cd(
        core,
        "sendQuoteWithAffiliateAndData",
        [pb.address],
        SYMBOL_ID,
        LONG,
        MARKET,
        price,
        qty,
        6 * E18,
        3 * E18,
        30 * E18,
        0,
        deadline,
        env["affiliate"],
        EMPTY_SIG5,
        data,
    )
    lock = cd(core, "lockQuote", 0, EMPTY_SIG4)  # quote id 0 = placeholder, injected
    opened = cd(core, "openPosition", 0, qty, 59_990 * E18, EMPTY_PAIR)
    ops = [
        make_op(SESSION.address, al.address, add, sub, deadline=deadline),
        make_op(SESSION.address, core.address, send, sub, deadline=deadline),
        make_op(pb.address, core.address, lock, pb.address, is_party_b=True, deadline=deadline),
        make_op(pb.address, core.address, opened, pb.address, is_party_b=True, deadline=deadline),
    ]
    sigs = [sign(env, ops[0], SESSION), sign(env, ops[1], SESSION)]
    sigs += [sign(env, ops[2], HEDGER), sign(env, ops[3], HEDGER)]
    return ops, sigs


def execute_batch(env, ops, sigs, sender=None):
    n = len(ops)
    return env["il"].functions.executeBatch(
        [op_tuple(o) for o in ops], sigs, [[] for _ in range(n)], [[] for _ in range(n)]
    ), (sender or env["admin"])


def instant_open(env) -> tuple[int, str]:
    c, il, core, al, sub = env["c"], env["il"], env["core"], env["al"], env["sub"]
    deadline = c.now() + 3_600
    ops, sigs = open_ops(env, deadline)
    predicted = al.functions.predictNextVirtualAccountAddress(sub, VA_MARKET_LONG, SYMBOL_ID).call()
    quote_id = core.functions.getNextQuoteId().call()
    fn = il.functions.executeTemplate(0, [op_tuple(o) for o in ops], sigs, [[]] * 4, [[]] * 4)
    results = fn.call({"from": env["admin"], "gas": GAS})
    assert results[0] == b""
    assert decode(["uint256"], results[1]) == (quote_id,)
    c.send(fn, env["admin"])
    return quote_id, predicted


# ----------------------------------------------------------------------------- tests
def test_artifacts_are_complete_and_small():
    for name in CONTRACTS:
        art = load_artifact(name)
        assert list(art) == [
            "contractName",
            "sourcePath",
            "abi",
            "bytecode",
            "deployedBytecode",
            "compiler",
            "sourceHash",
        ]
        assert art["contractName"] == name
        assert art["compiler"]["settings"]["evmVersion"] == "prague"
        assert art["compiler"]["version"].startswith("0.8.30+")
        runtime = (len(art["deployedBytecode"]) - 2) // 2
        assert 0 < runtime <= 24_576, (name, runtime)


def test_function_and_error_selectors_match_the_facts():
    for name, expected in FACT_FUNCTION_SELECTORS.items():
        functions = {
            e["name"]: selector(signature(e)) for e in abi(name) if e["type"] == "function"
        }
        for fn_name, sel in expected.items():
            assert functions.get(fn_name) == sel, (name, fn_name, functions.get(fn_name), sel)
    errors: dict[str, dict[str, str]] = {}
    for name in ("AccountLayer", "InstantLayer"):
        errors[name] = {
            e["name"]: selector(signature(e)) for e in abi(name) if e["type"] == "error"
        }
    for err, sel in FACT_ERROR_SELECTORS.items():
        home = "AccountLayer" if err in ERRORS_IN_ACCOUNT_LAYER else "InstantLayer"
        assert errors[home].get(err) == sel, (home, err)
    assert errors["AccountLayer"]["Unauthorized"] == selector("Unauthorized()")


def test_typehashes_domain_and_facts_vectors(env):
    il, chain_id = env["il"], env["chain_id"]
    for const, value in FACT_TYPEHASHES.items():
        assert getattr(il.functions, const)().call().hex() == value, const

    # domain: OZ 4.9 EIP712("SymmioInstantLayer", "1") on this chain
    domain = {
        "name": "SymmioInstantLayer",
        "version": "1",
        "chainId": chain_id,
        "verifyingContract": il.address,
    }
    domain_typehash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected_ds = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_typehash,
                keccak(text="SymmioInstantLayer"),
                keccak(text="1"),
                chain_id,
                il.address,
            ],
        )
    )
    assert il.functions.domainSeparator().call() == expected_ds
    assert tuple(il.functions.eip712Domain().call()[1:5]) == (
        "SymmioInstantLayer",
        "1",
        chain_id,
        il.address,
    )

    # the facts' vector shape: close op, maxUses 1, nonce 0, deadline 1700000000, salt 0x11..11
    facts_ds = bytes.fromhex("e0ce24f65991ba2a22215fb776b2a8fb5dd303ee3a310293777afa9ead8c7d49")
    close = SEL_CLOSE + encode(
        ["uint256", "uint256", "uint256", "uint8", "uint256"], [42, E18, 5 * E18, 1, 1700000000]
    )
    vectors = [
        ([], "52fdc463f818d4a9f1036abf588f8629de06943b13e5370bc48247f662f8d67e"),
        (
            [{"offset": 36, "length": 32, "authorizedFlexFiller": "0x" + "44" * 20}],
            "e76374a46dd3970c8f8abe4582a615543fc8d7d14d3a9c5588d97da7150185c7",
        ),
    ]
    for flex, facts_digest in vectors:
        op = make_op(
            "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
            "0x57331038c21982116EE9b0906E4a5c5cB52dcE2e",
            close,
            "0x" + "33" * 20,
            deadline=1700000000,
            salt=b"\x11" * 32,
            flex=[
                {**f, "authorizedFlexFiller": to_checksum_address(f["authorizedFlexFiller"])}
                for f in flex
            ],
        )
        # contract digest on our chain == eth_account digest on our chain
        assert il.functions.getOperationHash(op_tuple(op)).call() == typed_digest(
            op_typed(op, chain_id, il.address)
        )
        # the same struct hash (eth_account's, which the contract's digest equals above) under
        # the facts' domain separator == the facts' literal digest
        struct_hash = encode_typed_data(full_message=op_typed(op, chain_id, il.address)).body
        assert keccak(b"\x19\x01" + facts_ds + struct_hash).hex() == facts_digest

    # SignedDelegation vector
    delegation = {
        "delegationInfo": {
            "account": {"addr": to_checksum_address("0x" + "33" * 20), "isPartyB": False},
            "delegatedSigner": to_checksum_address("0x" + "44" * 20),
            "selectors": [SEL_ADD_MARGIN_TO_NEXT_VA, SEL_SEND_QUOTE, SEL_CLOSE, SEL_SESSION],
            "expiryTimestamp": 1800000000,
        },
        "replayAttackHeader": {"nonce": 1, "deadline": 0, "salt": b"\x11" * 32},
    }
    info = delegation["delegationInfo"]
    d_tuple = (
        ((info["account"]["addr"], False), info["delegatedSigner"], info["selectors"], 1800000000),
        (1, 0, b"\x11" * 32),
    )
    typed = {
        "types": DELEGATION_TYPES,
        "primaryType": "SignedDelegation",
        "domain": domain,
        "message": delegation,
    }
    assert il.functions.getDelegationHash(d_tuple).call() == typed_digest(typed)
    struct_hash = encode_typed_data(full_message=typed).body
    assert (
        keccak(b"\x19\x01" + facts_ds + struct_hash).hex()
        == "df4877eae8c09e251491dd28538d5bb2aa01556a72c32c487ac2492a071d0678"
    )


def test_address_formulas_match_the_facts(env):
    al = env["al"]
    assert al.functions.computeSubAccountAddress("0x" + "55" * 20, "0x" + "66" * 20, 1).call() == (
        to_checksum_address("0x7ad70596054cfba67fe63f7b27bab4e651908710")
    )
    assert al.functions.computeVirtualAccountAddress("0x" + "33" * 20, 1).call() == (
        to_checksum_address("0x98719bed8d377c7bb09a3faf4fcd170b30aeadd9")
    )


def test_setup_state(env):
    core, al, il, usdc, sub, user, pb = (
        env[k] for k in ("core", "al", "il", "usdc", "sub", "user", "pb")
    )
    assert al.functions.ownerOf(sub).call() == user
    assert core.functions.balanceOf(sub).call() == 1_000 * E18
    assert usdc.functions.balanceOf(core.address).call() == 1_000 * 10**6
    status, partyb, _ = core.functions.getBindState(sub).call()
    assert (status, partyb) == (1, pb.address)
    assert il.functions.isDelegationActive(sub, SESSION.address, SEL_SEND_QUOTE).call()
    assert il.functions.isDelegationActive(sub, SESSION.address, SEL_SESSION).call()
    assert not il.functions.isDelegationActive(sub, INTRUDER.address, SEL_SEND_QUOTE).call()


def test_instant_open_in_one_template_tx_then_close_via_execute_batch(env):
    c, core, al, il, pb, sub = (env[k] for k in ("c", "core", "al", "il", "pb", "sub"))
    quote_id, va = instant_open(env)
    assert quote_id == 1

    # VA at the predicted address (per-parent virtual nonce 1), bound to the parent's PartyB
    inner = keccak((1).to_bytes(32, "big"))
    assert va == to_checksum_address(
        keccak(b"\xff" + bytes.fromhex(sub[2:]) + inner + keccak(b"VACC_V1"))[12:]
    )
    account, parent, symbol_id, exists, _, iso = al.functions.getVirtualAccount(va).call()
    assert (account, parent, symbol_id, exists, iso) == (va, sub, SYMBOL_ID, True, VA_MARKET_LONG)
    assert al.functions.ownerOf(va).call() == env["user"]
    assert tuple(core.functions.getBindState(va).call()[:2]) == (1, pb.address)

    q = get_quote(core, quote_id)
    assert q["quoteStatus"] == 4  # OPENED
    assert (q["partyA"], q["partyB"]) == (va, pb.address)
    assert q["quantity"] == E18 // 100 and q["openedPrice"] == 59_990 * E18
    assert decode(["(string)"], q["data"]) == (("7f1e6c1e-smoke",),)
    assert core.functions.balanceOf(sub).call() == 900 * E18
    assert core.functions.balanceOf(va).call() == 61 * E18
    assert core.functions.lockedBalanceOf(va).call() == 39 * E18

    # close: session key signs for the VA (delegation looked up on the parent), with nonce 1
    deadline = c.now() + 3_600
    close = cd(core, "requestToClosePosition", quote_id, 59_000 * E18, E18 // 100, MARKET, deadline)
    fill = cd(core, "fillCloseRequest", quote_id, E18 // 100, 59_500 * E18, EMPTY_PAIR)
    close_op = make_op(SESSION.address, core.address, close, va, deadline=deadline, nonce=1)
    fill_op = make_op(pb.address, core.address, fill, pb.address, is_party_b=True)
    fn, sender = execute_batch(
        env, [close_op, fill_op], [sign(env, close_op, SESSION), sign(env, fill_op, HEDGER)]
    )
    c.send(fn, sender)
    assert get_quote(core, quote_id)["quoteStatus"] == 7  # CLOSED
    assert core.functions.lockedBalanceOf(va).call() == 0
    assert core.functions.balanceOf(va).call() == 100 * E18
    assert il.functions.nonces(va).call() == 1
    digest = il.functions.getOperationHash(op_tuple(close_op)).call()
    assert il.functions.operationUsageCount(digest).call() == 1

    # replaying the close op: MaxUsesExceeded(digest, 1)
    fn, sender = execute_batch(env, [close_op], [sign(env, close_op, SESSION)])
    assert c.revert_of(fn, sender) == ("MaxUsesExceeded", (digest, 1))


def test_reverts_decode_to_instant_layer_error_names(env):
    c, core, al, sub = env["c"], env["core"], env["al"], env["sub"]
    now = c.now()
    add = cd(al, "addMarginToNextVA", sub, VA_MARKET_LONG, SYMBOL_ID, E18)

    # DeadlineExpired(deadline)
    op = make_op(SESSION.address, al.address, add, sub, deadline=now - 1)
    fn, sender = execute_batch(env, [op], [sign(env, op, SESSION)])
    assert c.revert_of(fn, sender) == ("DeadlineExpired", (now - 1,))

    # InvalidDelegation(): a key nobody delegated to
    op = make_op(INTRUDER.address, al.address, add, sub)
    fn, sender = execute_batch(env, [op], [sign(env, op, INTRUDER)])
    assert c.revert_of(fn, sender) == ("InvalidDelegation", ())

    # InvalidSignature(): delegated signer, signed by someone else; also a high-s copy
    op = make_op(SESSION.address, al.address, add, sub)
    fn, sender = execute_batch(env, [op], [sign(env, op, INTRUDER)])
    assert c.revert_of(fn, sender) == ("InvalidSignature", ())
    good = sign(env, op, SESSION)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(good[32:64], "big")
    high_s = good[:32] + (n - s).to_bytes(32, "big") + bytes([55 - good[64]])  # v 27 <-> 28
    fn, sender = execute_batch(env, [op], [high_s])
    assert c.revert_of(fn, sender) == ("InvalidSignature", ())

    # MaxUsesExceeded: maxUses 1 used twice in one batch
    op = make_op(SESSION.address, al.address, add, sub)
    sig = sign(env, op, SESSION)
    digest = env["il"].functions.getOperationHash(op_tuple(op)).call()
    fn, sender = execute_batch(env, [op, op], [sig, sig])
    assert c.revert_of(fn, sender) == ("MaxUsesExceeded", (digest, 1))

    # grantDelegation is owner-only: NotOwnerOfAccount(caller, account)
    fn = env["il"].functions.grantDelegation(
        ((sub, False), INTRUDER.address, [SEL_CLOSE], now + 99)
    )
    assert c.revert_of(fn, c.accounts[7]) == ("NotOwnerOfAccount", (c.accounts[7], sub))

    # instant mode on: a direct PartyA call (not through the InstantLayer) is refused by the core
    deadline = now + 3_600
    send = cd(
        core,
        "sendQuoteWithAffiliateAndData",
        [env["pb"].address],
        SYMBOL_ID,
        LONG,
        MARKET,
        60_000 * E18,
        E18 // 100,
        E18,
        E18,
        E18,
        0,
        deadline,
        env["affiliate"],
        EMPTY_SIG5,
        b"",
    )
    name, (reason,) = c.revert_of(al.functions._call(sub, [send]), env["user"])
    assert name == "Error" and "instant mode is active" in reason

    # an unbound sub-account: the empty Muon sentinel is rejected with LibMuon's message
    c.send(
        al.functions.createSubAccounts(
            env["affiliate"], [("unbound", b"", core.address, SUB_MARKET_DIRECTION, True)]
        ),
        env["user"],
    )
    sub2 = al.functions.getUserSubAccountsAddresses(env["user"], 1, 1).call()[0]
    c.send(al.functions.depositForAccount(sub2, 100 * 10**6), env["user"])
    c.send(al.functions.addMarginToNextVA(sub2, VA_MARKET_LONG, SYMBOL_ID, 50 * E18), env["user"])
    assert c.revert_of(al.functions._call(sub2, [send]), env["user"]) == (
        "Error",
        ("LibMuon: Expired signature",),
    )


# ----------------------------------------------------------------------------- extended rules
USER_KEY = Account.from_key((2).to_bytes(32, "big"))  # eth-tester account i has key i + 1
FLEX_FILL_TYPES = {
    "EIP712Domain": EIP712_TYPES["EIP712Domain"],
    "FlexFillAuth": [
        {"name": "opHash", "type": "bytes32"},
        {"name": "fieldIndex", "type": "uint256"},
        {"name": "value", "type": "bytes"},
    ],
}


def domain_of(env) -> dict[str, Any]:
    return {
        "name": "SymmioInstantLayer",
        "version": "1",
        "chainId": env["chain_id"],
        "verifyingContract": env["il"].address,
    }


def instant_close(env, quote_id: int, va: str) -> None:
    c, core, pb = env["c"], env["core"], env["pb"]
    deadline = c.now() + 3_600
    close = cd(core, "requestToClosePosition", quote_id, 59_000 * E18, E18 // 100, MARKET, deadline)
    fill = cd(core, "fillCloseRequest", quote_id, E18 // 100, 59_500 * E18, EMPTY_PAIR)
    close_op = make_op(SESSION.address, core.address, close, va, deadline=deadline)
    fill_op = make_op(pb.address, core.address, fill, pb.address, is_party_b=True)
    fn, sender = execute_batch(
        env, [close_op, fill_op], [sign(env, close_op, SESSION), sign(env, fill_op, HEDGER)]
    )
    c.send(fn, sender)


def test_flex_fills(env):
    c, core, al, il, sub, admin = (env[k] for k in ("c", "core", "al", "il", "sub", "admin"))
    va = al.functions.predictNextVirtualAccountAddress(sub, VA_MARKET_LONG, SYMBOL_ID).call()
    add = cd(al, "addMarginToNextVA", sub, VA_MARKET_LONG, SYMBOL_ID, E18)  # amount at arg 96

    def flex_op(filler: str, offset: int = 96, salt: bytes = b"\x01" * 32) -> dict[str, Any]:
        flex = [{"offset": offset, "length": 32, "authorizedFlexFiller": filler}]
        return make_op(SESSION.address, al.address, add, sub, flex=flex, salt=salt)

    def batch(op, fills, flex_sigs):
        return il.functions.executeBatch([op_tuple(op)], [sign(env, op, SESSION)], fills, flex_sigs)

    seven = (7 * E18).to_bytes(32, "big")
    op = flex_op(admin)
    assert c.revert_of(batch(op, [[]], [[b""]]), admin) == ("InvalidFlexFillLength", (1, 0))
    assert c.revert_of(batch(op, [[seven]], [[]]), admin) == ("ArrayLengthMismatch", ())
    assert c.revert_of(batch(op, [[seven[:31]]], [[b""]]), admin) == (
        "InvalidFlexFillValueLength",
        (0, 32, 31),
    )
    bad = flex_op(admin, offset=120)
    assert c.revert_of(batch(bad, [[b""]], [[b""]]), admin) == (
        "FlexFieldOutOfBounds",
        (120, 32, 132),
    )
    # the operator is the authorized filler: no FlexFillAuth needed; the filled amount is used
    c.send(batch(op, [[seven]], [[b""]]), admin)
    assert core.functions.balanceOf(va).call() == 7 * E18

    # a third-party filler must sign FlexFillAuth(opHash, index, value)
    op = flex_op(HEDGER.address, salt=b"\x02" * 32)
    op_hash = il.functions.getOperationHash(op_tuple(op)).call()
    auth = {
        "types": FLEX_FILL_TYPES,
        "primaryType": "FlexFillAuth",
        "domain": domain_of(env),
        "message": {"opHash": op_hash, "fieldIndex": 0, "value": seven},
    }
    assert il.functions.getFlexFillAuthHash(op_hash, 0, seven).call() == typed_digest(auth)
    wrong = bytes(INTRUDER.sign_typed_data(full_message=auth).signature)
    assert c.revert_of(batch(op, [[seven]], [[wrong]]), admin) == (
        "InvalidFlexFillerSignature",
        (0,),
    )
    right = bytes(HEDGER.sign_typed_data(full_message=auth).signature)
    c.send(batch(op, [[seven]], [[right]]), admin)
    assert core.functions.balanceOf(va).call() == 14 * E18

    # an empty fill keeps the signed bytes
    op = flex_op(HEDGER.address, salt=b"\x03" * 32)
    c.send(batch(op, [[b""]], [[b""]]), admin)
    assert core.functions.balanceOf(va).call() == 15 * E18


def test_template_and_batch_shape_errors(env):
    c, il, admin = env["c"], env["il"], env["admin"]
    ops, sigs = open_ops(env, c.now() + 3_600)
    tuples, empty = [op_tuple(o) for o in ops], [[]] * 4

    def with_template(op2: tuple) -> tuple[str, tuple]:
        tid = il.functions.nextTemplateId().call()
        c.send(
            il.functions.addTemplate("t", [([], [], []), ([], [], []), op2, ([], [], [])]), admin
        )
        return c.revert_of(il.functions.executeTemplate(tid, tuples, sigs, empty, empty), admin)

    lock_len = len(ops[2]["callData"])
    assert with_template(([0], [9], [0])) == ("InvalidSourceIndex", (9,))
    assert with_template(([0], [0], [0])) == ("MissingSourceResult", ())  # addMargin: no result
    assert with_template(([0], [3], [0])) == ("MissingSourceResult", ())  # not executed yet
    assert with_template(([0], [1], [32])) == (
        "BadSourceResultLength",
        (encode(["uint256"], [1]), 32),
    )
    assert with_template(([lock_len - 4], [1], [0])) == (
        "InsertionPointOutOfBounds",
        (lock_len - 4 + 32, lock_len),
    )
    # the three arrays of a step are not checked when the template is added: a short one is
    # an out-of-bounds Panic(0x32) at execution
    assert with_template(([0], [1], [])) == ("Panic", (0x32,))
    fn = il.functions.executeTemplate(0, tuples[:2], sigs[:2], [[]] * 2, [[]] * 2)
    assert c.revert_of(fn, admin) == ("TemplateOperationLengthMismatch", ())
    assert c.revert_of(il.functions.executeBatch([], [], [], []), admin) == ("EmptyBatch", ())
    fn = il.functions.executeBatch(tuples, sigs[:3], empty, empty)
    assert c.revert_of(fn, admin) == ("ArrayLengthMismatch", ())
    name, (reason,) = c.revert_of(
        il.functions.executeBatch(tuples, sigs, empty, empty), c.accounts[7]
    )
    assert name == "Error" and "missing role" in reason
    # template metadata
    c.send(il.functions.setTemplateInstantOpenMode(0, True), admin)
    name_, operations, active = il.functions.getTemplate(0).call()
    assert (name_, active, len(operations)) == ("instant_open", True, 4)
    assert il.functions.templateInstantOpenMode(0).call()
    assert il.functions.getTemplate(99).call() == ("", [], False)  # no revert, an empty template


def test_operation_verification_errors(env):
    c, core, al, il, pb, sub, admin = (
        env[k] for k in ("c", "core", "al", "il", "pb", "sub", "admin")
    )
    add = cd(al, "addMarginToNextVA", sub, VA_MARKET_LONG, SYMBOL_ID, E18)
    stranger = c.accounts[7]

    def run(op, key) -> tuple[str, tuple]:
        fn, sender = execute_batch(env, [op], [sign(env, op, key)])
        return c.revert_of(fn, sender)

    op = make_op(SESSION.address, al.address, b"\x01\x02", sub)
    assert run(op, SESSION) == ("CallDataLengthMismatch", ())
    op = make_op(SESSION.address, env["usdc"].address, add, sub)
    assert run(op, SESSION) == ("TargetNotWhitelisted", (env["usdc"].address,))
    nq = cd(core, "getNextQuoteId")
    op = make_op(HEDGER.address, core.address, nq, pb.address, is_party_b=True)
    assert run(op, HEDGER) == ("MismatchSignerAndAccount", (HEDGER.address, pb.address))
    op = make_op(stranger, core.address, nq, stranger, is_party_b=True)
    assert run(op, HEDGER) == ("UnregisteredPartyB", (stranger,))
    op = make_op(SESSION.address, al.address, add, sub, nonce=2)
    assert run(op, SESSION) == ("InvalidNonce", (sub, 1, 2))
    # a delegated selector list does not cover other selectors of the same target
    op = make_op(SESSION.address, core.address, cd(core, "requestToUnbindFromPartyB"), sub)
    assert run(op, SESSION) == ("InvalidDelegation", ())

    # maxUses 0 = unlimited: the same signed op runs twice
    op = make_op(SESSION.address, al.address, add, sub, max_uses=0)
    sig = sign(env, op, SESSION)
    fn, sender = execute_batch(env, [op, op], [sig, sig])
    c.send(fn, sender)
    digest = il.functions.getOperationHash(op_tuple(op)).call()
    assert il.functions.operationUsageCount(digest).call() == 2

    # PartyB self-execution: signer == msg.sender, so no signature is needed
    op = make_op(pb.address, core.address, nq, pb.address, is_party_b=True)
    inner = il.encode_abi("executeBatch", args=[[op_tuple(op)], [b""], [[]], [[]]])
    ret = pb.functions.execute(il.address, inner).call({"from": admin, "gas": GAS})
    (results,) = decode(["bytes[]"], ret)
    assert list(results) == [b""]  # a PartyB's _call returns nothing (as the real SymmioPartyB)

    # the owner signs for itself (no delegation) through the InstantLayer: unbind while in
    # instant mode, which a direct _call cannot do
    unbind = cd(core, "requestToUnbindFromPartyB")
    name, (reason,) = c.revert_of(al.functions._call(sub, [unbind]), env["user"])
    assert name == "Error" and "instant mode is active" in reason
    op = make_op(env["user"], core.address, unbind, sub)
    fn, sender = execute_batch(env, [op], [sign(env, op, USER_KEY)])
    c.send(fn, sender)
    assert core.functions.getBindState(sub).call()[0] == 2  # PENDING_UNBIND
    name, (reason,) = c.revert_of(core.functions.completeUnbindRequest(sub), stranger)
    assert "cooldown" in reason
    c.time_travel(c.now() + 3_601)
    c.send(core.functions.completeUnbindRequest(sub), stranger)
    assert tuple(core.functions.getBindState(sub).call()[:2]) == (0, ZERO)


def test_delegation_grant_and_revocation_rules(env):
    c, il, sub, user = env["c"], env["il"], env["sub"], env["user"]
    assert USER_KEY.address == user
    stranger = c.accounts[7]
    later = c.now() + 10_000

    grant = il.functions.grantDelegation
    assert c.revert_of(grant(((sub, True), SESSION.address, [SEL_CLOSE], later)), user) == (
        "InvalidDelegation",
        (),
    )
    assert c.revert_of(grant(((sub, False), user, [SEL_CLOSE], later)), user) == (
        "SelfDelegation",
        (),
    )
    past = c.now() - 1
    assert c.revert_of(grant(((sub, False), SESSION.address, [SEL_CLOSE], past)), user) == (
        "DelegationExpired",
        (past,),
    )

    # revocation: only owner / delegate / REVOKER_ROLE; ETA = now + cooldown; active until ETA
    revoke = il.functions.initiateRevokeDelegation((sub, False), SESSION.address, [SEL_SEND_QUOTE])
    assert c.revert_of(revoke, stranger) == ("NotOwnerOfAccount", (stranger, sub))
    sent = c.send(revoke, user)
    block_ts = c.w3.eth.get_block(sent.block_number)["timestamp"]
    eta = il.functions.pendingRevocationEta(sub, SESSION.address, SEL_SEND_QUOTE).call()
    assert eta == block_ts + 600
    assert il.functions.isDelegationActive(sub, SESSION.address, SEL_SEND_QUOTE).call()
    finalize = il.functions.finalizeRevokeDelegation(
        (sub, False), SESSION.address, [SEL_SEND_QUOTE]
    )
    assert c.revert_of(finalize, stranger) == ("RevocationCooldownNotOver", (eta,))
    c.time_travel(eta + 1)
    assert not il.functions.isDelegationActive(sub, SESSION.address, SEL_SEND_QUOTE).call()
    c.send(finalize, stranger)
    assert il.functions.delegations(sub, SESSION.address, SEL_SEND_QUOTE).call() == 0
    # re-granting restores it and clears any ETA
    c.send(grant(((sub, False), SESSION.address, [SEL_SEND_QUOTE], c.now() + 999)), user)
    assert il.functions.isDelegationActive(sub, SESSION.address, SEL_SEND_QUOTE).call()
    assert il.functions.pendingRevocationEta(sub, SESSION.address, SEL_SEND_QUOTE).call() == 0

    assert c.revert_of(il.functions.setRevocationCooldown(299), env["admin"]) == (
        "InvalidCallData",
        (),
    )

    # gasless grant signed by the owner, relayed by anyone
    def signed_delegation(nonce: int, salt: bytes, key) -> tuple[tuple, bytes, bytes]:
        message = {
            "delegationInfo": {
                "account": {"addr": sub, "isPartyB": False},
                "delegatedSigner": INTRUDER.address,
                "selectors": [SEL_CLOSE],
                "expiryTimestamp": c.now() + 5_000,
            },
            "replayAttackHeader": {"nonce": nonce, "deadline": 0, "salt": salt},
        }
        typed = {
            "types": DELEGATION_TYPES,
            "primaryType": "SignedDelegation",
            "domain": domain_of(env),
            "message": message,
        }
        info = message["delegationInfo"]
        value = (
            ((sub, False), INTRUDER.address, [SEL_CLOSE], info["expiryTimestamp"]),
            (nonce, 0, salt),
        )
        sig = bytes(key.sign_typed_data(full_message=typed).signature)
        return value, sig, typed_digest(typed)

    value, sig, _ = signed_delegation(1, b"\x05" * 32, USER_KEY)
    by_sig = il.functions.grantBatchDelegationBySig
    assert c.revert_of(by_sig(*signed_delegation(1, b"\x06" * 32, INTRUDER)[:2]), stranger) == (
        "InvalidSignature",
        (),
    )
    c.send(by_sig(value, sig), stranger)
    assert il.functions.isDelegationActive(sub, INTRUDER.address, SEL_CLOSE).call()
    assert il.functions.delegationNonces(sub).call() == 1
    # a replay meets the nonce check first: InvalidNonce with the STORED nonce as `expected`
    assert c.revert_of(by_sig(value, sig), stranger) == ("InvalidNonce", (sub, 1, 1))
    assert c.revert_of(by_sig(*signed_delegation(1, b"\x07" * 32, USER_KEY)[:2]), stranger) == (
        "InvalidNonce",
        (sub, 1, 1),
    )


def test_account_layer_rules(env):
    c, core, al, sub, user = (env[k] for k in ("c", "core", "al", "sub", "user"))
    stranger = c.accounts[7]
    set_signer = cd(core, "setSigner", stranger)
    to_balance = bytes.fromhex("fad846e3") + encode(["address", "uint256"], [stranger, 1])
    assert c.revert_of(al.functions._call(sub, [set_signer]), user) == ("Unauthorized", ())
    assert c.revert_of(al.functions._call(sub, [to_balance]), user) == ("Unauthorized", ())
    assert c.revert_of(al.functions._call(sub, [cd(core, "getNextQuoteId")]), stranger) == (
        "NotOwner",
        (),
    )
    assert c.revert_of(al.functions.setSigner(stranger), stranger) == ("Unauthorized", ())
    for iso in (0, 1, 4):  # MARKET_DIRECTION only takes MARKET_LONG / MARKET_SHORT
        fn = al.functions.addMarginToNextVA(sub, iso, SYMBOL_ID, E18)
        assert c.revert_of(fn, user) == ("InvalidIsolationType", ())
    create = al.functions.createSubAccounts
    assert c.revert_of(create(user, [("p", b"", core.address, 0, True)]), user) == (
        "SingleVAModeNotApplicable",
        (),
    )
    assert c.revert_of(create(user, [("p", b"", core.address, 4, False)]), user) == (
        "InvalidIsolationType",
        (),
    )

    # no per-delegation scope in this generation: the session key's operation acts with the
    # owner's authority on another sub-account of the same owner (it reaches the core, which
    # refuses only because sub_b holds nothing)
    c.send(create(env["affiliate"], [("b", b"", core.address, SUB_MARKET_DIRECTION, True)]), user)
    sub_b = al.functions.getUserSubAccountsAddresses(user, 1, 1).call()[0]
    add_b = cd(al, "addMarginToNextVA", sub_b, VA_MARKET_LONG, SYMBOL_ID, E18)
    op = make_op(SESSION.address, al.address, add_b, sub)
    fn, sender = execute_batch(env, [op], [sign(env, op, SESSION)])
    assert c.revert_of(fn, sender) == (
        "OperationFailed",
        (0, ("Error", ("SymmioCore: insufficient free balance",))),
    )


def test_single_va_mode_and_deleted_va_pool(env):
    c, core, al, sub, user = (env[k] for k in ("c", "core", "al", "sub", "user"))
    quote_id, va = instant_open(env)
    predict = al.functions.predictNextVirtualAccountAddress(sub, VA_MARKET_LONG, SYMBOL_ID)
    assert predict.call() == va  # singleVAMode: the active VA for the key
    assert al.functions.getActiveVAByKey(sub, VA_MARKET_LONG, SYMBOL_ID).call() == va
    assert c.revert_of(al.functions.deleteVirtualAccount(va), user) == ("OpenPositionsExist", ())
    instant_close(env, quote_id, va)

    c.send(al.functions.deleteVirtualAccount(va), user)
    assert core.functions.balanceOf(va).call() == 0
    assert core.functions.balanceOf(sub).call() == 1_000 * E18
    assert al.functions.getVirtualAccount(va).call()[3] is False
    assert al.functions.getDeletedVAPool(sub, VA_MARKET_LONG, SYMBOL_ID).call() == [va]
    assert predict.call() == va  # the pool's last element comes first

    quote2, va2 = instant_open(env)  # the pooled VA is reused, no new virtual nonce
    assert (quote2, va2) == (quote_id + 1, va)
    assert al.functions.getSubAccountVirtualNonce(sub).call() == 1
    assert al.functions.getDeletedVAPool(sub, VA_MARKET_LONG, SYMBOL_ID).call() == []
    # a SHORT key gets its own VA at the next virtual nonce
    short = al.functions.predictNextVirtualAccountAddress(sub, 3, SYMBOL_ID).call()
    assert short == al.functions.computeVirtualAccountAddress(sub, 2).call()


def test_collateral_scaling_6_and_18_decimals():
    c = Chain()
    admin, user = c.accounts[0], c.accounts[1]
    for decimals in (6, 18):
        token = c.deploy("MockERC20", "T", "T", decimals)
        core = c.deploy("SymmioCore", token.address, admin)
        unit = 10**decimals
        c.send(token.functions.mint(user, 50 * unit), user)
        c.send(token.functions.approve(core.address, 50 * unit), user)
        c.send(core.functions.depositFor(user, 50 * unit), user)  # direct: the signer is msg.sender
        assert core.functions.balanceOf(user).call() == 50 * E18
        c.send(core.functions.withdrawTo(user, 20 * E18), user)
        assert token.functions.balanceOf(user).call() == 20 * unit
        assert core.functions.balanceOf(user).call() == 30 * E18
        assert token.functions.decimals().call() == decimals
