// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {InstantLayer} from "../InstantLayer.sol";

/// The v0.8.6 AccountLayer's scoped signer session (AccountLayerV086).
interface IAccountLayerScoped {
    function setTransientSignerScoped(address signer, address scope) external;
}

/// @title InstantLayerV086 (mock of the Symmio v0.8.6 InstantLayer, Arbitrum's generation)
/// @notice The v0.8.5 mock with what v0.8.6 changes (shared/spec/real-world.md §2, whose outcomes
///         were recorded by running the real InstantLayer at commit 8138803 on py-evm); everything else is
///         inherited unchanged (SignedOperation, domain, verification order, templates, deadline 0
///         = no deadline, the revocation rules: cooldown 600 s by default, 300..2,592,000 s, a
///         delegation inactive once its eta passes without finalize, a new grant cancelling a
///         pending revocation).
///
///         Grant operations (§2.5): an owner-signed SignedOperation whose target is this contract
///         and whose callData is grantDelegation(info) or grantDelegations(infos), relayed by an
///         operator (the GaslessLayer). Verified after the deadline and length checks, in order:
///         - another selector, a flex field, or maxUses != 1: InvalidGrantOperation(), raised
///           directly (never wrapped in OperationFailed);
///         - a PartyB signerAccount, or a signer that is not the account's owner (e.g. the session
///           key itself): InvalidDelegation();
///         - each DelegationInfo: account.addr != signerAccount.addr (exact address), a PartyB
///           account, an empty selector list, and (grantDelegations) an empty list:
///           InvalidDelegation(); delegate == owner: SelfDelegation(); expiry <= now:
///           DelegationExpired(expiry);
///         - then the signature, the use count (a replay: MaxUsesExceeded) and the optional nonce.
///         The grants are applied in the execution step, on the account the operation names.
///
///         Scope (§2.6): a PartyA operation on the core or the AccountLayer runs with the AccountLayer
///         signer session scoped to the canonical account of signerAccount when a delegate signed it
///         (unscoped for the owner), so a delegate reaching another account through the AccountLayer
///         fails there with AccountOutOfScope, wrapped in OperationFailed. A delegate signing for an
///         account it holds no delegation on is refused here with InvalidDelegation (inherited).
contract InstantLayerV086 is InstantLayer {
    error InvalidGrantOperation();

    constructor(address symmio_, address admin) InstantLayer(symmio_, admin) {}

    /// Several grants on one account, by its owner. The v0.8.6 docs
    /// (docs/v0.8.6/pages/instant-layer-batch-delegation-grant.html), IInstantLayer.sol, the SDK's
    /// relay and perps-core's migration rehearsal describe it, but the newest readable InstantLayer
    /// source (commit 8138803) has no such function and refuses it as a self-target
    /// (InvalidGrantOperation). Modelled here from the docs, since the deployed layer relays it:
    /// the same checks as grantDelegation for each entry, all on one account; an empty list or an
    /// entry for another account is InvalidDelegation.
    function grantDelegations(DelegationInfo[] calldata infos) external {
        if (infos.length == 0) revert InvalidDelegation();
        address account = infos[0].account.addr;
        if (_ownerOf(account) != msg.sender) revert NotOwnerOfAccount(msg.sender, account);
        for (uint256 i = 0; i < infos.length; i++) {
            if (infos[i].account.addr != account) revert InvalidDelegation();
            _checkGrant(infos[i], msg.sender);
        }
        address delegator = _canonicalDelegator(account);
        for (uint256 i = 0; i < infos.length; i++) {
            _grant(delegator, infos[i].delegatedSigner, infos[i].selectors, infos[i].expiryTimestamp);
        }
    }

    // ================================================================ grant operations
    function _verifyOperation(SignedOperation calldata op, bytes calldata signature)
        internal
        override
        returns (bytes32 hash)
    {
        if (op.target != address(this)) return super._verifyOperation(op, signature);
        ReplayAttackHeader calldata header = op.replayAttackHeader;
        if (header.deadline != 0 && header.deadline < block.timestamp) revert DeadlineExpired(header.deadline);
        if (op.callData.length < 4) revert CallDataLengthMismatch();
        bytes4 selector = bytes4(op.callData[:4]);
        bool grant = selector == this.grantDelegation.selector || selector == this.grantDelegations.selector;
        if (!grant || op.flexFields.length != 0 || op.maxUses != 1) revert InvalidGrantOperation();

        address account = op.signerAccount.addr;
        if (op.signerAccount.isPartyB) revert InvalidDelegation();
        if (_ownerOf(account) != op.signer) revert InvalidDelegation();
        DelegationInfo[] memory infos = _grantInfos(op.callData);
        if (infos.length == 0) revert InvalidDelegation();
        for (uint256 i = 0; i < infos.length; i++) {
            if (infos[i].account.addr != account) revert InvalidDelegation();
            _checkGrant(infos[i], op.signer);
        }

        hash = getOperationHash(op);
        if (op.signer != msg.sender && !SignatureChecker.isValidSignatureNow(op.signer, hash, signature)) revert InvalidSignature();
        uint256 used = operationUsageCount[hash];
        if (used >= op.maxUses) revert MaxUsesExceeded(hash, op.maxUses);
        operationUsageCount[hash] = used + 1;
        if (header.nonce != 0) {
            uint256 expected = nonces[account] + 1;
            if (header.nonce != expected) revert InvalidNonce(account, expected, header.nonce);
            nonces[account] = expected;
            emit NonceIncremented(account, expected);
        }
    }

    function _execute(uint256 index, SignedOperation calldata op, bytes memory callData)
        internal
        override
        returns (bytes memory result)
    {
        if (op.target != address(this)) return super._execute(index, op, callData);
        DelegationInfo[] memory infos = _grantInfos(op.callData);
        address delegator = _canonicalDelegator(op.signerAccount.addr);
        for (uint256 i = 0; i < infos.length; i++) {
            _grant(delegator, infos[i].delegatedSigner, infos[i].selectors, infos[i].expiryTimestamp);
        }
        return result;
    }

    /// The DelegationInfo list of a grantDelegation / grantDelegations callData.
    function _grantInfos(bytes calldata callData) internal pure returns (DelegationInfo[] memory infos) {
        if (bytes4(callData[:4]) == this.grantDelegations.selector) {
            return abi.decode(callData[4:], (DelegationInfo[]));
        }
        infos = new DelegationInfo[](1);
        infos[0] = abi.decode(callData[4:], (DelegationInfo));
    }

    function _checkGrant(DelegationInfo memory info, address owner) internal view {
        if (info.account.isPartyB || info.selectors.length == 0) revert InvalidDelegation();
        if (info.delegatedSigner == owner) revert SelfDelegation();
        if (info.expiryTimestamp <= block.timestamp) revert DelegationExpired(info.expiryTimestamp);
    }

    // ================================================================ scope
    /// The owner's own operation runs unscoped; a delegate's is confined to the canonical account
    /// its delegation was granted on (the one isDelegationActive was checked on).
    function _openSignerSession(address al, SignedOperation calldata op) internal override {
        address owner = _ownerOf(op.signerAccount.addr);
        address scope = op.signer == owner ? address(0) : _canonicalDelegator(op.signerAccount.addr);
        IAccountLayerScoped(al).setTransientSignerScoped(owner, scope);
    }

    function _closeSignerSession(address al) internal override {
        IAccountLayerScoped(al).setTransientSignerScoped(address(0), address(0));
    }
}
