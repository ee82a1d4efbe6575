// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SingleUpnlSig, SingleUpnlAndPriceSig, PairUpnlAndPriceSig, VirtualAccountDetail} from "./interfaces/SymmioTypes.sol";
import {IAccountLayer} from "./interfaces/IAccountLayer.sol";

/// @title SymmioCore (mock of Symmio core v0.8.5 for symmio-harness)
/// @notice Our own simplified core, written from the interface facts (selectors, enums, the
///         bind / instant-mode / signer rules). It is NOT the real Symmio core: no Muon
///         verification, no PnL settlement, no fees, no liquidations.
/// @dev Conventions
///  - Internal balances are 18-decimal; the ERC20 moves in its native decimals.
///  - When `msg.sender` is the registered AccountLayer, PartyA functions act for the account the
///    AccountLayer set with `setSigner(address)` ("the signer"); otherwise for `msg.sender`.
///  - PartyB functions act for `msg.sender`, which must be a registered PartyB (an EOA or a PartyB
///    contract calling through its `_call`).
///  - Reverts use require strings prefixed "SymmioCore: ", except the Muon ones ("LibMuon: ...").
contract SymmioCore {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- enums (as uint8)
    // BindStatus
    uint8 public constant NOT_BOUND = 0;
    uint8 public constant BOUND = 1;
    uint8 public constant PENDING_UNBIND = 2;
    // PositionType
    uint8 public constant LONG = 0;
    uint8 public constant SHORT = 1;
    // OrderType
    uint8 public constant LIMIT = 0;
    uint8 public constant MARKET = 1;
    // QuoteStatus (Symmio numbering)
    uint8 public constant PENDING = 0;
    uint8 public constant LOCKED = 1;
    uint8 public constant CANCEL_PENDING = 2;
    uint8 public constant CANCELED = 3;
    uint8 public constant OPENED = 4;
    uint8 public constant CLOSE_PENDING = 5;
    uint8 public constant CANCEL_CLOSE_PENDING = 6;
    uint8 public constant CLOSED = 7;
    uint8 public constant LIQUIDATED = 8;
    uint8 public constant EXPIRED = 9;

    /// A non-empty Muon signature older than this is "expired" (only reachable for unbound accounts).
    uint256 public constant MUON_SIGNATURE_VALIDITY = 300;

    // ---------------------------------------------------------------- types
    struct Symbol {
        uint256 symbolId;
        string name;
        uint256 minAcceptableQuoteValue;
        bool isValid;
    }

    struct BindState {
        uint8 status;
        address partyB;
        uint256 modifyTimestamp;
    }

    struct Quote {
        uint256 id;
        address[] partyBsWhiteList;
        uint256 symbolId;
        uint8 positionType;
        uint8 orderType;
        uint256 requestedOpenPrice;
        uint256 openedPrice;
        uint256 quantity; // requested quantity; after openPosition: the filled (position) quantity
        uint256 closedAmount;
        uint256 quantityToClose; // pending close request quantity
        uint256 requestedClosePrice;
        uint8 closeOrderType;
        uint256 closeDeadline;
        uint256 cva; // currently locked values (scaled down on partial fills / closes)
        uint256 lf;
        uint256 partyAmm;
        uint256 partyBmm;
        uint8 quoteStatus;
        address partyA;
        address partyB;
        address affiliate;
        uint256 deadline;
        uint256 createTimestamp;
        uint256 statusModifyTimestamp;
        bytes data;
    }

    // ---------------------------------------------------------------- storage
    address public immutable collateral;
    uint8 public immutable collateralDecimals;
    uint256 private immutable _scale; // 10 ** (18 - decimals)

    address public admin;
    address public accountLayer;
    address public instantLayer;
    address private _signer;
    bool public callFromInstantLayer;
    /// Set by the InstantLayer around a template marked instant-open. The real core then skips
    /// pending-balance bookkeeping for send + lock + open; this mock keeps no pending balances, so
    /// the flag is only stored (and readable).
    bool public instantOpenMode;
    uint256 public unbindCooldown;
    uint256 private _lastQuoteId;

    mapping(uint256 => Symbol) private _symbols;
    mapping(address => bool) public isPartyB;
    mapping(address => uint256) public balanceOf;
    mapping(address => uint256) public lockedBalanceOf;
    mapping(address => uint256) public activeQuoteCount;
    mapping(address => bool) private _instantMode;
    mapping(address => BindState) private _bindStates;
    mapping(uint256 => Quote) private _quotes;
    mapping(address => uint256[]) private _quoteIds;

    // ---------------------------------------------------------------- events
    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event AccountLayerSet(address indexed accountLayer);
    event InstantLayerSet(address indexed instantLayer);
    event SymbolAdded(uint256 indexed symbolId, string name, uint256 minAcceptableQuoteValue);
    event SymbolValiditySet(uint256 indexed symbolId, bool isValid);
    event PartyBRegistered(address indexed partyB, bool registered);
    event UnbindCooldownSet(uint256 cooldown);
    event Deposit(address indexed sender, address indexed user, uint256 amount);
    event Withdraw(address indexed sender, address indexed user, uint256 amount);
    event InternalTransfer(address indexed sender, address indexed user, uint256 amount);
    event InstantModeSet(address indexed account, bool active);
    event BindToPartyB(address indexed partyA, address indexed partyB);
    event RequestToUnbindFromPartyB(address indexed partyA, address indexed partyB);
    event CompleteUnbind(address indexed partyA, address indexed partyB);
    event CancelUnbindRequest(address indexed partyA, address indexed partyB);
    event SendQuote(
        address indexed partyA,
        uint256 indexed quoteId,
        address[] partyBsWhiteList,
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
        bytes data
    );
    event LockQuote(address indexed partyB, uint256 indexed quoteId);
    event OpenPosition(
        uint256 indexed quoteId, address indexed partyA, address indexed partyB, uint256 filledAmount, uint256 openedPrice
    );
    event RequestToClosePosition(
        address indexed partyA,
        address indexed partyB,
        uint256 indexed quoteId,
        uint256 closePrice,
        uint256 quantityToClose,
        uint8 orderType,
        uint256 deadline
    );
    event FillCloseRequest(
        uint256 indexed quoteId,
        address indexed partyA,
        address indexed partyB,
        uint256 filledAmount,
        uint256 closedPrice,
        uint8 quoteStatus
    );

    // ---------------------------------------------------------------- modifiers
    modifier onlyAdmin() {
        require(msg.sender == admin, "SymmioCore: caller is not admin");
        _;
    }

    modifier onlyPartyB() {
        require(isPartyB[msg.sender], "SymmioCore: caller is not a registered PartyB");
        _;
    }

    /// PartyA functions: blocked for an account in instant mode unless routed by the InstantLayer.
    modifier whenInstantModeIsNotActive(address account) {
        require(
            callFromInstantLayer || !isInstantModeActive(account),
            "SymmioCore: instant mode is active; route through the InstantLayer"
        );
        _;
    }

    constructor(address collateral_, address admin_) {
        require(collateral_ != address(0) && admin_ != address(0), "SymmioCore: zero address");
        uint8 dec = IERC20Metadata(collateral_).decimals();
        require(dec <= 18, "SymmioCore: collateral decimals above 18");
        collateral = collateral_;
        collateralDecimals = dec;
        _scale = 10 ** (18 - dec);
        admin = admin_;
        unbindCooldown = 3600;
        emit AdminTransferred(address(0), admin_);
    }

    // ================================================================ admin
    function transferAdmin(address newAdmin) external onlyAdmin {
        require(newAdmin != address(0), "SymmioCore: zero address");
        emit AdminTransferred(admin, newAdmin);
        admin = newAdmin;
    }

    function setAccountLayer(address accountLayer_) external onlyAdmin {
        accountLayer = accountLayer_;
        emit AccountLayerSet(accountLayer_);
    }

    function setInstantLayer(address instantLayer_) external onlyAdmin {
        instantLayer = instantLayer_;
        emit InstantLayerSet(instantLayer_);
    }

    function addSymbol(uint256 symbolId, string calldata name, uint256 minAcceptableQuoteValue) external onlyAdmin {
        require(bytes(name).length > 0, "SymmioCore: empty symbol name");
        require(bytes(_symbols[symbolId].name).length == 0, "SymmioCore: symbol exists");
        _symbols[symbolId] = Symbol(symbolId, name, minAcceptableQuoteValue, true);
        emit SymbolAdded(symbolId, name, minAcceptableQuoteValue);
    }

    function setSymbolValidity(uint256 symbolId, bool isValid) external onlyAdmin {
        require(bytes(_symbols[symbolId].name).length != 0, "SymmioCore: unknown symbol");
        _symbols[symbolId].isValid = isValid;
        emit SymbolValiditySet(symbolId, isValid);
    }

    function setUnbindCooldown(uint256 cooldown) external onlyAdmin {
        unbindCooldown = cooldown;
        emit UnbindCooldownSet(cooldown);
    }

    function registerPartyB(address partyB, bool registered) external onlyAdmin {
        require(partyB != address(0), "SymmioCore: zero address");
        isPartyB[partyB] = registered;
        emit PartyBRegistered(partyB, registered);
    }

    // ================================================================ layer hooks
    /// Called by the AccountLayer before (account) and after (address(0)) each routed call.
    function setSigner(address signer) external {
        require(msg.sender == accountLayer, "SymmioCore: caller is not the AccountLayer");
        _signer = signer;
    }

    /// Called by the InstantLayer: true at the start of a batch or template, false at its end.
    function setCallFromInstantLayer(bool value) external {
        require(msg.sender == instantLayer, "SymmioCore: caller is not the InstantLayer");
        callFromInstantLayer = value;
    }

    /// Called by the InstantLayer around a template whose instant-open mode is set.
    function setInstantOpenMode(bool value) external {
        require(msg.sender == instantLayer, "SymmioCore: caller is not the InstantLayer");
        instantOpenMode = value;
    }

    function getSigner() external view returns (address) {
        return _signer;
    }

    // ================================================================ accounts and funds
    /// Pulls `amount` (native decimals) from the acting signer (the user EOA when routed by the
    /// AccountLayer's depositForAccount; this core must be the ERC20 spender) and credits `account`
    /// with the 18-decimal equivalent.
    function depositFor(address account, uint256 amount) external {
        address from = _sender();
        require(account != address(0), "SymmioCore: zero address");
        IERC20(collateral).safeTransferFrom(from, address(this), amount);
        uint256 amount18 = amount * _scale;
        balanceOf[account] += amount18;
        emit Deposit(from, account, amount18);
    }

    /// Withdraws `amount` (18 decimals, must be a whole number of native units) of the acting
    /// account's free balance to `to` in native decimals.
    function withdrawTo(address to, uint256 amount) external {
        address account = _sender();
        require(to != address(0), "SymmioCore: zero address");
        require(amount % _scale == 0, "SymmioCore: amount has more precision than the collateral");
        require(balanceOf[account] >= amount, "SymmioCore: insufficient free balance");
        balanceOf[account] -= amount;
        IERC20(collateral).safeTransfer(to, amount / _scale);
        emit Withdraw(account, to, amount);
    }

    /// Moves `amount` (18 decimals) of free balance from the acting account to `user`.
    function internalTransfer(address user, uint256 amount) external {
        address account = _sender();
        require(user != address(0) && user != account, "SymmioCore: invalid recipient");
        require(balanceOf[account] >= amount, "SymmioCore: insufficient free balance");
        balanceOf[account] -= amount;
        balanceOf[user] += amount;
        emit InternalTransfer(account, user, amount);
    }

    function activateInstantMode() external {
        address account = _sender();
        _instantMode[account] = true;
        emit InstantModeSet(account, true);
    }

    function deactivateInstantMode() external {
        address account = _sender();
        _instantMode[account] = false;
        emit InstantModeSet(account, false);
    }

    /// True when the account, or the parent sub-account of a virtual account, activated instant mode.
    function isInstantModeActive(address account) public view returns (bool) {
        if (_instantMode[account]) return true;
        address parent = _parentOf(account);
        return parent != address(0) && _instantMode[parent];
    }

    // ================================================================ binding
    function bindToPartyB(address partyB) external whenInstantModeIsNotActive(_sender()) {
        address partyA = _sender();
        require(isPartyB[partyB], "SymmioCore: partyB is not registered");
        BindState storage b = _bindStates[partyA];
        require(b.status == NOT_BOUND, "SymmioCore: already bound");
        b.status = BOUND;
        b.partyB = partyB;
        b.modifyTimestamp = block.timestamp;
        emit BindToPartyB(partyA, partyB);
    }

    function requestToUnbindFromPartyB() external whenInstantModeIsNotActive(_sender()) {
        address partyA = _sender();
        BindState storage b = _bindStates[partyA];
        require(b.status == BOUND, "SymmioCore: not bound");
        b.status = PENDING_UNBIND;
        b.modifyTimestamp = block.timestamp;
        emit RequestToUnbindFromPartyB(partyA, b.partyB);
    }

    /// Anyone may complete a pending unbind once `unbindCooldown` has passed.
    function completeUnbindRequest(address partyA) external {
        BindState storage b = _bindStates[partyA];
        require(b.status == PENDING_UNBIND, "SymmioCore: no pending unbind request");
        require(block.timestamp >= b.modifyTimestamp + unbindCooldown, "SymmioCore: unbind cooldown not reached");
        address partyB = b.partyB;
        b.status = NOT_BOUND;
        b.partyB = address(0);
        b.modifyTimestamp = block.timestamp;
        emit CompleteUnbind(partyA, partyB);
    }

    function cancelUnbindRequest() external whenInstantModeIsNotActive(_sender()) {
        address partyA = _sender();
        BindState storage b = _bindStates[partyA];
        require(b.status == PENDING_UNBIND, "SymmioCore: no pending unbind request");
        b.status = BOUND;
        b.modifyTimestamp = block.timestamp;
        emit CancelUnbindRequest(partyA, b.partyB);
    }

    function getBindState(address partyA) external view returns (uint8 status, address partyB, uint256 modifyTimestamp) {
        BindState storage b = _bindStates[partyA];
        return (b.status, b.partyB, b.modifyTimestamp);
    }

    /// The PartyB the account trades against without Muon: its own bind, else its parent's (VA).
    /// BOUND and PENDING_UNBIND both count as bound. address(0) when unbound.
    function effectiveBoundPartyB(address account) public view returns (address) {
        BindState storage b = _bindStates[account];
        if (b.status != NOT_BOUND) return b.partyB;
        address parent = _parentOf(account);
        if (parent == address(0)) return address(0);
        BindState storage pb = _bindStates[parent];
        return pb.status != NOT_BOUND ? pb.partyB : address(0);
    }

    // ================================================================ PartyA
    function sendQuoteWithAffiliateAndData(
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
        bytes calldata data
    ) external whenInstantModeIsNotActive(_sender()) returns (uint256 quoteId) {
        return _sendQuote(
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
    }

    /// The open both generations share (v0.8.6 `sendQuote` adds its SolverFeeCaps on top).
    function _sendQuote(
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
        bytes calldata data
    ) internal returns (uint256 quoteId) {
        address partyA = _sender();
        require(deadline >= block.timestamp, "SymmioCore: low deadline");
        require(positionType <= SHORT, "SymmioCore: invalid positionType");
        require(orderType <= MARKET, "SymmioCore: invalid orderType");
        Symbol storage sym = _symbols[symbolId];
        require(sym.isValid, "SymmioCore: symbol is not valid");
        require(price > 0 && quantity > 0, "SymmioCore: zero price or quantity");
        require((price * quantity) / 1e18 >= sym.minAcceptableQuoteValue, "SymmioCore: quote value is low");
        for (uint256 i = 0; i < partyBsWhiteList.length; i++) {
            require(partyBsWhiteList[i] != partyA, "SymmioCore: partyA cannot be in the partyB whitelist");
        }
        _checkSendQuoteSig(partyA, partyBsWhiteList, upnlSig);

        uint256 toLock = cva + lf + partyAmm;
        require(balanceOf[partyA] >= toLock, "SymmioCore: insufficient free balance to lock");
        balanceOf[partyA] -= toLock;
        lockedBalanceOf[partyA] += toLock;

        quoteId = ++_lastQuoteId;
        Quote storage q = _quotes[quoteId];
        q.id = quoteId;
        q.partyBsWhiteList = partyBsWhiteList;
        q.symbolId = symbolId;
        q.positionType = positionType;
        q.orderType = orderType;
        q.requestedOpenPrice = price;
        q.quantity = quantity;
        q.cva = cva;
        q.lf = lf;
        q.partyAmm = partyAmm;
        q.partyBmm = partyBmm;
        q.quoteStatus = PENDING;
        q.partyA = partyA;
        q.affiliate = affiliate;
        q.deadline = deadline;
        q.createTimestamp = block.timestamp;
        q.statusModifyTimestamp = block.timestamp;
        q.data = data;
        _quoteIds[partyA].push(quoteId);
        activeQuoteCount[partyA] += 1;

        emit SendQuote(
            partyA,
            quoteId,
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
            data
        );
    }

    function requestToClosePosition(
        uint256 quoteId,
        uint256 closePrice,
        uint256 quantityToClose,
        uint8 orderType,
        uint256 deadline
    ) external whenInstantModeIsNotActive(_sender()) {
        address partyA = _sender();
        Quote storage q = _quotes[quoteId];
        require(q.id != 0, "SymmioCore: unknown quote");
        require(q.partyA == partyA, "SymmioCore: caller is not the quote's partyA");
        require(q.quoteStatus == OPENED, "SymmioCore: invalid quote state");
        require(deadline >= block.timestamp, "SymmioCore: low deadline");
        require(orderType <= MARKET, "SymmioCore: invalid orderType");
        require(closePrice > 0, "SymmioCore: zero close price");
        require(
            quantityToClose > 0 && quantityToClose <= q.quantity - q.closedAmount,
            "SymmioCore: invalid quantityToClose"
        );
        q.quantityToClose = quantityToClose;
        q.requestedClosePrice = closePrice;
        q.closeOrderType = orderType;
        q.closeDeadline = deadline;
        q.quoteStatus = CLOSE_PENDING;
        q.statusModifyTimestamp = block.timestamp;
        emit RequestToClosePosition(partyA, q.partyB, quoteId, closePrice, quantityToClose, orderType, deadline);
    }

    // ================================================================ PartyB
    function lockQuote(uint256 quoteId, SingleUpnlSig calldata upnlSig) external onlyPartyB {
        Quote storage q = _quotes[quoteId];
        require(q.id != 0, "SymmioCore: unknown quote");
        require(q.quoteStatus == PENDING, "SymmioCore: invalid quote state");
        require(block.timestamp <= q.deadline, "SymmioCore: quote is expired");
        require(_inWhitelist(q.partyBsWhiteList, msg.sender), "SymmioCore: sender is not whitelisted");
        _checkPartyBSig(q.partyA, msg.sender, _isEmpty4(upnlSig), upnlSig.timestamp);
        q.partyB = msg.sender;
        q.quoteStatus = LOCKED;
        q.statusModifyTimestamp = block.timestamp;
        emit LockQuote(msg.sender, quoteId);
    }

    function openPosition(
        uint256 quoteId,
        uint256 filledAmount,
        uint256 openedPrice,
        PairUpnlAndPriceSig calldata upnlSig
    ) external onlyPartyB {
        Quote storage q = _quotes[quoteId];
        require(q.id != 0, "SymmioCore: unknown quote");
        require(q.quoteStatus == LOCKED, "SymmioCore: invalid quote state");
        require(q.partyB == msg.sender, "SymmioCore: sender is not the quote's partyB");
        require(block.timestamp <= q.deadline, "SymmioCore: quote is expired");
        require(filledAmount > 0 && filledAmount <= q.quantity, "SymmioCore: invalid filledAmount");
        require(q.orderType == LIMIT || filledAmount == q.quantity, "SymmioCore: market orders must be fully filled");
        if (q.positionType == LONG) {
            require(openedPrice <= q.requestedOpenPrice, "SymmioCore: opened price is above the requested price");
        } else {
            require(openedPrice >= q.requestedOpenPrice, "SymmioCore: opened price is below the requested price");
        }
        _checkPartyBSig(q.partyA, msg.sender, _isEmptyPair(upnlSig), upnlSig.timestamp);

        if (filledAmount < q.quantity) {
            // Partial LIMIT fill: the mock keeps only the filled part and unlocks the rest
            // (the real core would re-quote the remainder).
            _release(q, q.quantity - filledAmount, q.quantity);
            q.partyBmm = (q.partyBmm * filledAmount) / q.quantity;
            q.quantity = filledAmount;
        }
        q.openedPrice = openedPrice;
        q.quoteStatus = OPENED;
        q.statusModifyTimestamp = block.timestamp;
        emit OpenPosition(quoteId, q.partyA, msg.sender, filledAmount, openedPrice);
    }

    /// PartyB fill of a pending close request (full or partial for LIMIT; full for MARKET).
    function fillCloseRequest(
        uint256 quoteId,
        uint256 filledAmount,
        uint256 closedPrice,
        PairUpnlAndPriceSig calldata upnlSig
    ) external onlyPartyB {
        Quote storage q = _quotes[quoteId];
        require(q.id != 0, "SymmioCore: unknown quote");
        require(q.quoteStatus == CLOSE_PENDING, "SymmioCore: invalid quote state");
        require(q.partyB == msg.sender, "SymmioCore: sender is not the quote's partyB");
        require(block.timestamp <= q.closeDeadline, "SymmioCore: close request is expired");
        require(filledAmount > 0 && filledAmount <= q.quantityToClose, "SymmioCore: invalid filledAmount");
        require(
            q.closeOrderType == LIMIT || filledAmount == q.quantityToClose,
            "SymmioCore: market close must be fully filled"
        );
        if (q.positionType == LONG) {
            require(closedPrice >= q.requestedClosePrice, "SymmioCore: closed price is below the requested price");
        } else {
            require(closedPrice <= q.requestedClosePrice, "SymmioCore: closed price is above the requested price");
        }
        _checkPartyBSig(q.partyA, msg.sender, _isEmptyPair(upnlSig), upnlSig.timestamp);

        uint256 openQuantity = q.quantity - q.closedAmount;
        uint256 partyBmmRelease = (q.partyBmm * filledAmount) / openQuantity;
        _release(q, filledAmount, openQuantity);
        q.partyBmm -= partyBmmRelease;
        q.closedAmount += filledAmount;
        q.quantityToClose -= filledAmount;
        if (q.closedAmount == q.quantity) {
            q.quoteStatus = CLOSED;
            activeQuoteCount[q.partyA] -= 1;
        } else if (q.quantityToClose == 0) {
            q.quoteStatus = OPENED;
        }
        q.statusModifyTimestamp = block.timestamp;
        emit FillCloseRequest(quoteId, q.partyA, msg.sender, filledAmount, closedPrice, q.quoteStatus);
    }

    // ================================================================ views
    function getNextQuoteId() external view returns (uint256) {
        return _lastQuoteId + 1;
    }

    function getQuote(uint256 quoteId) external view returns (Quote memory) {
        return _quotes[quoteId];
    }

    function getQuoteIds(address partyA) external view returns (uint256[] memory) {
        return _quoteIds[partyA];
    }

    function getSymbol(uint256 symbolId) external view returns (Symbol memory) {
        return _symbols[symbolId];
    }

    // ================================================================ internals
    function _sender() internal view returns (address) {
        if (msg.sender == accountLayer && msg.sender != address(0)) {
            address s = _signer;
            require(s != address(0), "SymmioCore: AccountLayer signer is not set");
            return s;
        }
        return msg.sender;
    }

    function _parentOf(address account) internal view returns (address) {
        address al = accountLayer;
        if (al == address(0)) return address(0);
        VirtualAccountDetail memory va = IAccountLayer(al).getVirtualAccount(account);
        return va.isExists ? va.parentAccount : address(0);
    }

    function _inWhitelist(address[] storage list, address who) internal view returns (bool) {
        if (list.length == 0) return true;
        for (uint256 i = 0; i < list.length; i++) {
            if (list[i] == who) return true;
        }
        return false;
    }

    function _release(Quote storage q, uint256 part, uint256 whole) internal {
        uint256 cvaR = (q.cva * part) / whole;
        uint256 lfR = (q.lf * part) / whole;
        uint256 ammR = (q.partyAmm * part) / whole;
        q.cva -= cvaR;
        q.lf -= lfR;
        q.partyAmm -= ammR;
        uint256 total = cvaR + lfR + ammR;
        lockedBalanceOf[q.partyA] -= total;
        balanceOf[q.partyA] += total;
    }

    /// sendQuote: Muon is skipped when the acting account (or its parent) is bound to a PartyB
    /// listed in the whitelist; otherwise an empty sentinel is an expired Muon signature.
    function _checkSendQuoteSig(
        address partyA,
        address[] calldata whitelist,
        SingleUpnlAndPriceSig calldata sig
    ) internal view {
        address bound = effectiveBoundPartyB(partyA);
        if (bound != address(0)) {
            for (uint256 i = 0; i < whitelist.length; i++) {
                if (whitelist[i] == bound) return;
            }
        }
        _muonFallback(_isEmpty5(sig), sig.timestamp);
    }

    /// PartyB paths: Muon is skipped when the quote's partyA (or its parent) is bound to this PartyB.
    function _checkPartyBSig(address partyA, address partyB, bool empty, uint256 timestamp) internal view {
        if (effectiveBoundPartyB(partyA) == partyB) return;
        _muonFallback(empty, timestamp);
    }

    function _muonFallback(bool empty, uint256 timestamp) internal view {
        if (empty || timestamp + MUON_SIGNATURE_VALIDITY < block.timestamp) {
            revert("LibMuon: Expired signature");
        }
        revert("LibMuon: Muon signatures are not verified by this mock; bind the account to the PartyB");
    }

    function _allZero(bytes calldata b) internal pure returns (bool) {
        for (uint256 i = 0; i < b.length; i++) {
            if (b[i] != 0) return false;
        }
        return true;
    }

    /// "Empty" = every field zero; byte fields may be empty or all-zero (e.g. a 32-byte zero reqId).
    function _isEmpty5(SingleUpnlAndPriceSig calldata s) internal pure returns (bool) {
        return _allZero(s.reqId) && s.timestamp == 0 && s.upnl == 0 && s.price == 0 && _allZero(s.gatewaySignature)
            && s.sigs.signature == 0 && s.sigs.owner == address(0) && s.sigs.nonce == address(0);
    }

    function _isEmpty4(SingleUpnlSig calldata s) internal pure returns (bool) {
        return _allZero(s.reqId) && s.timestamp == 0 && s.upnl == 0 && _allZero(s.gatewaySignature)
            && s.sigs.signature == 0 && s.sigs.owner == address(0) && s.sigs.nonce == address(0);
    }

    function _isEmptyPair(PairUpnlAndPriceSig calldata s) internal pure returns (bool) {
        return _allZero(s.reqId) && s.timestamp == 0 && s.upnlPartyA == 0 && s.upnlPartyB == 0 && s.price == 0
            && _allZero(s.gatewaySignature) && s.sigs.signature == 0 && s.sigs.owner == address(0)
            && s.sigs.nonce == address(0);
    }
}
