// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// A PartyB contract as the InstantLayer routes to it: like the real SymmioPartyB, `_call` returns
/// nothing, so a PartyB operation's result is always empty.
interface IPartyB {
    function _call(bytes[] calldata calls) external;
}
