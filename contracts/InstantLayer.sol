// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControlEnumerable} from "@openzeppelin/contracts/access/AccessControlEnumerable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/security/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {VirtualAccountDetail} from "./interfaces/SymmioTypes.sol";
import {IAccountLayer} from "./interfaces/IAccountLayer.sol";
import {ISymmioCore} from "./interfaces/ISymmioCore.sol";
import {IPartyB} from "./interfaces/IPartyB.sol";

/// @title InstantLayer (mock of the Symmio v0.8.5 InstantLayer, 7-field SignedOperation generation)
/// @notice Our own implementation of the behaviour of the real InstantLayer of this generation
///         (FlexFillAuth, 4-argument executeBatch): the same public surface (functions, events,
///         errors; `harness/chain/surface.json` lists it and a test compares), the same order of
///         checks and the same error arguments, so a revert decoded against this mock is the revert
///         the real contract gives. The behaviours a frontend should know are listed in
///         contracts/README.md ("Real behaviours a frontend should know").
contract InstantLayer is AccessControlEnumerable, EIP712, ReentrancyGuard {
    // ---------------------------------------------------------------- types
    struct Account {
        address addr;
        bool isPartyB;
    }

    struct ReplayAttackHeader {
        uint256 nonce; // 0 = salt-only; else must be nonces[signerAccount.addr] + 1
        uint256 deadline; // 0 = never expires
        bytes32 salt;
    }

    struct FlexField {
        uint256 offset; // relative to the arguments (after the 4-byte selector)
        uint256 length;
        address authorizedFlexFiller;
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

    /// Injection k of a template step: the 32-byte word at results[sourceIndices[k]] + sourceOffsets[k]
    /// is written over callData[4 + insertionPoints[k] .. +32].
    struct TemplateOperation {
        uint256[] insertionPoints;
        uint256[] sourceIndices;
        uint256[] sourceOffsets;
    }

    struct Template {
        string name;
        TemplateOperation[] operations;
        bool active;
    }

    // ---------------------------------------------------------------- constants
    bytes32 public constant SETTER_ROLE = keccak256("SETTER_ROLE");
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    bytes32 public constant ACCOUNT_TYPEHASH = keccak256("Account(address addr,bool isPartyB)");
    bytes32 public constant REPLAY_HEADER_TYPEHASH =
        keccak256("ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt)");
    bytes32 public constant FLEX_FIELD_TYPEHASH =
        keccak256("FlexField(uint256 offset,uint256 length,address authorizedFlexFiller)");
    bytes32 public constant FLEX_FILL_AUTH_TYPEHASH =
        keccak256("FlexFillAuth(bytes32 opHash,uint256 fieldIndex,bytes value)");
    bytes32 public constant DELEGATION_INFO_TYPEHASH = keccak256(
        "DelegationInfo(Account account,address delegatedSigner,bytes4[] selectors,uint256 expiryTimestamp)Account(address addr,bool isPartyB)"
    );
    bytes32 public constant SIGNED_DELEGATION_TYPEHASH = keccak256(
        "SignedDelegation(DelegationInfo delegationInfo,ReplayAttackHeader replayAttackHeader)Account(address addr,bool isPartyB)DelegationInfo(Account account,address delegatedSigner,bytes4[] selectors,uint256 expiryTimestamp)ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt)"
    );
    /// Not public in the real contract either (no getter): getOperationHash exposes the digest.
    bytes32 internal constant SIGNED_OPERATION_TYPEHASH = keccak256(
        "SignedOperation(address signer,address target,bytes callData,Account signerAccount,FlexField[] flexFields,uint256 maxUses,ReplayAttackHeader replayAttackHeader)Account(address addr,bool isPartyB)FlexField(uint256 offset,uint256 length,address authorizedFlexFiller)ReplayAttackHeader(uint256 nonce,uint256 deadline,bytes32 salt)"
    );

    uint256 internal constant INITIAL_REVOCATION_COOLDOWN = 10 minutes;
    uint256 internal constant MIN_REVOCATION_COOLDOWN = 5 minutes;
    uint256 internal constant MAX_REVOCATION_COOLDOWN = 30 days;

    // ---------------------------------------------------------------- errors
    error AccountLayerNotSet();
    error ArrayLengthMismatch();
    error BadSourceResultLength(bytes res, uint256 length);
    error CallDataLengthMismatch();
    error DeadlineExpired(uint256 deadline);
    error DelegationAlreadyExecuted(bytes32 hash);
    error DelegationExpired(uint256 expiryTimestamp);
    error EmptyArray();
    error EmptyBatch();
    error EmptyTemplate();
    error FlexFieldOutOfBounds(uint256 offset, uint256 length, uint256 callDataLength);
    error InsertionPointOutOfBounds(uint256 offset, uint256 length);
    error InvalidCallData();
    error InvalidDelegation();
    error InvalidFlexFillLength(uint256 expected, uint256 provided);
    error InvalidFlexFillValueLength(uint256 fieldIndex, uint256 expected, uint256 provided);
    error InvalidFlexFillerSignature(uint256 fieldIndex);
    error InvalidNonce(address user, uint256 expected, uint256 provided);
    error InvalidSignature();
    error InvalidSourceIndex(uint256 sourceIndex);
    error InvalidTemplate(uint256 templateId);
    error MaxUsesExceeded(bytes32 hash, uint256 maxUses);
    error MismatchSignerAndAccount(address signer, address account);
    error MissingSourceResult();
    error NotOwnerOfAccount(address sender, address account);
    error OperationFailed(uint256 operationIndex, bytes revertData);
    error PartyBAlreadyRegistered(address partyB);
    error PartyBNotRegistered(address partyB);
    error RevocationCooldownNotOver(uint256 eta);
    error SelfDelegation();
    error TargetNotWhitelisted(address target);
    error TemplateNotActive(uint256 templateId);
    error TemplateOperationLengthMismatch();
    error UnregisteredAccountLayer(address accountLayer);
    error UnregisteredPartyB(address partyB);

    // ---------------------------------------------------------------- events
    event AccountLayerUpdated(address indexed oldAccountLayer, address indexed newAccountLayer);
    event DelegationGranted(address indexed delegator, address indexed delegate, bytes4 selector, uint256 expiryTimestamp);
    event DelegationNonceIncremented(address indexed delegator, uint256 newNonce);
    event DelegationSelectorRevoked(address indexed delegator, address indexed delegate, bytes4 selector);
    event NonceIncremented(address indexed user, uint256 newNonce);
    event PartyBRegistered(address indexed partyB);
    event PartyBUnregistered(address indexed partyB);
    event RevocationCooldownUpdated(uint256 oldCooldown, uint256 newCooldown);
    event RevocationScheduled(address indexed delegator, address indexed delegate, bytes4 selector, uint256 eta);
    event TargetWhitelistUpdated(address indexed target, bool allowed);
    event TemplateAdded(uint256 indexed templateId, string name);
    event TemplateUpdated(uint256 indexed templateId, bool active);

    // ---------------------------------------------------------------- storage
    address public immutable symmio;
    address public accountLayer;
    uint256 public revocationCooldown;
    uint256 public nextTemplateId;

    mapping(address => uint256) public nonces;
    mapping(address => uint256) public delegationNonces;
    mapping(uint256 => Template) public templates;
    mapping(uint256 => bool) public templateInstantOpenMode;
    mapping(address => bool) public registeredPartyBs;
    mapping(address => bool) public whitelistedTargets;
    mapping(bytes32 => uint256) public operationUsageCount;
    mapping(bytes32 => bool) public usedDelegationHashes;
    /// delegator (canonical account) => delegate => selector => expiry timestamp
    mapping(address => mapping(address => mapping(bytes4 => uint256))) public delegations;
    /// delegator (canonical account) => delegate => selector => revocation ETA (0 = none)
    mapping(address => mapping(address => mapping(bytes4 => uint256))) public pendingRevocationEta;

    constructor(address symmio_, address admin) EIP712("SymmioInstantLayer", "1") {
        symmio = symmio_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SETTER_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
        revocationCooldown = INITIAL_REVOCATION_COOLDOWN;
        emit RevocationCooldownUpdated(0, INITIAL_REVOCATION_COOLDOWN);
        whitelistedTargets[symmio_] = true;
        emit TargetWhitelistUpdated(symmio_, true);
    }

    // ================================================================ settings (SETTER_ROLE)
    /// Registers each PartyB (and grants it OPERATOR_ROLE); an empty list or a repeat reverts.
    function registerPartyBs(address[] calldata partyBs) external onlyRole(SETTER_ROLE) {
        if (partyBs.length == 0) revert EmptyArray();
        for (uint256 i = 0; i < partyBs.length; i++) {
            address partyB = partyBs[i];
            if (registeredPartyBs[partyB]) revert PartyBAlreadyRegistered(partyB);
            registeredPartyBs[partyB] = true;
            _grantRole(OPERATOR_ROLE, partyB);
            emit PartyBRegistered(partyB);
        }
    }

    function unregisterPartyB(address partyB) external onlyRole(SETTER_ROLE) {
        if (!registeredPartyBs[partyB]) revert PartyBNotRegistered(partyB);
        registeredPartyBs[partyB] = false;
        _revokeRole(OPERATOR_ROLE, partyB);
        emit PartyBUnregistered(partyB);
    }

    /// Moves the target whitelist entry from the old AccountLayer to the new one.
    function setAccountLayer(address newAccountLayer) external onlyRole(SETTER_ROLE) {
        if (newAccountLayer == address(0)) revert UnregisteredAccountLayer(newAccountLayer);
        address old = accountLayer;
        emit AccountLayerUpdated(old, newAccountLayer);
        whitelistedTargets[old] = false;
        accountLayer = newAccountLayer;
        whitelistedTargets[newAccountLayer] = true;
        emit TargetWhitelistUpdated(newAccountLayer, true);
    }

    function setTargetWhitelist(address target, bool allowed) external onlyRole(SETTER_ROLE) {
        if (target == address(0)) revert InvalidCallData();
        whitelistedTargets[target] = allowed;
        emit TargetWhitelistUpdated(target, allowed);
    }

    /// 5 minutes to 30 days; anything else is InvalidCallData (the real contract has no other error).
    function setRevocationCooldown(uint256 newCooldown) external onlyRole(SETTER_ROLE) {
        if (newCooldown < MIN_REVOCATION_COOLDOWN || newCooldown > MAX_REVOCATION_COOLDOWN) {
            revert InvalidCallData();
        }
        uint256 old = revocationCooldown;
        revocationCooldown = newCooldown;
        emit RevocationCooldownUpdated(old, newCooldown);
    }

    /// Ids count up from 0 (`nextTemplateId`); a new template is active. The three arrays of a step
    /// are not checked against each other here (a short one fails at execution with a Panic).
    function addTemplate(string calldata name, TemplateOperation[] calldata operations) external onlyRole(SETTER_ROLE) {
        if (operations.length == 0) revert EmptyTemplate();
        uint256 templateId = nextTemplateId;
        nextTemplateId = templateId + 1;
        Template storage t = templates[templateId];
        t.name = name;
        t.active = true;
        for (uint256 i = 0; i < operations.length; i++) {
            t.operations.push(operations[i]);
        }
        emit TemplateAdded(templateId, name);
    }

    /// Brackets the template's execution with core setInstantOpenMode(true/false). No event.
    function setTemplateInstantOpenMode(uint256 templateId, bool mode) external onlyRole(SETTER_ROLE) {
        _requireTemplate(templateId);
        templateInstantOpenMode[templateId] = mode;
    }

    function setTemplateActive(uint256 templateId, bool active) external onlyRole(SETTER_ROLE) {
        _requireTemplate(templateId);
        templates[templateId].active = active;
        emit TemplateUpdated(templateId, active);
    }

    // ================================================================ delegations
    /// Owner of `info.account` only (NotOwnerOfAccount first); then InvalidDelegation (isPartyB),
    /// SelfDelegation, DelegationExpired. Stored on the canonical account (a VA's parent). An empty
    /// selector list grants nothing. Re-granting a selector clears a pending revocation.
    function grantDelegation(DelegationInfo calldata info) external {
        if (_ownerOf(info.account.addr) != msg.sender) revert NotOwnerOfAccount(msg.sender, info.account.addr);
        if (info.account.isPartyB) revert InvalidDelegation();
        if (info.delegatedSigner == msg.sender) revert SelfDelegation();
        if (info.expiryTimestamp <= block.timestamp) revert DelegationExpired(info.expiryTimestamp);
        _grant(_canonicalDelegator(info.account.addr), info.delegatedSigner, info.selectors, info.expiryTimestamp);
    }

    /// Gasless grant signed by the owner of the canonical account; anyone may submit it. Checks in
    /// order: isPartyB, self-delegation, expiry, deadline, empty selectors, nonce (= stored + 1; the
    /// error reports the stored value as `expected`), signature. The nonce comes before the replay
    /// check, so a replayed grant reverts InvalidNonce (DelegationAlreadyExecuted is unreachable).
    function grantBatchDelegationBySig(SignedDelegation calldata signedDelegation, bytes calldata signature) external {
        DelegationInfo calldata info = signedDelegation.delegationInfo;
        ReplayAttackHeader calldata header = signedDelegation.replayAttackHeader;
        if (info.account.isPartyB) revert InvalidDelegation();
        address delegator = _canonicalDelegator(info.account.addr);
        address owner = _ownerOf(delegator);
        if (info.delegatedSigner == owner) revert SelfDelegation();
        if (info.expiryTimestamp <= block.timestamp) revert DelegationExpired(info.expiryTimestamp);
        if (header.deadline != 0 && block.timestamp > header.deadline) revert DeadlineExpired(header.deadline);
        if (info.selectors.length == 0) revert InvalidDelegation();

        uint256 stored = delegationNonces[delegator];
        if (header.nonce != stored + 1) revert InvalidNonce(delegator, stored, header.nonce);
        delegationNonces[delegator] = stored + 1;
        emit DelegationNonceIncremented(delegator, stored + 1);

        bytes32 hash = getDelegationHash(signedDelegation);
        if (!SignatureChecker.isValidSignatureNow(owner, hash, signature)) revert InvalidSignature();
        if (usedDelegationHashes[hash]) revert DelegationAlreadyExecuted(hash);
        usedDelegationHashes[hash] = true;
        _grant(delegator, info.delegatedSigner, info.selectors, info.expiryTimestamp);
    }

    /// The owner, the delegate itself or REVOKER_ROLE. Every selector whose delegation has not
    /// expired gets eta = now + revocationCooldown, whether or not a revocation was already
    /// scheduled or has already taken effect: calling again moves the ETA later and re-activates a
    /// selector whose earlier ETA has passed. Expired selectors are skipped.
    function initiateRevokeDelegation(Account calldata account, address delegate, bytes4[] calldata selectors) external {
        address delegator = _canonicalDelegator(account.addr);
        bool allowed = msg.sender == _ownerOf(delegator) || msg.sender == delegate || hasRole(REVOKER_ROLE, msg.sender);
        if (!allowed) revert NotOwnerOfAccount(msg.sender, account.addr);
        for (uint256 i = 0; i < selectors.length; i++) {
            bytes4 selector = selectors[i];
            if (delegations[delegator][delegate][selector] <= block.timestamp) continue;
            uint256 eta = block.timestamp + revocationCooldown;
            pendingRevocationEta[delegator][delegate][selector] = eta;
            emit RevocationScheduled(delegator, delegate, selector, eta);
        }
    }

    /// Anyone. Selectors with no scheduled revocation are skipped; RevocationCooldownNotOver while
    /// now < eta; otherwise the delegation and its ETA are deleted.
    function finalizeRevokeDelegation(Account calldata account, address delegate, bytes4[] calldata selectors) external {
        address delegator = _canonicalDelegator(account.addr);
        for (uint256 i = 0; i < selectors.length; i++) {
            bytes4 selector = selectors[i];
            uint256 eta = pendingRevocationEta[delegator][delegate][selector];
            if (eta == 0) continue;
            if (block.timestamp < eta) revert RevocationCooldownNotOver(eta);
            delete pendingRevocationEta[delegator][delegate][selector];
            delete delegations[delegator][delegate][selector];
            emit DelegationSelectorRevoked(delegator, delegate, selector);
        }
    }

    // ================================================================ execution (OPERATOR_ROLE)
    /// Independent operations; nothing flows between them.
    function executeBatch(
        SignedOperation[] calldata signedOps,
        bytes[] calldata signatures,
        bytes[][] calldata fills,
        bytes[][] calldata flexFillerSignatures
    ) external nonReentrant onlyRole(OPERATOR_ROLE) returns (bytes[] memory results) {
        if (signedOps.length == 0) revert EmptyBatch();
        _requireSameLengths(signedOps.length, signatures.length, fills.length, flexFillerSignatures.length);
        ISymmioCore(symmio).setCallFromInstantLayer(true);
        results = new bytes[](signedOps.length);
        for (uint256 i = 0; i < signedOps.length; i++) {
            bytes memory callData = _prepare(signedOps[i], signatures[i], fills[i], flexFillerSignatures[i]);
            results[i] = _execute(i, signedOps[i], callData);
        }
        ISymmioCore(symmio).setCallFromInstantLayer(false);
    }

    /// A template's steps in order; each step's callData gets earlier results injected after its
    /// flex fills. Checks: InvalidTemplate, the three array lengths, TemplateNotActive, then the
    /// operation count (TemplateOperationLengthMismatch, also for an empty list).
    function executeTemplate(
        uint256 templateId,
        SignedOperation[] calldata signedOps,
        bytes[] calldata signatures,
        bytes[][] calldata fills,
        bytes[][] calldata flexFillerSignatures
    ) external nonReentrant onlyRole(OPERATOR_ROLE) returns (bytes[] memory results) {
        _requireTemplate(templateId);
        _requireSameLengths(signedOps.length, signatures.length, fills.length, flexFillerSignatures.length);
        Template storage t = templates[templateId];
        if (!t.active) revert TemplateNotActive(templateId);
        if (signedOps.length != t.operations.length) revert TemplateOperationLengthMismatch();

        bool instantOpen = templateInstantOpenMode[templateId];
        ISymmioCore(symmio).setCallFromInstantLayer(true);
        if (instantOpen) ISymmioCore(symmio).setInstantOpenMode(true);
        results = new bytes[](signedOps.length);
        for (uint256 i = 0; i < signedOps.length; i++) {
            TemplateOperation memory step = t.operations[i];
            bytes memory callData = _prepare(signedOps[i], signatures[i], fills[i], flexFillerSignatures[i]);
            _inject(callData, step, results);
            results[i] = _execute(i, signedOps[i], callData);
        }
        if (instantOpen) ISymmioCore(symmio).setInstantOpenMode(false);
        ISymmioCore(symmio).setCallFromInstantLayer(false);
    }

    // ================================================================ views
    function isPartyBRegistered(address partyB) public view returns (bool) {
        return registeredPartyBs[partyB];
    }

    /// Exactly the stored entry for `delegator`: a VA is NOT mapped to its parent here (execution
    /// does map it), so for a VA this is false even when its parent's delegation is active.
    function isDelegationActive(address delegator, address delegate, bytes4 selector) public view returns (bool) {
        uint256 expiry = delegations[delegator][delegate][selector];
        uint256 eta = pendingRevocationEta[delegator][delegate][selector];
        return expiry > block.timestamp && (eta == 0 || eta > block.timestamp);
    }

    /// For each delegate with at least one active selector among the ones asked (on the canonical
    /// account): its active selectors and their earliest expiry.
    function getActiveDelegations(
        Account calldata delegatorAccount,
        address[] calldata delegates,
        bytes4[][] calldata selectors
    ) external view returns (DelegationInfo[] memory active) {
        if (delegates.length != selectors.length) revert ArrayLengthMismatch();
        address delegator = _canonicalDelegator(delegatorAccount.addr);
        DelegationInfo[] memory found = new DelegationInfo[](delegates.length);
        uint256 count = 0;
        for (uint256 i = 0; i < delegates.length; i++) {
            bytes4[] memory live = new bytes4[](selectors[i].length);
            uint256 n = 0;
            uint256 earliest = type(uint256).max;
            for (uint256 j = 0; j < selectors[i].length; j++) {
                bytes4 selector = selectors[i][j];
                if (!isDelegationActive(delegator, delegates[i], selector)) continue;
                live[n++] = selector;
                uint256 expiry = delegations[delegator][delegates[i]][selector];
                if (expiry < earliest) earliest = expiry;
            }
            if (n == 0) continue;
            assembly ("memory-safe") {
                mstore(live, n)
            }
            found[count++] = DelegationInfo(delegatorAccount, delegates[i], live, earliest);
        }
        active = new DelegationInfo[](count);
        for (uint256 k = 0; k < count; k++) {
            active[k] = found[k];
        }
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// An id at or past nextTemplateId reads as an empty, inactive template.
    function getTemplate(uint256 templateId) external view returns (Template memory) {
        return templates[templateId];
    }

    function getNextTemplateId() external view returns (uint256) {
        return nextTemplateId;
    }

    function getTemplateOperations(uint256 templateId) external view returns (TemplateOperation[] memory) {
        return templates[templateId].operations;
    }

    /// Templates [startId, min(startId + limit, nextTemplateId)); none when startId is past the end.
    function getTemplates(uint256 startId, uint256 limit) external view returns (Template[] memory list) {
        if (startId >= nextTemplateId) return new Template[](0);
        uint256 end = startId + limit;
        if (end > nextTemplateId) end = nextTemplateId;
        list = new Template[](end - startId);
        for (uint256 id = startId; id < end; id++) {
            list[id - startId] = templates[id];
        }
    }

    /// Full EIP-712 digest of a SignedOperation (over the signed callData, before any fill).
    function getOperationHash(SignedOperation calldata signedOp) public view returns (bytes32) {
        bytes32[] memory fieldHashes = new bytes32[](signedOp.flexFields.length);
        for (uint256 i = 0; i < fieldHashes.length; i++) {
            FlexField calldata f = signedOp.flexFields[i];
            fieldHashes[i] = keccak256(abi.encode(FLEX_FIELD_TYPEHASH, f.offset, f.length, f.authorizedFlexFiller));
        }
        bytes32 structHash = keccak256(
            abi.encode(
                SIGNED_OPERATION_TYPEHASH,
                signedOp.signer,
                signedOp.target,
                keccak256(signedOp.callData),
                _hashAccount(signedOp.signerAccount),
                keccak256(abi.encodePacked(fieldHashes)),
                signedOp.maxUses,
                _hashHeader(signedOp.replayAttackHeader)
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// Full EIP-712 digest of FlexFillAuth(opHash, fieldIndex, value); opHash is the operation digest.
    function getFlexFillAuthHash(bytes32 opHash, uint256 fieldIndex, bytes calldata value) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(FLEX_FILL_AUTH_TYPEHASH, opHash, fieldIndex, keccak256(value))));
    }

    /// Full EIP-712 digest of a SignedDelegation.
    function getDelegationHash(SignedDelegation calldata signedDelegation) public view returns (bytes32) {
        DelegationInfo calldata info = signedDelegation.delegationInfo;
        bytes32 infoHash = keccak256(
            abi.encode(
                DELEGATION_INFO_TYPEHASH,
                _hashAccount(info.account),
                info.delegatedSigner,
                _hashSelectors(info.selectors),
                info.expiryTimestamp
            )
        );
        return _hashTypedDataV4(
            keccak256(abi.encode(SIGNED_DELEGATION_TYPEHASH, infoHash, _hashHeader(signedDelegation.replayAttackHeader)))
        );
    }

    // ================================================================ internals: execution
    /// Verify, then apply the flex fills: the callData to run.
    function _prepare(
        SignedOperation calldata op,
        bytes calldata signature,
        bytes[] calldata fill,
        bytes[] calldata fillerSignatures
    ) internal returns (bytes memory) {
        bytes32 opHash = _verifyOperation(op, signature);
        return _applyFlexFills(op, fill, fillerSignatures, opHash);
    }

    /// In order: deadline, callData length, target whitelist, authorization (PartyB: signer equals
    /// the account and is registered; PartyA: the owner, or a delegate active for the selector on
    /// the canonical account), signature (skipped when the signer sends the transaction), use count,
    /// then the optional nonce of signerAccount.addr.
    function _verifyOperation(SignedOperation calldata op, bytes calldata signature) internal virtual returns (bytes32 hash) {
        ReplayAttackHeader calldata header = op.replayAttackHeader;
        if (header.deadline != 0 && header.deadline < block.timestamp) revert DeadlineExpired(header.deadline);
        if (op.callData.length < 4) revert CallDataLengthMismatch();
        if (!whitelistedTargets[op.target]) revert TargetNotWhitelisted(op.target);
        hash = getOperationHash(op);

        address account = op.signerAccount.addr;
        if (op.signerAccount.isPartyB) {
            if (op.signer != account) revert MismatchSignerAndAccount(op.signer, account);
            if (!isPartyBRegistered(op.signer)) revert UnregisteredPartyB(op.signer);
        } else if (_ownerOf(account) != op.signer) {
            bytes4 selector = bytes4(op.callData[:4]);
            if (!isDelegationActive(_canonicalDelegator(account), op.signer, selector)) revert InvalidDelegation();
        }

        if (op.signer != msg.sender && !SignatureChecker.isValidSignatureNow(op.signer, hash, signature)) {
            revert InvalidSignature();
        }

        uint256 used = operationUsageCount[hash];
        if (op.maxUses != 0 && used >= op.maxUses) revert MaxUsesExceeded(hash, op.maxUses);
        operationUsageCount[hash] = used + 1;

        if (header.nonce != 0) {
            uint256 expected = nonces[account] + 1;
            if (header.nonce != expected) revert InvalidNonce(account, expected, header.nonce);
            nonces[account] = expected;
            emit NonceIncremented(account, expected);
        }
    }

    /// One fill per flex field (empty = keep the signed bytes). Bounds are checked for every field
    /// with checked arithmetic: an offset near 2^256 reverts Panic(0x11), not FlexFieldOutOfBounds.
    function _applyFlexFills(
        SignedOperation calldata op,
        bytes[] calldata fill,
        bytes[] calldata fillerSignatures,
        bytes32 opHash
    ) internal view returns (bytes memory callData) {
        callData = op.callData;
        uint256 fieldCount = op.flexFields.length;
        if (fieldCount == 0) return callData;
        if (fill.length != fieldCount) revert InvalidFlexFillLength(fieldCount, fill.length);
        if (fillerSignatures.length != fieldCount) revert ArrayLengthMismatch();
        for (uint256 i = 0; i < fieldCount; i++) {
            FlexField calldata field = op.flexFields[i];
            if (field.offset + field.length + 4 > callData.length) {
                revert FlexFieldOutOfBounds(field.offset, field.length, callData.length);
            }
            bytes calldata value = fill[i];
            if (value.length == 0) continue;
            if (value.length != field.length) revert InvalidFlexFillValueLength(i, field.length, value.length);
            if (field.authorizedFlexFiller != msg.sender) {
                bytes32 authHash = getFlexFillAuthHash(opHash, i, value);
                if (!SignatureChecker.isValidSignatureNow(field.authorizedFlexFiller, authHash, fillerSignatures[i])) {
                    revert InvalidFlexFillerSignature(i);
                }
            }
            uint256 at = 4 + field.offset;
            assembly ("memory-safe") {
                calldatacopy(add(add(callData, 32), at), value.offset, value.length)
            }
        }
    }

    /// Writes each injected word in place. Results of steps not yet run are empty
    /// (MissingSourceResult); PartyB steps return nothing, so only PartyA results can be sources.
    function _inject(bytes memory callData, TemplateOperation memory step, bytes[] memory results) internal pure {
        for (uint256 k = 0; k < step.insertionPoints.length; k++) {
            uint256 source = step.sourceIndices[k];
            if (source >= results.length) revert InvalidSourceIndex(source);
            bytes memory result = results[source];
            uint256 sourceOffset = step.sourceOffsets[k];
            if (result.length == 0) revert MissingSourceResult();
            if (result.length < sourceOffset + 32) revert BadSourceResultLength(result, result.length);
            uint256 point = step.insertionPoints[k];
            if (point + 36 > callData.length) revert InsertionPointOutOfBounds(point + 32, callData.length);
            assembly ("memory-safe") {
                mstore(add(add(callData, 36), point), mload(add(add(result, 32), sourceOffset)))
            }
        }
    }

    /// PartyB -> signer._call([callData]) (no result); PartyA with the core as target ->
    /// AccountLayer._call(account, [callData]) (result = its first entry); PartyA with the
    /// AccountLayer as target -> a direct call; both with AccountLayer setSigner(owner) before and
    /// setSigner(0) after; any other whitelisted target -> a plain call. A failure reverts
    /// OperationFailed(index, revert data).
    function _execute(uint256 index, SignedOperation calldata op, bytes memory callData) internal virtual returns (bytes memory result) {
        bool ok;
        bool nested;
        if (op.signerAccount.isPartyB) {
            (ok, result) = op.signer.call(abi.encodeCall(IPartyB._call, (_single(callData))));
        } else if (op.target == symmio || op.target == accountLayer) {
            address al = accountLayer;
            if (al == address(0)) revert AccountLayerNotSet();
            _openSignerSession(al, op);
            if (op.target == symmio) {
                (ok, result) = al.call(abi.encodeCall(IAccountLayer._call, (op.signerAccount.addr, _single(callData))));
                nested = true;
            } else {
                (ok, result) = al.call(callData);
            }
            _closeSignerSession(al);
        } else {
            (ok, result) = op.target.call(callData);
        }
        if (!ok) revert OperationFailed(index, result);
        if (nested && result.length > 0) result = abi.decode(result, (bytes[]))[0];
    }

    /// The AccountLayer signer for a PartyA operation on the core or the AccountLayer: the owner.
    function _openSignerSession(address al, SignedOperation calldata op) internal virtual {
        IAccountLayer(al).setSigner(_ownerOf(op.signerAccount.addr));
    }

    function _closeSignerSession(address al) internal virtual {
        IAccountLayer(al).setSigner(address(0));
    }

    // ================================================================ internals: helpers
    function _grant(address delegator, address delegate, bytes4[] memory selectors, uint256 expiry) internal {
        for (uint256 i = 0; i < selectors.length; i++) {
            bytes4 selector = selectors[i];
            delegations[delegator][delegate][selector] = expiry;
            delete pendingRevocationEta[delegator][delegate][selector];
            emit DelegationGranted(delegator, delegate, selector, expiry);
        }
    }

    function _requireTemplate(uint256 templateId) internal view {
        if (templateId >= nextTemplateId) revert InvalidTemplate(templateId);
    }

    function _requireSameLengths(uint256 ops, uint256 sigs, uint256 fills, uint256 fillerSigs) internal pure {
        if (ops != sigs || ops != fills || ops != fillerSigs) revert ArrayLengthMismatch();
    }

    function _ownerOf(address account) internal view returns (address) {
        if (accountLayer == address(0)) revert AccountLayerNotSet();
        return IAccountLayer(accountLayer).ownerOf(account);
    }

    /// The parent sub-account of an existing VA, else the address itself.
    function _canonicalDelegator(address account) internal view returns (address) {
        if (accountLayer == address(0)) revert AccountLayerNotSet();
        VirtualAccountDetail memory va = IAccountLayer(accountLayer).getVirtualAccount(account);
        return va.isExists ? va.parentAccount : account;
    }

    function _hashAccount(Account calldata a) internal pure returns (bytes32) {
        return keccak256(abi.encode(ACCOUNT_TYPEHASH, a.addr, a.isPartyB));
    }

    function _hashHeader(ReplayAttackHeader calldata h) internal pure returns (bytes32) {
        return keccak256(abi.encode(REPLAY_HEADER_TYPEHASH, h.nonce, h.deadline, h.salt));
    }

    /// EIP-712 bytes4[]: each selector right-padded to a word, concatenated, hashed.
    function _hashSelectors(bytes4[] calldata selectors) internal pure returns (bytes32) {
        bytes32[] memory words = new bytes32[](selectors.length);
        for (uint256 i = 0; i < selectors.length; i++) {
            words[i] = bytes32(selectors[i]);
        }
        return keccak256(abi.encodePacked(words));
    }

    function _single(bytes memory callData) internal pure returns (bytes[] memory list) {
        list = new bytes[](1);
        list[0] = callData;
    }
}
