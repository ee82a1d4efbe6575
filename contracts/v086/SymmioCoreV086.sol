// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SingleUpnlAndPriceSig} from "../interfaces/SymmioTypes.sol";
import {SymmioCore} from "../SymmioCore.sol";

/// @title SymmioCoreV086 (mock of the Symmio core as v0.8.6 changes it)
/// @notice The v0.8.5 mock core plus the capped open (shared/spec/real-world.md §2.1):
///         `sendQuote(..., SolverFeeCaps)` (0x0ac30baf) stores the quote's caps; the legacy
///         `sendQuoteWithAffiliateAndData` (0xa7f3b34b), which a v0.8.6 diamond still has, stores
///         zero caps. No function changes a quote's caps afterwards, so the close cap is
///         immutable after the open. The caps are 18-decimal ratios; this mock stores them and
///         charges nothing (no fees anywhere in the mock core). `getQuoteSolverFeeCaps` is
///         this mock's reader (not a claim about the real core's view).
contract SymmioCoreV086 is SymmioCore {
    struct SolverFeeCaps {
        uint256 openRateCap;
        uint256 closeRateCap;
    }

    mapping(uint256 => SolverFeeCaps) private _solverFeeCaps;

    event SolverFeeCapsSet(uint256 indexed quoteId, uint256 openRateCap, uint256 closeRateCap);

    constructor(address collateral_, address admin_) SymmioCore(collateral_, admin_) {}

    function sendQuote(
        address[] calldata partyBsWhiteList,
        uint256 symbolId,
        uint8 positionType,
        uint8 orderType,
        uint256 price,
        uint256 quantity,
        uint256 cva,
        uint256 lf,
        uint256 partyAmm,
        uint256 partyBmm,
        uint256 deadline,
        address affiliate,
        SingleUpnlAndPriceSig calldata upnlSig,
        bytes calldata data,
        SolverFeeCaps calldata solverFeeCaps
    ) external whenInstantModeIsNotActive(_sender()) returns (uint256 quoteId) {
        quoteId = _sendQuote(
            partyBsWhiteList,
            symbolId,
            positionType,
            orderType,
            price,
            quantity,
            cva,
            lf,
            partyAmm,
            partyBmm,
            deadline,
            affiliate,
            upnlSig,
            data
        );
        _solverFeeCaps[quoteId] = solverFeeCaps;
        emit SolverFeeCapsSet(quoteId, solverFeeCaps.openRateCap, solverFeeCaps.closeRateCap);
    }

    /// The caps stored with the quote: zero for a quote sent with the legacy open (or unknown).
    function getQuoteSolverFeeCaps(uint256 quoteId) external view returns (SolverFeeCaps memory) {
        return _solverFeeCaps[quoteId];
    }
}
