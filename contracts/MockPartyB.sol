// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MockPartyB
/// @notice A PartyB contract for the harness: `_call` runs calls on the Symmio core with
///         msg.sender = this contract, and ERC-1271 `isValidSignature` accepts digests signed by the
///         hedger EOA, so the InstantLayer accepts PartyB operations signed by the hedger.
contract MockPartyB {
    bytes4 private constant ERC1271_MAGIC_VALUE = 0x1626ba7e;
    bytes4 private constant ERC1271_INVALID = 0xffffffff;

    address public immutable symmioCore;
    address public admin;
    address public hedgerSigner;
    address public instantLayer;

    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event HedgerSignerSet(address indexed hedgerSigner);
    event InstantLayerSet(address indexed instantLayer);

    constructor(address hedgerSigner_, address symmioCore_, address admin_) {
        require(symmioCore_ != address(0) && admin_ != address(0), "MockPartyB: zero address");
        hedgerSigner = hedgerSigner_;
        symmioCore = symmioCore_;
        admin = admin_;
        emit AdminTransferred(address(0), admin_);
        emit HedgerSignerSet(hedgerSigner_);
    }

    modifier onlyAdmin() {
        require(msg.sender == admin, "MockPartyB: caller is not admin");
        _;
    }

    modifier onlyHedgerOrAdmin() {
        require(msg.sender == hedgerSigner || msg.sender == admin, "MockPartyB: caller is not hedger or admin");
        _;
    }

    function transferAdmin(address newAdmin) external onlyAdmin {
        require(newAdmin != address(0), "MockPartyB: zero address");
        emit AdminTransferred(admin, newAdmin);
        admin = newAdmin;
    }

    function setHedgerSigner(address hedgerSigner_) external onlyAdmin {
        hedgerSigner = hedgerSigner_;
        emit HedgerSignerSet(hedgerSigner_);
    }

    function setInstantLayer(address instantLayer_) external onlyAdmin {
        instantLayer = instantLayer_;
        emit InstantLayerSet(instantLayer_);
    }

    /// Runs each call on the Symmio core as this PartyB; bubbles the first revert unchanged.
    /// Callable by the InstantLayer, the hedger signer or the admin. Returns nothing, like the real
    /// SymmioPartyB's `_call(bytes[])`: results of PartyB calls never reach the InstantLayer.
    function _call(bytes[] calldata calls) external {
        require(
            (msg.sender == instantLayer && msg.sender != address(0)) || msg.sender == hedgerSigner
                || msg.sender == admin,
            "MockPartyB: caller is not allowed"
        );
        for (uint256 i = 0; i < calls.length; i++) {
            _doCall(symmioCore, calls[i]);
        }
    }

    /// Generic call as this PartyB (e.g. self-executing InstantLayer.executeBatch, which then skips
    /// the signature check because signer == msg.sender). Hedger or admin only.
    function execute(address target, bytes calldata data) external onlyHedgerOrAdmin returns (bytes memory) {
        return _doCall(target, data);
    }

    /// ERC-1271: valid when `signature` is a 65-byte ECDSA signature by the hedger over `hash`
    /// (OpenZeppelin 4.9 rules: high-s rejected, v in {27, 28}).
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered != address(0) && recovered == hedgerSigner) {
            return ERC1271_MAGIC_VALUE;
        }
        return ERC1271_INVALID;
    }

    function _doCall(address target, bytes memory data) internal returns (bytes memory ret) {
        bool ok;
        (ok, ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}
