// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// A PartyB contract as the InstantLayer routes to it.
interface IPartyB {
    function _call(bytes[] calldata calls) external returns (bytes[] memory);
}
