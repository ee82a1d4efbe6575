// Symmio v0.8.6 for a TypeScript/JavaScript frontend, ethers v6 only: what changed from v0.8.5
// (the real-world notes §2), spelled here from the function signatures, never taken from Python.
//
// - the capped sendQuote (0x0ac30baf) carrying SolverFeeCaps(openRateCap, closeRateCap), 18-decimal
//   ratios, after `data` (§2.1); the caps come from the symbol's served minimums, default 0 (§2.2);
// - the v0.8.6 session-key set: addMarginToNextVA, the capped sendQuote, requestToClosePosition,
//   the COH key 0xeaa31b19 and 0x00000001 (§2.3);
// - a grant as ONE owner-signed SignedOperation targeting the InstantLayer itself, callData
//   grantDelegations((account, delegate, selectors, expiry)[]), no flex fields, maxUses 1 (§2.5),
//   relayed gaslessly as the official Trading-SDK's relayInstantOperations posts it
//   (`{gasless_url}/operations/gateway/relay-instant`, a SignedOperationRequest with every uint of
//   an operation a JSON number, walletIds decimal strings) and polled as getGaslessRequest does
//   (`GET {gasless_url}/operations/{request_id}`) to a terminal GaslessRequestStatus.

import { Interface, getAddress, hexlify } from "ethers";
import { COH_REQUEST_TO_CLOSE_KEY, SESSION_KEY_MARKER, dec, operationToWire, signedOperation, toWei, wrap } from "./symmio.mjs";

// real-world notes §2.1 and §2.5, spelled here
const UPNL_SIG = "(bytes,uint256,int256,uint256,bytes,(uint256,address,address))";
const DELEGATION_INFO = "((address,bool),address,bytes4[],uint256)";
export const V086 = new Interface([
  `function sendQuote(address[],uint256,uint8,uint8,uint256,uint256,uint256,uint256,uint256,uint256,uint256,address,${UPNL_SIG},bytes,(uint256,uint256))`,
  `function grantDelegation(${DELEGATION_INFO})`,
  `function grantDelegations(${DELEGATION_INFO}[])`,
]);
/** The selector the notes state for the capped open; ethers must derive the same from the spelling. */
export const CAPPED_SEND_QUOTE = "0x0ac30baf";
if (V086.getFunction("sendQuote").selector !== CAPPED_SEND_QUOTE)
  throw new Error(`v086.mjs: the capped sendQuote spelling derives ${V086.getFunction("sendQuote").selector}, not ${CAPPED_SEND_QUOTE}`);

/** GaslessRequestStatus (Trading-SDK gasless/types.ts): the terminal ones end the poll. */
export const TERMINAL_STATUSES = ["succeeded", "reverted", "failed", "rejected"];

/** Step 4 on v0.8.6: the session key's selectors (§2.3). */
export function sessionKeySelectorsV086(accountLayer, symmioCore) {
  return [
    accountLayer.getFunction("addMarginToNextVA").selector,
    V086.getFunction("sendQuote").selector,
    symmioCore.getFunction("requestToClosePosition").selector,
    COH_REQUEST_TO_CLOSE_KEY,
    SESSION_KEY_MARKER,
  ];
}

/** SolverFeeCaps from the symbol's minimums (decimal strings; absent = "0"), as 18-decimal wei. */
export function solverFeeCaps(...sources) {
  const pick = (key) => sources.map((s) => s && s[key]).find((v) => v !== undefined && v !== null) ?? "0";
  return [toWei(dec(String(pick("min_open_solver_fee_cap"))), "openRateCap"), toWei(dec(String(pick("min_close_solver_fee_cap"))), "closeRateCap")];
}

/**
 * Steps 4-5 as one owner-signed grant operation: grantDelegations for every `grants` entry
 * ({delegate, selectors, expiry}) on `subAccount`, target the InstantLayer, signerAccount the
 * sub-account, signed by `owner` (an ethers Wallet) under the InstantLayer domain.
 * Returns the operation (ethers values) and its signature.
 */
export function grantOperation({ domain, owner, instantLayer, subAccount, grants, deadline, salt }) {
  const infos = grants.map((g) => [[getAddress(subAccount), false], getAddress(g.delegate), g.selectors, BigInt(g.expiry)]);
  const op = signedOperation({
    signer: owner.address,
    target: instantLayer,
    callData: V086.encodeFunctionData("grantDelegations", [infos]),
    account: subAccount,
    deadline,
    salt,
  });
  return { op, signature: wrap(domain, owner.signingKey, op).signature };
}

/** The grant operation as the validator's `grant_operation` body: the operation as the relay got it. */
export const grantOperationBody = ({ op, signature }) => ({ signedOperation: operationToWire(op, Number), signature });

/** The body relayInstantOperations posts (SignedOperationRequest): formatGaslessOperation's
 *  operations (uints JSON numbers), one empty fill list each, walletIds explicit "0". */
export function relayBody({ idempotencyKey, userAddress, operationType, operations }) {
  return {
    idempotencyKey,
    userAddress: getAddress(userAddress),
    operationType,
    signedOps: operations.map(({ op }) => operationToWire(op, Number)),
    signatures: operations.map(({ signature }) => hexlify(signature)),
    fills: operations.map(() => []),
    flexFillerSignatures: operations.map(() => []),
    walletIds: operations.map(() => "0"),
  };
}

/** The operations service base under the `gasless_url` proxy root (the SDK appends /operations). */
export const operationsBase = (gaslessUrl) => `${gaslessUrl.replace(/\/$/, "")}/operations`;
