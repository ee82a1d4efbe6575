// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/security/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {VirtualAccountDetail} from "./interfaces/SymmioTypes.sol";
import {IAccountLayer} from "./interfaces/IAccountLayer.sol";
import {ISymmioCore} from "./interfaces/ISymmioCore.sol";
import {IPartyB} from "./interfaces/IPartyB.sol";

/// @title InstantLayer (mock of the Symmio v0.8.5 InstantLayer, 7-field SignedOperation generation)
/// @notice Our own implementation of the documented rule set (shared/spec/contracts-and-services.md
///         section 3): EIP-712 domain "SymmioInstantLayer"/"1", verification order, replay by digest
///         use-count, optional per-account nonce, delegations on the canonical account with
///         revocation ETA, flex fills with FlexFillAuth, template result injection and routing.
///         Error names, argument types and selectors match the facts; argument names are ours.
contract InstantLayer is AccessControl, EIP712, ReentrancyGuard {
    // ---------------------------------------------------------------- types
    struct Account {
        address addr;
        bool isPartyB;
    }

    struct FlexField {
        uint256 offset; // relative to the arguments (after the 4-byte selector)
        uint256 length;
        address authorizedFlexFiller;
    }

    struct ReplayAttackHeader {
        uint256 nonce; // 0 = salt-only; else must be nonces[signerAccount.addr] + 1
        uint256 deadline; // 0 = never expires
        bytes32 salt;
    }

    struct SignedOperation {
        address signer;
        address target;
        bytes callData;
        Account signerAccount;
        FlexField[] flexFields;
        uint256 maxUses; // 0 = unlimited
        ReplayAttackHeader replayAttackHeader;
    }

    struct DelegationInfo {
        Account account;
        address delegatedSigner;
        bytes4[] selectors;
        uint256 expiryTimestamp;
    }

    struct SignedDelegation {
        DelegationInfo delegationInfo;
        ReplayAttackHeader replayAttackHeader;
    }

    /// Injection k of operation i: the 32-byte word at results[sourceIndices[k]][sourceOffsets[k]]
    /// is written at callData[4 + insertionPoints[k]].
    struct TemplateOperation {
        uint256[] insertionPoints;
        uint256[] sourceIndices;
        uint256[] sourceOffsets;
    }

    struct Template {
        string name;
        TemplateOperation[] operations;
        bool instantOpenMode;
    }

    // ---------------------------------------------------------------- constants
    bytes32 public constant SETTER_ROLE = keccak256("SETTER_ROLE");
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    bytes32 public constant ACCOUNT_TYPEHASH = keccak256("Account(address addr,bool isPartyB)");
    bytes32 public constant REPLAY_ATTACK_HEADER_TYPEHASH =
        keccak256("ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt)");
    bytes32 public constant FLEX_FIELD_TYPEHASH =
        keccak256("FlexField(uint256 offset,uint256 length,address authorizedFlexFiller)");
    bytes32 public constant SIGNED_OPERATION_TYPEHASH = keccak256(
        "SignedOperation(address signer,address target,bytes callData,Account signerAccount,FlexField[] flexFields,uint256 maxUses,ReplayAttackHeader replayAttackHeader)Account(address addr,bool isPartyB)FlexField(uint256 offset,uint256 length,address authorizedFlexFiller)ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt)"
    );
    bytes32 public constant DELEGATION_INFO_TYPEHASH = keccak256(
        "DelegationInfo(Account account,address delegatedSigner,bytes4[] selectors,uint256 expiryTimestamp)Account(address addr,bool isPartyB)"
    );
    bytes32 public constant SIGNED_DELEGATION_TYPEHASH = keccak256(
        "SignedDelegation(DelegationInfo delegationInfo,ReplayAttackHeader replayAttackHeader)Account(address addr,bool isPartyB)DelegationInfo(Account account,address delegatedSigner,bytes4[] selectors,uint256 expiryTimestamp)ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt)"
    );
    bytes32 public constant FLEX_FILL_AUTH_TYPEHASH =
        keccak256("FlexFillAuth(bytes32 opHash,uint256 fieldIndex,bytes value)");

    uint256 public constant DEFAULT_REVOCATION_COOLDOWN = 600;
    uint256 public constant MIN_REVOCATION_COOLDOWN = 300;
    uint256 public constant MAX_REVOCATION_COOLDOWN = 2_592_000;

    // ---------------------------------------------------------------- errors (facts, section 3)
    error ArrayLengthMismatch();
    error BadSourceResultLength(bytes result, uint256 sourceOffset);
    error CallDataLengthMismatch();
    error DeadlineExpired(uint256 deadline);
    error DelegationAlreadyExecuted(bytes32 digest);
    error DelegationExpired(uint256 expiryTimestamp);
    error EmptyBatch();
    error FlexFieldOutOfBounds(uint256 offset, uint256 length, uint256 callDataLength);
    error InsertionPointOutOfBounds(uint256 insertionPoint, uint256 callDataLength);
    error InvalidDelegation();
    error InvalidFlexFillLength(uint256 expected, uint256 actual);
    error InvalidFlexFillValueLength(uint256 fieldIndex, uint256 expected, uint256 actual);
    error InvalidFlexFillerSignature(uint256 fieldIndex);
    error InvalidNonce(address account, uint256 expected, uint256 provided);
    error InvalidSignature();
    error InvalidSourceIndex(uint256 sourceIndex);
    error MaxUsesExceeded(bytes32 digest, uint256 maxUses);
    error MismatchSignerAndAccount(address signer, address account);
    error MissingSourceResult();
    error NotOwnerOfAccount(address caller, address account);
    error OperationFailed(uint256 index, bytes revertData);
    error RevocationCooldownNotOver(uint256 eta);
    error SelfDelegation();
    error TargetNotWhitelisted(address target);
    error TemplateOperationLengthMismatch();
    error UnregisteredPartyB(address partyB);
    // mock-only
    error InvalidRevocationCooldown(uint256 cooldown);
    error TemplateNotFound(uint256 templateId);

    // ---------------------------------------------------------------- events
    event DelegationGranted(address indexed delegator, address indexed delegate, bytes4 selector, uint256 expiryTimestamp);
    event RevocationInitiated(address indexed delegator, address indexed delegate, bytes4 selector, uint256 eta);
    event DelegationRevoked(address indexed delegator, address indexed delegate, bytes4 selector);
    event NonceIncremented(address indexed account, uint256 newNonce);
    event DelegationNonceIncremented(address indexed delegator, uint256 newNonce);
    event OperationExecuted(uint256 index, bytes32 indexed opHash, address indexed signer, address indexed account);
    event PartyBRegistered(address indexed partyB);
    event AccountLayerSet(address indexed accountLayer);
    event TargetWhitelistSet(address indexed target, bool allowed);
    event RevocationCooldownSet(uint256 cooldown);
    event TemplateAdded(uint256 indexed templateId, string name, uint256 operationCount);
    event TemplateInstantOpenModeSet(uint256 indexed templateId, bool enabled);

    // ---------------------------------------------------------------- storage
    address public immutable symmio;
    address public accountLayer;
    uint256 public revocationCooldown;

    mapping(address => bool) public targetWhitelist;
    mapping(address => bool) public registeredPartyBs;
    /// delegator (canonical account) => delegate => selector => expiry timestamp
    mapping(address => mapping(address => mapping(bytes4 => uint256))) public delegations;
    /// delegator (canonical account) => delegate => selector => revocation ETA (0 = none)
    mapping(address => mapping(address => mapping(bytes4 => uint256))) public pendingRevocationEta;
    mapping(address => uint256) public nonces;
    mapping(address => uint256) public delegationNonces;
    mapping(bytes32 => uint256) public operationUsageCount;
    mapping(bytes32 => bool) public executedDelegations;
    Template[] private _templates;

    constructor(address symmio_, address admin) EIP712("SymmioInstantLayer", "1") {
        symmio = symmio_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SETTER_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
        revocationCooldown = DEFAULT_REVOCATION_COOLDOWN;
        targetWhitelist[symmio_] = true;
        emit TargetWhitelistSet(symmio_, true);
        emit RevocationCooldownSet(DEFAULT_REVOCATION_COOLDOWN);
    }

    // ================================================================ settings (SETTER_ROLE)
    function registerPartyBs(address[] calldata partyBs) external onlyRole(SETTER_ROLE) {
        for (uint256 i = 0; i < partyBs.length; i++) {
            registeredPartyBs[partyBs[i]] = true;
            _grantRole(OPERATOR_ROLE, partyBs[i]);
            emit PartyBRegistered(partyBs[i]);
        }
    }

    function setAccountLayer(address accountLayer_) external onlyRole(SETTER_ROLE) {
        accountLayer = accountLayer_;
        targetWhitelist[accountLayer_] = true;
        emit AccountLayerSet(accountLayer_);
        emit TargetWhitelistSet(accountLayer_, true);
    }

    function setTargetWhitelist(address target, bool allowed) external onlyRole(SETTER_ROLE) {
        targetWhitelist[target] = allowed;
        emit TargetWhitelistSet(target, allowed);
    }

    function setRevocationCooldown(uint256 cooldown) external onlyRole(SETTER_ROLE) {
        if (cooldown < MIN_REVOCATION_COOLDOWN || cooldown > MAX_REVOCATION_COOLDOWN) {
            revert InvalidRevocationCooldown(cooldown);
        }
        revocationCooldown = cooldown;
        emit RevocationCooldownSet(cooldown);
    }

    /// Template ids are 0-based (the first template added is id 0).
    function addTemplate(
        string calldata name,
        TemplateOperation[] calldata operations
    ) external onlyRole(SETTER_ROLE) returns (uint256 templateId) {
        templateId = _templates.length;
        Template storage t = _templates.push();
        t.name = name;
        for (uint256 i = 0; i < operations.length; i++) {
            TemplateOperation calldata o = operations[i];
            if (o.insertionPoints.length != o.sourceIndices.length || o.insertionPoints.length != o.sourceOffsets.length) {
                revert ArrayLengthMismatch();
            }
            TemplateOperation storage s = t.operations.push();
            s.insertionPoints = o.insertionPoints;
            s.sourceIndices = o.sourceIndices;
            s.sourceOffsets = o.sourceOffsets;
        }
        emit TemplateAdded(templateId, name, operations.length);
    }

    /// Stored and reported by getTemplate; the mock attaches no further behaviour to it.
    function setTemplateInstantOpenMode(uint256 templateId, bool enabled) external onlyRole(SETTER_ROLE) {
        if (templateId >= _templates.length) revert TemplateNotFound(templateId);
        _templates[templateId].instantOpenMode = enabled;
        emit TemplateInstantOpenModeSet(templateId, enabled);
    }

    function getTemplate(uint256 templateId) external view returns (Template memory) {
        if (templateId >= _templates.length) revert TemplateNotFound(templateId);
        return _templates[templateId];
    }

    function templateCount() external view returns (uint256) {
        return _templates.length;
    }

    // ================================================================ delegations
    /// Owner-only. Guards in this order: NotOwnerOfAccount, InvalidDelegation (isPartyB),
    /// SelfDelegation, DelegationExpired; an empty selector list is a no-op.
    function grantDelegation(DelegationInfo calldata info) external {
        address acct = info.account.addr;
        if (_ownerOf(acct) != msg.sender) revert NotOwnerOfAccount(msg.sender, acct);
        if (info.account.isPartyB) revert InvalidDelegation();
        if (info.delegatedSigner == msg.sender) revert SelfDelegation();
        if (info.expiryTimestamp <= block.timestamp) revert DelegationExpired(info.expiryTimestamp);
        _storeDelegation(_canonical(acct), info.delegatedSigner, info.selectors, info.expiryTimestamp);
    }

    /// Gasless grant signed by the account owner (ECDSA or ERC-1271); anyone may submit it.
    function grantBatchDelegationBySig(SignedDelegation calldata signed, bytes calldata signature) external {
        DelegationInfo calldata info = signed.delegationInfo;
        ReplayAttackHeader calldata h = signed.replayAttackHeader;
        if (info.selectors.length == 0 || info.account.isPartyB) revert InvalidDelegation();
        if (h.deadline != 0 && block.timestamp > h.deadline) revert DeadlineExpired(h.deadline);
        address acct = info.account.addr;
        address delegator = _canonical(acct);
        bytes32 digest = getDelegationHash(signed);
        if (executedDelegations[digest]) revert DelegationAlreadyExecuted(digest);
        uint256 expected = delegationNonces[delegator] + 1;
        if (h.nonce != expected) revert InvalidNonce(delegator, expected, h.nonce);
        address owner = _ownerOf(acct);
        if (owner == address(0) || !SignatureChecker.isValidSignatureNow(owner, digest, signature)) {
            revert InvalidSignature();
        }
        if (info.delegatedSigner == owner) revert SelfDelegation();
        if (info.expiryTimestamp <= block.timestamp) revert DelegationExpired(info.expiryTimestamp);
        executedDelegations[digest] = true;
        delegationNonces[delegator] = expected;
        emit DelegationNonceIncremented(delegator, expected);
        _storeDelegation(delegator, info.delegatedSigner, info.selectors, info.expiryTimestamp);
    }

    /// Owner, the delegate itself or REVOKER_ROLE. Sets eta = now + revocationCooldown for each
    /// currently active selector without a pending ETA; others are skipped silently.
    function initiateRevokeDelegation(Account calldata account, address delegate, bytes4[] calldata selectors) external {
        address acct = account.addr;
        if (msg.sender != _ownerOf(acct) && msg.sender != delegate && !hasRole(REVOKER_ROLE, msg.sender)) {
            revert NotOwnerOfAccount(msg.sender, acct);
        }
        address delegator = _canonical(acct);
        uint256 eta = block.timestamp + revocationCooldown;
        for (uint256 i = 0; i < selectors.length; i++) {
            bytes4 sel = selectors[i];
            if (!_isActive(delegator, delegate, sel) || pendingRevocationEta[delegator][delegate][sel] != 0) continue;
            pendingRevocationEta[delegator][delegate][sel] = eta;
            emit RevocationInitiated(delegator, delegate, sel, eta);
        }
    }

    /// Anyone. Reverts RevocationCooldownNotOver while now < eta; selectors with no ETA are skipped.
    function finalizeRevokeDelegation(Account calldata account, address delegate, bytes4[] calldata selectors) external {
        address delegator = _canonical(account.addr);
        for (uint256 i = 0; i < selectors.length; i++) {
            bytes4 sel = selectors[i];
            uint256 eta = pendingRevocationEta[delegator][delegate][sel];
            if (eta == 0) continue;
            if (block.timestamp < eta) revert RevocationCooldownNotOver(eta);
            delete delegations[delegator][delegate][sel];
            delete pendingRevocationEta[delegator][delegate][sel];
            emit DelegationRevoked(delegator, delegate, sel);
        }
    }

    /// Active when expiry > now and (no revocation ETA, or ETA still in the future); looked up on
    /// the canonical account (a VA maps to its parent sub-account).
    function isDelegationActive(address delegator, address delegate, bytes4 selector) public view returns (bool) {
        return _isActive(_canonical(delegator), delegate, selector);
    }

    // ================================================================ execution (OPERATOR_ROLE)
    function executeBatch(
        SignedOperation[] calldata signedOps,
        bytes[] calldata signatures,
        bytes[][] calldata fills,
        bytes[][] calldata flexFillerSignatures
    ) external onlyRole(OPERATOR_ROLE) nonReentrant returns (bytes[] memory results) {
        return _executeAll(false, 0, signedOps, signatures, fills, flexFillerSignatures);
    }

    function executeTemplate(
        uint256 templateId,
        SignedOperation[] calldata signedOps,
        bytes[] calldata signatures,
        bytes[][] calldata fills,
        bytes[][] calldata flexFillerSignatures
    ) external onlyRole(OPERATOR_ROLE) nonReentrant returns (bytes[] memory results) {
        return _executeAll(true, templateId, signedOps, signatures, fills, flexFillerSignatures);
    }

    // ================================================================ hashing views
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// Full EIP-712 digest of a SignedOperation (over the signed callData, before any fill).
    function getOperationHash(SignedOperation calldata op) public view returns (bytes32) {
        return _hashTypedDataV4(hashSignedOperationStruct(op));
    }

    /// Full EIP-712 digest of a SignedDelegation.
    function getDelegationHash(SignedDelegation calldata signed) public view returns (bytes32) {
        return _hashTypedDataV4(hashSignedDelegationStruct(signed));
    }

    /// Full EIP-712 digest of FlexFillAuth(opHash, fieldIndex, value); opHash is the operation digest.
    function getFlexFillAuthHash(bytes32 opHash, uint256 fieldIndex, bytes calldata value) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(FLEX_FILL_AUTH_TYPEHASH, opHash, fieldIndex, keccak256(value))));
    }

    /// Mock-only helper: the EIP-712 struct hash (no domain) of a SignedOperation.
    function hashSignedOperationStruct(SignedOperation calldata op) public pure returns (bytes32) {
        bytes32[] memory ff = new bytes32[](op.flexFields.length);
        for (uint256 i = 0; i < ff.length; i++) {
            FlexField calldata f = op.flexFields[i];
            ff[i] = keccak256(abi.encode(FLEX_FIELD_TYPEHASH, f.offset, f.length, f.authorizedFlexFiller));
        }
        return keccak256(
            abi.encode(
                SIGNED_OPERATION_TYPEHASH,
                op.signer,
                op.target,
                keccak256(op.callData),
                _hashAccount(op.signerAccount),
                keccak256(abi.encodePacked(ff)),
                op.maxUses,
                _hashHeader(op.replayAttackHeader)
            )
        );
    }

    /// Mock-only helper: the EIP-712 struct hash (no domain) of a SignedDelegation.
    function hashSignedDelegationStruct(SignedDelegation calldata signed) public pure returns (bytes32) {
        DelegationInfo calldata info = signed.delegationInfo;
        bytes32 infoHash = keccak256(
            abi.encode(
                DELEGATION_INFO_TYPEHASH,
                _hashAccount(info.account),
                info.delegatedSigner,
                keccak256(abi.encodePacked(info.selectors)),
                info.expiryTimestamp
            )
        );
        return keccak256(abi.encode(SIGNED_DELEGATION_TYPEHASH, infoHash, _hashHeader(signed.replayAttackHeader)));
    }

    // ================================================================ internals: execution
    function _executeAll(
        bool useTemplate,
        uint256 templateId,
        SignedOperation[] calldata ops,
        bytes[] calldata sigs,
        bytes[][] calldata fills,
        bytes[][] calldata flexSigs
    ) internal returns (bytes[] memory results) {
        uint256 n = ops.length;
        if (n == 0) revert EmptyBatch();
        if (sigs.length != n || fills.length != n || flexSigs.length != n) revert ArrayLengthMismatch();
        if (useTemplate && (templateId >= _templates.length || _templates[templateId].operations.length != n)) {
            revert TemplateOperationLengthMismatch();
        }
        results = new bytes[](n);
        for (uint256 i = 0; i < n; i++) {
            results[i] = _runOperation(i, ops[i], sigs[i], fills[i], flexSigs[i], useTemplate, templateId, results);
        }
    }

    /// verify -> flex fills -> template injection -> route, for operation `index`.
    function _runOperation(
        uint256 index,
        SignedOperation calldata op,
        bytes calldata sig,
        bytes[] calldata fill,
        bytes[] calldata fillerSigs,
        bool useTemplate,
        uint256 templateId,
        bytes[] memory results
    ) internal returns (bytes memory result) {
        (bytes32 digest, address owner) = _verifyOperation(op, sig);
        bytes memory callData = _applyFlexFills(op, digest, fill, fillerSigs);
        if (useTemplate) _injectResults(_templates[templateId].operations[index], callData, results);
        result = _executeOperationSafe(index, op, callData, owner);
        emit OperationExecuted(index, digest, op.signer, op.signerAccount.addr);
    }

    /// Steps 1-8 of the documented verification order. Returns the digest and (PartyA) the owner.
    function _verifyOperation(SignedOperation calldata op, bytes calldata sig) internal returns (bytes32 digest, address owner) {
        ReplayAttackHeader calldata h = op.replayAttackHeader;
        // 1. deadline (0 = never)
        if (h.deadline != 0 && h.deadline < block.timestamp) revert DeadlineExpired(h.deadline);
        // 2. selector present
        if (op.callData.length < 4) revert CallDataLengthMismatch();
        // 3. target whitelist
        if (!targetWhitelist[op.target]) revert TargetNotWhitelisted(op.target);
        // 4. digest
        digest = getOperationHash(op);
        // 5. authorization
        address acct = op.signerAccount.addr;
        if (op.signerAccount.isPartyB) {
            if (op.signer != acct) revert MismatchSignerAndAccount(op.signer, acct);
            if (!registeredPartyBs[acct]) revert UnregisteredPartyB(acct);
        } else {
            owner = IAccountLayer(accountLayer).ownerOf(acct);
            if (op.signer != owner && !isDelegationActive(acct, op.signer, bytes4(op.callData[:4]))) {
                revert InvalidDelegation();
            }
        }
        // 6. signature (skipped when the signer submits the batch itself)
        if (op.signer != msg.sender && !SignatureChecker.isValidSignatureNow(op.signer, digest, sig)) {
            revert InvalidSignature();
        }
        // 7. replay by digest use-count (maxUses 0 = unlimited)
        uint256 count = operationUsageCount[digest];
        if (op.maxUses != 0 && count >= op.maxUses) revert MaxUsesExceeded(digest, op.maxUses);
        operationUsageCount[digest] = count + 1;
        // 8. optional sequential nonce per signerAccount.addr
        if (h.nonce != 0) {
            uint256 expected = nonces[acct] + 1;
            if (h.nonce != expected) revert InvalidNonce(acct, expected, h.nonce);
            nonces[acct] = expected;
            emit NonceIncremented(acct, expected);
        }
    }

    function _applyFlexFills(
        SignedOperation calldata op,
        bytes32 digest,
        bytes[] calldata fill,
        bytes[] calldata fillerSigs
    ) internal view returns (bytes memory callData) {
        callData = op.callData;
        uint256 n = op.flexFields.length;
        if (n == 0) return callData;
        if (fill.length != n) revert InvalidFlexFillLength(n, fill.length);
        if (fillerSigs.length != n) revert ArrayLengthMismatch();
        uint256 argLen = callData.length - 4;
        for (uint256 j = 0; j < n; j++) {
            FlexField calldata f = op.flexFields[j];
            // offset + length + 4 > callData.length, without overflow
            if (f.offset > argLen || f.length > argLen - f.offset) {
                revert FlexFieldOutOfBounds(f.offset, f.length, callData.length);
            }
            bytes calldata value = fill[j];
            if (value.length == 0) continue;
            if (value.length != f.length) revert InvalidFlexFillValueLength(j, f.length, value.length);
            if (f.authorizedFlexFiller != msg.sender) {
                bytes32 authHash = getFlexFillAuthHash(digest, j, value);
                if (!SignatureChecker.isValidSignatureNow(f.authorizedFlexFiller, authHash, fillerSigs[j])) {
                    revert InvalidFlexFillerSignature(j);
                }
            }
            uint256 dst = f.offset;
            assembly ("memory-safe") {
                calldatacopy(add(add(callData, 36), dst), value.offset, value.length)
            }
        }
    }

    function _injectResults(TemplateOperation storage t, bytes memory callData, bytes[] memory results) internal view {
        uint256 m = t.insertionPoints.length;
        for (uint256 k = 0; k < m; k++) {
            uint256 src = t.sourceIndices[k];
            if (src >= results.length) revert InvalidSourceIndex(src);
            bytes memory r = results[src];
            if (r.length == 0) revert MissingSourceResult();
            uint256 so = t.sourceOffsets[k];
            if (r.length < 32 || so > r.length - 32) revert BadSourceResultLength(r, so);
            uint256 ip = t.insertionPoints[k];
            if (callData.length < 36 || ip > callData.length - 36) {
                revert InsertionPointOutOfBounds(ip, callData.length);
            }
            assembly ("memory-safe") {
                mstore(add(add(callData, 36), ip), mload(add(add(r, 32), so)))
            }
        }
    }

    /// PartyB -> PartyB._call([callData]); PartyA + Symmio target -> AccountLayer._call(account,
    /// [callData]) (result = inner bytes[0]); PartyA + AccountLayer target -> direct call; both inside
    /// core setCallFromInstantLayer(true/false) and AccountLayer setSignerScoped(owner, scope) /
    /// setSigner(0); any other whitelisted target -> plain call. Failures -> OperationFailed.
    function _executeOperationSafe(
        uint256 index,
        SignedOperation calldata op,
        bytes memory callData,
        address owner
    ) internal returns (bytes memory ret) {
        bool ok;
        address acct = op.signerAccount.addr;
        if (op.signerAccount.isPartyB) {
            (ok, ret) = acct.call(abi.encodeCall(IPartyB._call, (_one(callData))));
            if (!ok) revert OperationFailed(index, ret);
            return _first(ret);
        }
        address al = accountLayer;
        if (op.target == symmio || op.target == al) {
            address scope = op.signer == owner ? address(0) : _canonical(acct);
            ISymmioCore(symmio).setCallFromInstantLayer(true);
            IAccountLayer(al).setSignerScoped(owner, scope);
            if (op.target == symmio) {
                (ok, ret) = al.call(abi.encodeCall(IAccountLayer._call, (acct, _one(callData))));
                if (ok) ret = _first(ret);
            } else {
                (ok, ret) = al.call(callData);
            }
            IAccountLayer(al).setSigner(address(0));
            ISymmioCore(symmio).setCallFromInstantLayer(false);
        } else {
            (ok, ret) = op.target.call(callData);
        }
        if (!ok) revert OperationFailed(index, ret);
    }

    // ================================================================ internals: helpers
    function _storeDelegation(address delegator, address delegate, bytes4[] calldata selectors, uint256 expiry) internal {
        for (uint256 i = 0; i < selectors.length; i++) {
            bytes4 sel = selectors[i];
            delegations[delegator][delegate][sel] = expiry;
            delete pendingRevocationEta[delegator][delegate][sel];
            emit DelegationGranted(delegator, delegate, sel, expiry);
        }
    }

    function _isActive(address delegator, address delegate, bytes4 selector) internal view returns (bool) {
        uint256 expiry = delegations[delegator][delegate][selector];
        uint256 eta = pendingRevocationEta[delegator][delegate][selector];
        return expiry > block.timestamp && (eta == 0 || eta > block.timestamp);
    }

    function _ownerOf(address account) internal view returns (address) {
        return IAccountLayer(accountLayer).ownerOf(account);
    }

    /// The parent sub-account for an existing VA, else the address itself.
    function _canonical(address account) internal view returns (address) {
        address al = accountLayer;
        if (al == address(0)) return account;
        VirtualAccountDetail memory v = IAccountLayer(al).getVirtualAccount(account);
        return v.isExists ? v.parentAccount : account;
    }

    function _hashAccount(Account calldata a) internal pure returns (bytes32) {
        return keccak256(abi.encode(ACCOUNT_TYPEHASH, a.addr, a.isPartyB));
    }

    function _hashHeader(ReplayAttackHeader calldata h) internal pure returns (bytes32) {
        return keccak256(abi.encode(REPLAY_ATTACK_HEADER_TYPEHASH, h.nonce, h.deadline, h.salt));
    }

    function _one(bytes memory b) internal pure returns (bytes[] memory arr) {
        arr = new bytes[](1);
        arr[0] = b;
    }

    function _first(bytes memory ret) internal pure returns (bytes memory) {
        bytes[] memory arr = abi.decode(ret, (bytes[]));
        return arr.length == 0 ? bytes("") : arr[0];
    }
}
