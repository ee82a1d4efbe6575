// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// The part of the mock Symmio core that the AccountLayer and InstantLayer mocks call.
interface ISymmioCore {
    function setSigner(address signer) external;

    function setCallFromInstantLayer(bool value) external;

    function setInstantOpenMode(bool value) external;

    function depositFor(address account, uint256 amount) external;

    function internalTransfer(address user, uint256 amount) external;

    function bindToPartyB(address partyB) external;

    function getBindState(address partyA) external view returns (uint8 status, address partyB, uint256 modifyTimestamp);

    function balanceOf(address account) external view returns (uint256);

    function activeQuoteCount(address account) external view returns (uint256);
}
