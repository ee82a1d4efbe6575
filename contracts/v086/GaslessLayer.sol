// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/security/ReentrancyGuard.sol";
import {InstantLayer} from "../InstantLayer.sol";

/// @title GaslessLayer (a minimal mock of the v0.8.6 GaslessLayer's InstantLayer relay)
/// @notice Only what a frontend's v0.8.6 flow meets (shared/spec/real-world.md §1, §2.5, §2.9):
///         a relayer (RELAYER_ROLE) submits owner-signed operations (grant operations, or any
///         InstantLayer operation) with `relayWalletBatch`, which hands them to the InstantLayer's
///         `executeBatch` (this contract holds its OPERATOR_ROLE) and then charges each operation
///         `defaultSelectorFee` (18 decimals) to its signerAccount. A fee-limit salt
///         (ReplayAttackHeader.salt whose bytes 0..8 are bytes8(keccak("SYMMIO_GASLESS_FEE_LIMIT_V1")),
///         bytes 8..24 a uint128 maximum fee, bytes 24..32 the caller's salt) caps that fee: above
///         it the whole relay reverts FeeLimitExceeded(fee, maxFee). Any other salt is uncapped.
/// @dev    Left out (the real GaslessLayer has them; no flow step of the harness needs them):
///         gasless wallets (walletIds other than 0 revert WalletOperationsNotSupported), deposit
///         settlement, native gas top-ups, templates, per-selector fees, daily free quotas,
///         VA->parent billing, and moving collateral: the fee is recorded (`feesCharged`, event
///         OperationalFeeCharged), not transferred.
contract GaslessLayer is AccessControl, ReentrancyGuard {
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    bytes8 public constant FEE_LIMIT_SALT_TAG = bytes8(keccak256("SYMMIO_GASLESS_FEE_LIMIT_V1"));

    InstantLayer public immutable instantLayer;
    uint256 public defaultSelectorFee;
    mapping(address => uint256) public feesCharged;

    error ArrayLengthMismatch();
    error EmptyOperationBatch();
    error FeeLimitExceeded(uint256 fee, uint256 maxFee);
    error WalletOperationsNotSupported(uint256 index);

    event DefaultSelectorFeeUpdated(uint256 amount);
    event InstantBatchRelayed(address indexed relayer, uint256 operationCount, uint256 totalFee);
    event OperationalFeeCharged(address indexed payer, bytes4 selector, uint256 fee);

    constructor(address instantLayer_, address admin) {
        instantLayer = InstantLayer(instantLayer_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RELAYER_ROLE, admin);
    }

    function setDefaultSelectorFee(uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        defaultSelectorFee = amount;
        emit DefaultSelectorFeeUpdated(amount);
    }

    /// Relay owner-signed InstantLayer operations; every walletId must be 0 (no wallet operations).
    function relayWalletBatch(
        InstantLayer.SignedOperation[] calldata signedOps,
        bytes[] calldata signatures,
        bytes[][] calldata fills,
        bytes[][] calldata flexFillerSignatures,
        uint256[] calldata walletIds
    ) external onlyRole(RELAYER_ROLE) nonReentrant returns (bytes[] memory results) {
        if (walletIds.length != signedOps.length) revert ArrayLengthMismatch();
        if (signedOps.length == 0) revert EmptyOperationBatch();
        if (signedOps.length != signatures.length) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < walletIds.length; i++) {
            if (walletIds[i] != 0) revert WalletOperationsNotSupported(i);
        }
        results = instantLayer.executeBatch(signedOps, signatures, fills, flexFillerSignatures);
        uint256 fee = defaultSelectorFee;
        uint256 total = 0;
        for (uint256 i = 0; i < signedOps.length; i++) {
            InstantLayer.SignedOperation calldata op = signedOps[i];
            (bool capped, uint256 maxFee) = feeLimitOf(op.replayAttackHeader.salt);
            if (capped && fee > maxFee) revert FeeLimitExceeded(fee, maxFee);
            feesCharged[op.signerAccount.addr] += fee;
            total += fee;
            emit OperationalFeeCharged(op.signerAccount.addr, bytes4(op.callData[:4]), fee);
        }
        emit InstantBatchRelayed(msg.sender, signedOps.length, total);
    }

    /// Whether `salt` is a fee-limit salt, and the maximum fee it allows.
    function feeLimitOf(bytes32 salt) public pure returns (bool capped, uint256 maxFee) {
        if (bytes8(salt) != FEE_LIMIT_SALT_TAG) return (false, 0);
        return (true, uint256(uint128(uint256(salt) >> 64)));
    }
}
