// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VirtualAccountDetail} from "./SymmioTypes.sol";

/// The part of the mock AccountLayer that SymmioCore and InstantLayer call.
interface IAccountLayer {
    function ownerOf(address account) external view returns (address);

    function getVirtualAccount(address account) external view returns (VirtualAccountDetail memory);

    function setSigner(address signer) external;

    function _call(address account, bytes[] calldata calls) external returns (bytes[] memory);
}
