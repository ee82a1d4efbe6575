// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Shared types for the symmio-harness mocks. Written from the public interface facts in
// shared/spec/contracts-and-services.md (field order and ABI types only); not Symmio code.

/// Muon Schnorr signature part: (signature, owner, nonce).
struct SchnorrSign {
    uint256 signature;
    address owner;
    address nonce;
}

/// SIG4 = (bytes,uint256,int256,bytes,(uint256,address,address))
struct SingleUpnlSig {
    bytes reqId;
    uint256 timestamp;
    int256 upnl;
    bytes gatewaySignature;
    SchnorrSign sigs;
}

/// SIG5 = (bytes,uint256,int256,uint256,bytes,(uint256,address,address))
struct SingleUpnlAndPriceSig {
    bytes reqId;
    uint256 timestamp;
    int256 upnl;
    uint256 price;
    bytes gatewaySignature;
    SchnorrSign sigs;
}

/// openPosition / fillCloseRequest signature: (bytes,uint256,int256,int256,uint256,bytes,(uint256,address,address))
struct PairUpnlAndPriceSig {
    bytes reqId;
    uint256 timestamp;
    int256 upnlPartyA;
    int256 upnlPartyB;
    uint256 price;
    bytes gatewaySignature;
    SchnorrSign sigs;
}

/// AccountLayer view shape of a virtual account (getVirtualAccount).
struct VirtualAccountDetail {
    address accountAddress;
    address parentAccount;
    uint256 symbolId;
    bool isExists;
    bytes metadata;
    uint8 isolationType;
}
