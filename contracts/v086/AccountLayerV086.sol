// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VirtualAccountDetail} from "../interfaces/SymmioTypes.sol";
import {AccountLayer} from "../AccountLayer.sol";

/// @title AccountLayerV086 (mock of the AccountLayer as v0.8.6 changes it)
/// @notice The v0.8.5 mock plus the scoped signer session (shared/spec/real-world.md §2.6): the
///         InstantLayer installs `setTransientSignerScoped(owner, scope)` before a PartyA operation
///         on the core or the AccountLayer, with `scope` = the canonical account the delegation was
///         granted on for a delegate's operation and address(0) (unscoped) for the owner's own.
///         While scoped, the owner check of every account function also requires the account (a
///         VA counts as its parent) to be the scope, else `AccountOutOfScope(scope, account)`.
///         `setSigner` always opens an unscoped session. The real layer keeps the session in
///         transient storage; this mock keeps it in storage and the InstantLayer clears it after
///         each operation (the observable outcome within a transaction is the same).
contract AccountLayerV086 is AccountLayer {
    error AccountOutOfScope(address scope, address account);

    address internal _signerScope;

    constructor(address admin) AccountLayer(admin) {}

    function setSigner(address signer) external override {
        _checkSignerSetter();
        _globalSigner = signer;
        _signerScope = address(0);
    }

    /// Signer for the following calls, confined to `scope` (address(0): unconfined). Clearing the
    /// signer clears the scope.
    function setTransientSignerScoped(address signer, address scope) external {
        _checkSignerSetter();
        _globalSigner = signer;
        _signerScope = signer == address(0) ? address(0) : scope;
    }

    /// The account family the current signer session is confined to (address(0): none).
    function getSignerScope() external view returns (address) {
        return _signerScope;
    }

    function _checkAccountOwner(address account) internal view override {
        super._checkAccountOwner(account);
        address scope = _signerScope;
        if (scope == address(0)) return;
        VirtualAccountDetail storage va = _vas[account];
        address canonical = va.isExists ? va.parentAccount : account;
        if (canonical != scope) revert AccountOutOfScope(scope, account);
    }
}
