// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SingleUpnlSig, VirtualAccountDetail} from "./interfaces/SymmioTypes.sol";
import {ISymmioCore} from "./interfaces/ISymmioCore.sol";

/// @title AccountLayer (mock of the Symmio v0.8.5 AccountLayer diamond, as one contract)
/// @notice Our own code, written from the interface facts: selectors, enums, the sub-account and
///         virtual-account (VA) address formulas, VA prediction order, `_call` routing, the
///         isolation table of `addMarginToNextVA`, and the signer owner check.
/// @dev Owner check: the acting signer is `globalSigner` when set (by the InstantLayer through
///      `setSigner`, with the account OWNER as signer), else `msg.sender`. `onlyAccountOwner(account)`
///      passes when that signer owns the account (or the parent of a VA) or holds INSTANT_LAYER_ROLE.
///      As in this generation of the real contracts there is no per-delegation scope: an operation
///      a delegate drives acts with the owner's authority on every account of that owner
///      (v0.8.6 adds `setSignerScoped` and `AccountOutOfScope`).
///      Virtual nonces are per parent sub-account; the sub-account nonce is global.
contract AccountLayer is AccessControl {
    // ---------------------------------------------------------------- roles
    bytes32 public constant INSTANT_LAYER_ROLE = keccak256("INSTANT_LAYER_ROLE");
    bytes32 public constant SIGNER_SETTER_ROLE = keccak256("SIGNER_SETTER_ROLE");

    // ---------------------------------------------------------------- enums (as uint8)
    // SubAccountIsolationType
    uint8 public constant SUB_POSITION = 0;
    uint8 public constant SUB_MARKET = 1;
    uint8 public constant SUB_MARKET_DIRECTION = 2;
    uint8 public constant SUB_CUSTOM = 3;
    // VirtualAccountIsolationType
    uint8 public constant VA_POSITION = 0;
    uint8 public constant VA_MARKET = 1;
    uint8 public constant VA_MARKET_LONG = 2;
    uint8 public constant VA_MARKET_SHORT = 3;

    bytes32 private constant ACC_SALT = keccak256("ACC_V1");
    bytes32 private constant VACC_SALT = keccak256("VACC_V1");

    // sendQuote family on the core (symbolId is argument 1, positionType argument 2 in all three)
    bytes4 private constant SEL_SEND_QUOTE_WITH_AFFILIATE_AND_DATA = 0xa7f3b34b;
    bytes4 private constant SEL_SEND_QUOTE_WITH_AFFILIATE = 0x40f1310c; // 8 uint256 (with maxFundingRate)
    bytes4 private constant SEL_SEND_QUOTE_V086 = 0x0ac30baf; // v0.8.6 sendQuote(..., SolverFeeCaps)

    // Core admin selectors that `_call` refuses with Unauthorized() (canonical signatures chosen here):
    bytes4 private constant SEL_REGISTER_AFFILIATE = 0x1b00137a; // registerAffiliate(address)
    bytes4 private constant SEL_DEREGISTER_AFFILIATE = 0x08e63001; // deregisterAffiliate(address)
    bytes4 private constant SEL_SET_AFFILIATE_METADATA = 0x539bf793; // setAffiliateMetadata(address,bytes)
    bytes4 private constant SEL_SET_FEE_COLLECTOR = 0x29149799; // setFeeCollector(address,address)
    bytes4 private constant SEL_SET_AFFILIATE_FEE = 0xfa421f9c; // setAffiliateFee(address,uint256,uint256)
    bytes4 private constant SEL_SET_CUSTOM_AFFILIATE_FEE = 0x1c66377a; // setCustomAffiliateFee(address,uint256,uint256)
    bytes4 private constant SEL_SET_SIGNER = 0x6c19e783; // setSigner(address)
    bytes4 private constant SEL_INTERNAL_TRANSFER_TO_BALANCE = 0xfad846e3; // internalTransferToBalance(address,uint256)

    // ---------------------------------------------------------------- types
    struct SubAccountCreation {
        string name;
        bytes metadata;
        address symmioCore;
        uint8 isolationType;
        bool singleVAMode;
    }

    struct SubAccountDetail {
        address accountAddress;
        address owner;
        string name;
        bool isExists;
        bool singleVAMode;
        address affiliate;
        address symmioCore;
        bytes metadata;
        uint8 isolationType;
    }

    // ---------------------------------------------------------------- errors
    error NotOwner();
    error InvalidIsolationType();
    error Unauthorized();
    error AccountDoesNotExist();
    error NotVirtualAccount();
    error InvalidCallData();
    error ZeroAmount();
    error EmptyArray();
    error SymmioCoreNotAllowed();
    error SingleVAModeNotApplicable();
    error SymbolNotAllowedForThisAccount();
    error PositionTypeNotAllowedForThisAccount();
    error OpenPositionsExist();

    // ---------------------------------------------------------------- events
    event SymmioCoreAllowed(address indexed symmioCore, bool allowed);
    event SubAccountCreated(
        address indexed owner,
        address indexed account,
        address indexed affiliate,
        string name,
        address symmioCore,
        uint8 isolationType,
        bool singleVAMode
    );
    event VirtualAccountCreated(
        address indexed virtualAccount, address indexed parent, uint256 symbolId, uint8 isolationType, bool reused
    );
    event VirtualAccountDeleted(address indexed virtualAccount, address indexed parent);
    event AddMargin(address indexed virtualAccount, address indexed subAccount, uint256 amount);
    event RemoveMargin(address indexed virtualAccount, address indexed subAccount, uint256 amount);
    event DepositForAccount(address indexed account, address indexed depositor, uint256 amount);

    // ---------------------------------------------------------------- storage
    uint256 public globalNonce;
    address internal _globalSigner;

    mapping(address => bool) public isSymmioCoreAllowed;
    mapping(address => SubAccountDetail) private _subs;
    mapping(address => VirtualAccountDetail) internal _vas;
    mapping(address => address[]) private _userSubs;
    mapping(address => address[]) private _subVAs;
    mapping(address => uint256) private _virtualNonce;
    mapping(bytes32 => address) private _activeVA;
    mapping(bytes32 => address[]) private _deletedVAs;

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    modifier onlyAccountOwner(address account) {
        _checkAccountOwner(account);
        _;
    }

    // ================================================================ admin
    function setSymmioCoreAllowed(address symmioCore, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        isSymmioCoreAllowed[symmioCore] = allowed;
        emit SymmioCoreAllowed(symmioCore, allowed);
    }

    /// Session signer for the following calls (InstantLayer sets it before and clears it after).
    function setSigner(address signer) external virtual {
        _checkSignerSetter();
        _globalSigner = signer;
    }

    // ================================================================ accounts
    function createSubAccounts(
        address affiliate,
        SubAccountCreation[] calldata creations
    ) external returns (address[] memory accounts) {
        if (creations.length == 0) revert EmptyArray();
        address user = _signer();
        accounts = new address[](creations.length);
        for (uint256 i = 0; i < creations.length; i++) {
            SubAccountCreation calldata c = creations[i];
            if (c.isolationType > SUB_CUSTOM) revert InvalidIsolationType();
            if (c.singleVAMode && (c.isolationType == SUB_POSITION || c.isolationType == SUB_CUSTOM)) {
                revert SingleVAModeNotApplicable();
            }
            if (!isSymmioCoreAllowed[c.symmioCore]) revert SymmioCoreNotAllowed();
            uint256 nonce = ++globalNonce;
            address account = computeSubAccountAddress(affiliate, user, nonce);
            SubAccountDetail storage s = _subs[account];
            s.accountAddress = account;
            s.owner = user;
            s.name = c.name;
            s.isExists = true;
            s.singleVAMode = c.singleVAMode;
            s.affiliate = affiliate;
            s.symmioCore = c.symmioCore;
            s.metadata = c.metadata;
            s.isolationType = c.isolationType;
            _userSubs[user].push(account);
            accounts[i] = account;
            emit SubAccountCreated(user, account, affiliate, c.name, c.symmioCore, c.isolationType, c.singleVAMode);
        }
    }

    /// Deposits `amount` (collateral native decimals) for `account`: the core pulls the ERC20 from
    /// the acting signer (the owner EOA), so the owner must have approved the SYMMIO CORE.
    function depositForAccount(address account, uint256 amount) external onlyAccountOwner(account) {
        _deposit(account, amount);
    }

    /// Same as depositForAccount in this mock (the mock core has no separate allocated balance).
    function depositAndAllocateForAccount(address account, uint256 amount) external onlyAccountOwner(account) {
        _deposit(account, amount);
    }

    /// Runs each call on the account's Symmio core as that account (see the routing rules on
    /// sendQuote selectors in the README); returns each inner result.
    function _call(
        address account,
        bytes[] calldata calls
    ) external onlyAccountOwner(account) returns (bytes[] memory results) {
        bool isSub = _subs[account].isExists;
        if (!isSub && !_vas[account].isExists) revert AccountDoesNotExist();
        address core = _coreOf(account);
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            bytes calldata c = calls[i];
            if (c.length < 4) revert InvalidCallData();
            bytes4 sel = bytes4(c[:4]);
            if (_isForbidden(sel)) revert Unauthorized();
            address actor = account;
            if (sel == SEL_SEND_QUOTE_WITH_AFFILIATE_AND_DATA || sel == SEL_SEND_QUOTE_WITH_AFFILIATE || sel == SEL_SEND_QUOTE_V086) {
                if (c.length < 100) revert InvalidCallData();
                uint256 symbolId = uint256(bytes32(c[36:68]));
                uint256 positionType = uint256(bytes32(c[68:100]));
                if (positionType > 1) revert InvalidCallData();
                if (isSub) {
                    uint8 subIso = _subs[account].isolationType;
                    if (subIso != SUB_CUSTOM) {
                        actor = _getOrCreateVA(account, _vaIsolationFor(subIso, positionType), symbolId, core);
                    }
                } else {
                    VirtualAccountDetail storage v = _vas[account];
                    if (v.symbolId != symbolId) revert SymbolNotAllowedForThisAccount();
                    if (
                        (v.isolationType == VA_MARKET_LONG && positionType != 0)
                            || (v.isolationType == VA_MARKET_SHORT && positionType != 1)
                    ) revert PositionTypeNotAllowedForThisAccount();
                }
            }
            results[i] = _exec(core, actor, c);
        }
    }

    // ================================================================ margin
    /// Moves BALANCE from `subAccount` to the VA predicted for (subAccount, vaIsolationType, symbolId)
    /// with core internalTransfer. Isolation table: POSITION->POSITION, MARKET->MARKET,
    /// MARKET_DIRECTION->MARKET_LONG|MARKET_SHORT, anything else InvalidIsolationType().
    function addMarginToNextVA(
        address subAccount,
        uint8 vaIsolationType,
        uint256 symbolId,
        uint256 amount
    ) external onlyAccountOwner(subAccount) {
        SubAccountDetail storage s = _subs[subAccount];
        if (!s.isExists) revert AccountDoesNotExist();
        uint8 subIso = s.isolationType;
        bool ok = (subIso == SUB_POSITION && vaIsolationType == VA_POSITION)
            || (subIso == SUB_MARKET && vaIsolationType == VA_MARKET)
            || (subIso == SUB_MARKET_DIRECTION && (vaIsolationType == VA_MARKET_LONG || vaIsolationType == VA_MARKET_SHORT));
        if (!ok) revert InvalidIsolationType();
        if (amount == 0) revert ZeroAmount();
        address va = predictNextVirtualAccountAddress(subAccount, vaIsolationType, symbolId);
        _exec(s.symmioCore, subAccount, abi.encodeCall(ISymmioCore.internalTransfer, (va, amount)));
        emit AddMargin(va, subAccount, amount);
    }

    /// Parent sub-account balance -> existing VA.
    function addMargin(address virtualAccount, uint256 amount) external onlyAccountOwner(virtualAccount) {
        VirtualAccountDetail storage v = _vas[virtualAccount];
        if (!v.isExists) revert NotVirtualAccount();
        if (amount == 0) revert ZeroAmount();
        address parent = v.parentAccount;
        _exec(_subs[parent].symmioCore, parent, abi.encodeCall(ISymmioCore.internalTransfer, (virtualAccount, amount)));
        emit AddMargin(virtualAccount, parent, amount);
    }

    /// VA free balance -> parent sub-account. The mock does not verify `upnlSig` (no Muon); the
    /// core only lets free (unlocked) balance move.
    function removeMargin(
        address virtualAccount,
        uint256 amount,
        SingleUpnlSig calldata upnlSig
    ) external onlyAccountOwner(virtualAccount) {
        upnlSig; // accepted and ignored by the mock
        VirtualAccountDetail storage v = _vas[virtualAccount];
        if (!v.isExists) revert NotVirtualAccount();
        if (amount == 0) revert ZeroAmount();
        address parent = v.parentAccount;
        _exec(_subs[parent].symmioCore, virtualAccount, abi.encodeCall(ISymmioCore.internalTransfer, (parent, amount)));
        emit RemoveMargin(virtualAccount, parent, amount);
    }

    /// Retires an idle VA (no active quotes): sweeps its free balance to the parent and pushes it to
    /// the deleted-VA pool of its key, from which the next VA for that key is taken.
    function deleteVirtualAccount(address virtualAccount) external onlyAccountOwner(virtualAccount) {
        VirtualAccountDetail storage v = _vas[virtualAccount];
        if (!v.isExists) revert NotVirtualAccount();
        address parent = v.parentAccount;
        address core = _subs[parent].symmioCore;
        if (ISymmioCore(core).activeQuoteCount(virtualAccount) != 0) revert OpenPositionsExist();
        uint256 bal = ISymmioCore(core).balanceOf(virtualAccount);
        if (bal != 0) _exec(core, virtualAccount, abi.encodeCall(ISymmioCore.internalTransfer, (parent, bal)));
        v.isExists = false;
        bytes32 key = _vaKey(parent, v.isolationType, v.symbolId);
        if (_activeVA[key] == virtualAccount) delete _activeVA[key];
        _deletedVAs[key].push(virtualAccount);
        emit VirtualAccountDeleted(virtualAccount, parent);
    }

    // ================================================================ views
    /// Order: last VA of the deleted pool for the key; else (singleVAMode) the active VA for the key;
    /// else the address for the parent's next virtual nonce.
    function predictNextVirtualAccountAddress(
        address subAccount,
        uint8 isolationType,
        uint256 symbolId
    ) public view returns (address) {
        bytes32 key = _vaKey(subAccount, isolationType, symbolId);
        address[] storage pool = _deletedVAs[key];
        if (pool.length != 0) return pool[pool.length - 1];
        if (_subs[subAccount].singleVAMode) {
            address active = _activeVA[key];
            if (active != address(0)) return active;
        }
        return computeVirtualAccountAddress(subAccount, _virtualNonce[subAccount] + 1);
    }

    /// Owner of a sub-account, or of a VA's parent; address(0) for unknown addresses.
    function ownerOf(address account) public view returns (address) {
        if (_subs[account].isExists) return _subs[account].owner;
        VirtualAccountDetail storage v = _vas[account];
        if (v.isExists) return _subs[v.parentAccount].owner;
        return address(0);
    }

    function getVirtualAccount(address account) external view returns (VirtualAccountDetail memory) {
        return _vas[account];
    }

    function getSubAccount(address account) external view returns (SubAccountDetail memory) {
        return _subs[account];
    }

    function getUserSubAccountsAddresses(
        address owner,
        uint256 offset,
        uint256 limit
    ) external view returns (address[] memory) {
        return _slice(_userSubs[owner], offset, limit);
    }

    function getSubAccountsCountOfUser(address owner) external view returns (uint256) {
        return _userSubs[owner].length;
    }

    function getVirtualAccountsAddressesOfSubAccount(
        address subAccount,
        uint256 offset,
        uint256 limit
    ) external view returns (address[] memory) {
        return _slice(_subVAs[subAccount], offset, limit);
    }

    function getSubAccountVirtualNonce(address subAccount) external view returns (uint256) {
        return _virtualNonce[subAccount];
    }

    function getActiveVAByKey(address subAccount, uint8 isolationType, uint256 symbolId) external view returns (address) {
        return _activeVA[_vaKey(subAccount, isolationType, symbolId)];
    }

    function getDeletedVAPool(
        address subAccount,
        uint8 isolationType,
        uint256 symbolId
    ) external view returns (address[] memory) {
        return _deletedVAs[_vaKey(subAccount, isolationType, symbolId)];
    }

    function getRelatedCore(address account) external view returns (address) {
        return _coreOf(account);
    }

    function getSigner() external view returns (address) {
        return _globalSigner;
    }

    /// low 20 bytes of keccak(0xff ++ affiliate ++ keccak(user ++ uint256 nonce) ++ keccak("ACC_V1"))
    function computeSubAccountAddress(address affiliate, address user, uint256 nonce) public pure returns (address) {
        bytes32 inner = keccak256(abi.encodePacked(user, nonce));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), affiliate, inner, ACC_SALT)))));
    }

    /// low 20 bytes of keccak(0xff ++ parent ++ keccak(uint256 nonce) ++ keccak("VACC_V1"))
    function computeVirtualAccountAddress(address parent, uint256 nonce) public pure returns (address) {
        bytes32 inner = keccak256(abi.encodePacked(nonce));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), parent, inner, VACC_SALT)))));
    }

    // ================================================================ internals
    function _signer() internal view returns (address) {
        address s = _globalSigner;
        return s != address(0) ? s : msg.sender;
    }

    function _checkSignerSetter() internal view {
        if (!hasRole(INSTANT_LAYER_ROLE, msg.sender) && !hasRole(SIGNER_SETTER_ROLE, msg.sender)) revert Unauthorized();
    }

    function _checkAccountOwner(address account) internal view virtual {
        address signer = _signer();
        address owner = ownerOf(account);
        if ((owner == address(0) || owner != signer) && !hasRole(INSTANT_LAYER_ROLE, signer)) revert NotOwner();
    }

    function _coreOf(address account) internal view returns (address) {
        if (_subs[account].isExists) return _subs[account].symmioCore;
        address parent = _vas[account].parentAccount;
        return parent == address(0) ? address(0) : _subs[parent].symmioCore;
    }

    function _deposit(address account, uint256 amount) internal {
        if (!_subs[account].isExists && !_vas[account].isExists) revert AccountDoesNotExist();
        address depositor = _signer();
        _exec(_coreOf(account), depositor, abi.encodeCall(ISymmioCore.depositFor, (account, amount)));
        emit DepositForAccount(account, depositor, amount);
    }

    function _vaIsolationFor(uint8 subIso, uint256 positionType) internal pure returns (uint8) {
        if (subIso == SUB_POSITION) return VA_POSITION;
        if (subIso == SUB_MARKET) return VA_MARKET;
        return positionType == 0 ? VA_MARKET_LONG : VA_MARKET_SHORT;
    }

    function _vaKey(address subAccount, uint8 isolationType, uint256 symbolId) internal pure returns (bytes32) {
        return keccak256(abi.encode(subAccount, isolationType, symbolId));
    }

    /// Same order as predictNextVirtualAccountAddress, so the VA funded by addMarginToNextVA is the
    /// VA the quote is sent from. A new or reused VA is bound to the parent's PartyB when the parent
    /// is BOUND.
    function _getOrCreateVA(address sub, uint8 iso, uint256 symbolId, address core) internal returns (address va) {
        bytes32 key = _vaKey(sub, iso, symbolId);
        address[] storage pool = _deletedVAs[key];
        bool single = _subs[sub].singleVAMode;
        bool reused;
        if (pool.length != 0) {
            va = pool[pool.length - 1];
            pool.pop();
            _vas[va].isExists = true;
            reused = true;
        } else if (single && _activeVA[key] != address(0)) {
            return _activeVA[key];
        } else {
            uint256 nonce = ++_virtualNonce[sub];
            va = computeVirtualAccountAddress(sub, nonce);
            _vas[va] = VirtualAccountDetail(va, sub, symbolId, true, "", iso);
            _subVAs[sub].push(va);
        }
        if (single) _activeVA[key] = va;
        emit VirtualAccountCreated(va, sub, symbolId, iso, reused);

        (uint8 parentStatus, address partyB,) = ISymmioCore(core).getBindState(sub);
        if (parentStatus == 1) {
            (uint8 vaStatus,,) = ISymmioCore(core).getBindState(va);
            if (vaStatus == 0) _exec(core, va, abi.encodeCall(ISymmioCore.bindToPartyB, (partyB)));
        }
    }

    /// Calls the core with core signer = `actor`, clears the signer, bubbles any revert unchanged.
    function _exec(address core, address actor, bytes memory data) internal returns (bytes memory ret) {
        ISymmioCore(core).setSigner(actor);
        bool ok;
        (ok, ret) = core.call(data);
        ISymmioCore(core).setSigner(address(0));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function _isForbidden(bytes4 sel) internal pure returns (bool) {
        return sel == SEL_REGISTER_AFFILIATE || sel == SEL_DEREGISTER_AFFILIATE || sel == SEL_SET_AFFILIATE_METADATA
            || sel == SEL_SET_FEE_COLLECTOR || sel == SEL_SET_AFFILIATE_FEE || sel == SEL_SET_CUSTOM_AFFILIATE_FEE
            || sel == SEL_SET_SIGNER || sel == SEL_INTERNAL_TRANSFER_TO_BALANCE;
    }

    function _slice(address[] storage arr, uint256 offset, uint256 limit) internal view returns (address[] memory out) {
        uint256 n = arr.length;
        if (offset >= n) return new address[](0);
        uint256 end = limit > n - offset ? n : offset + limit;
        out = new address[](end - offset);
        for (uint256 i = offset; i < end; i++) {
            out[i - offset] = arr[i];
        }
    }
}
