// Symmio v0.8.5 Instant Trading for a TypeScript/JavaScript frontend: ethers v6 only.
//
// Everything here mirrors symmio-harness's Python reference (harness/pricing.py, calldata.py,
// eip712.py, flow.py, wire.py) so that, for the same inputs, the bodies are byte-for-byte the
// same: `selfcheck.mjs` proves it against a vector the Python test suite writes.
// Plain ESM, no build step; JSDoc types so a TypeScript project can copy it as is.
//
// Money and prices are exact rationals over BigInt: never a JS number near an amount.

import { AbiCoder, HDNodeWallet, Interface, Mnemonic, Signature, TypedDataEncoder, Wallet, ZeroAddress, getAddress, id } from "ethers";

// ------------------------------------------------------------------------------------ enums
// calldata.py "Enums (§2a, §2b)"
export const SUB_ISO = { POSITION: 0, MARKET: 1, MARKET_DIRECTION: 2, CUSTOM: 3 };
export const VA_ISO = { POSITION: 0, MARKET: 1, MARKET_LONG: 2, MARKET_SHORT: 3 };
export const POSITION = { LONG: 0, SHORT: 1 };
export const ORDER = { LIMIT: 0, MARKET: 1 };

/** The VA isolation type addMarginToNextVA accepts for a sub-account's type (calldata.va_isolation_type). */
export function vaIsolationType(subIsolationType, positionType) {
  if (subIsolationType === SUB_ISO.POSITION) return VA_ISO.POSITION;
  if (subIsolationType === SUB_ISO.MARKET) return VA_ISO.MARKET;
  if (subIsolationType === SUB_ISO.MARKET_DIRECTION)
    return positionType === POSITION.LONG ? VA_ISO.MARKET_LONG : VA_ISO.MARKET_SHORT;
  throw new Error(`isolationType: sub-account isolation type ${subIsolationType} has no next-VA type`);
}

// ------------------------------------------------------------------------------------ EIP-712 types
// eip712.TYPES (member order as in the contracts and the COH). selfcheck compares them with Python's.
const LEG = [
  { name: "quantity", type: "string" },
  { name: "price", type: "string" },
  { name: "orderType", type: "uint8" },
  { name: "conditionalPrice", type: "string" },
  { name: "conditionalPriceType", type: "string" },
];
export const EIP712_DOMAIN = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];
/** SignedOperation and the structs it references (ethers wants them without EIP712Domain). */
export const SIGNED_OPERATION_TYPES = {
  SignedOperation: [
    { name: "signer", type: "address" },
    { name: "target", type: "address" },
    { name: "callData", type: "bytes" },
    { name: "signerAccount", type: "Account" },
    { name: "flexFields", type: "FlexField[]" },
    { name: "maxUses", type: "uint256" },
    { name: "replayAttackHeader", type: "ReplayAttackHeader" },
  ],
  Account: [
    { name: "addr", type: "address" },
    { name: "isPartyB", type: "bool" },
  ],
  FlexField: [
    { name: "offset", type: "uint256" },
    { name: "length", type: "uint256" },
    { name: "authorizedFlexFiller", type: "address" },
  ],
  ReplayAttackHeader: [
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
    { name: "salt", type: "bytes32" },
  ],
};
export const CONDITIONAL_ORDER_TYPES = {
  ConditionalOrder: [
    { name: "virtualAccount", type: "address" },
    { name: "subAccount", type: "address" },
    { name: "salt", type: "uint256" },
    { name: "quoteId", type: "int256" },
    { name: "symbolId", type: "uint256" },
    { name: "positionType", type: "uint8" },
    { name: "affiliate", type: "address" },
    { name: "takeProfit", type: "TakeProfit" },
    { name: "stopLoss", type: "StopLoss" },
    { name: "sendQuote", type: "SendQuote" },
  ],
  SendQuote: [...LEG, { name: "leverage", type: "uint256" }],
  StopLoss: LEG,
  TakeProfit: LEG,
};
/** The `types` object of the TP/SL body: EIP712Domain first, as the docs (and our schema) list it. */
export const CONDITIONAL_ORDER_WIRE_TYPES = { EIP712Domain: EIP712_DOMAIN, ...CONDITIONAL_ORDER_TYPES };

export const INSTANT_LAYER_DOMAIN = (chainId, instantLayer) => ({
  name: "SymmioInstantLayer",
  version: "1",
  chainId: Number(chainId),
  verifyingContract: getAddress(instantLayer),
});

// ------------------------------------------------------------------------------------ delegation keys
// calldata.py "Delegation keys": valid in a delegation's selector list, never as callData's first bytes.
export const COH_REQUEST_TO_CLOSE_KEY = "0xeaa31b19";
export const SESSION_KEY_MARKER = "0x00000001";
/** A requestToClosePosition overload deployed on no chain: only a key the COH looks up. */
export const COH_CLOSE_WITH_UPNL_SIG_KEY = id(
  "requestToClosePosition(uint256,uint256,uint256,uint8,uint256,(bytes,uint256,int256,bytes,(uint256,address,address)))",
).slice(0, 10);

/** Step 4: the session key's selectors (calldata.SESSION_KEY_SELECTORS). */
export function sessionKeySelectors(accountLayer, symmioCore) {
  return [
    accountLayer.getFunction("addMarginToNextVA").selector,
    symmioCore.getFunction("sendQuoteWithAffiliateAndData").selector,
    symmioCore.getFunction("requestToClosePosition").selector,
    COH_REQUEST_TO_CLOSE_KEY,
    SESSION_KEY_MARKER,
  ];
}

/** Step 5: the TP/SL bot's selectors (calldata.TPSL_BOT_SELECTORS). */
export function tpslBotSelectors(symmioCore) {
  return [
    symmioCore.getFunction("requestToClosePosition").selector,
    COH_REQUEST_TO_CLOSE_KEY,
    COH_CLOSE_WITH_UPNL_SIG_KEY,
    SESSION_KEY_MARKER,
  ];
}

/** The empty SingleUpnlAndPriceSig the solver replaces (calldata.EMPTY_UPNL_SIG). */
export const EMPTY_UPNL_SIG = ["0x", 0n, 0n, 0n, "0x", [0n, ZeroAddress, ZeroAddress]];

/** sendQuote's `data`: abi.encode of the one-field tuple (string uuid). */
export const encodeQuoteData = (uuid) => AbiCoder.defaultAbiCoder().encode(["tuple(string)"], [[uuid]]);

// ------------------------------------------------------------------------------------ exact decimals
// pricing.py: every amount an exact rational; rounding only where the flow says, against the user.

/** @typedef {{n: bigint, d: bigint}} Q */
const q = (n, d = 1n) => {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n < 0n ? -n : n, d);
  return { n: n / g, d: d / g };
};
function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a || 1n;
}
/** A decimal string ("65000.5") as an exact rational. Refuses exponents and JS numbers. */
export function dec(text) {
  if (typeof text !== "string" || !/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(text))
    throw new Error(`expected a plain decimal string, got ${JSON.stringify(text)}`);
  const [whole, frac = ""] = text.replace("-", "").split(".");
  const n = BigInt(whole + frac) * (text.startsWith("-") ? -1n : 1n);
  return q(n, 10n ** BigInt(frac.length));
}
export const add = (a, b) => q(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a, b) => q(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a, b) => q(a.n * b.n, a.d * b.d);
export const div = (a, b) => q(a.n * b.d, a.d * b.n);
const int = (x) => q(BigInt(x));
const ceilDiv = (n, d) => (n >= 0n ? (n + d - 1n) / d : n / d);
const floorDiv = (n, d) => (n >= 0n ? n / d : -((-n + d - 1n) / d));

/** `places` decimals, rounded up (ceiling) or down (floor); returns the scaled integer. */
function scaled(x, places, up) {
  const s = 10n ** BigInt(places);
  return up ? ceilDiv(x.n * s, x.d) : floorDiv(x.n * s, x.d);
}
/** The value at exactly `places` decimals; an error if that would change it (require_precision). */
export function requirePrecision(x, places, field) {
  const s = 10n ** BigInt(places);
  if ((x.n * s) % x.d !== 0n) throw new Error(`${field}: more than ${places} decimal places`);
  return q((x.n * s) / x.d, s);
}
/** Positional notation at exactly `places` decimals (pricing.format_decimal of a quantized value). */
export function fixed(x, places) {
  const s = 10n ** BigInt(places);
  if ((x.n * s) % x.d !== 0n) throw new Error(`not representable at ${places} decimals`);
  const v = (x.n * s) / x.d;
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(places + 1, "0");
  const text = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return (neg ? "-" : "") + text;
}
/** 18-decimal wei, exactly (pricing.to_wei); an error beyond 18 decimals. */
export function toWei(x, field = "amount") {
  const s = 10n ** 18n;
  if ((x.n * s) % x.d !== 0n) throw new Error(`${field}: more than 18 decimal places`);
  return (x.n * s) / x.d;
}
/** 18-decimal wei rounded up to the next wei (locked values and margin). */
export const toWeiUp = (x) => ceilDiv(x.n * 10n ** 18n, x.d);
/** Token-native units (6 for USDC), exactly. */
export function toTokenUnits(x, decimals) {
  const s = 10n ** BigInt(decimals);
  if ((x.n * s) % x.d !== 0n) throw new Error(`amount: more decimals than the token's ${decimals}`);
  return (x.n * s) / x.d;
}

const HUNDRED = int(100);
/** Upper bound of a short's margin price: mark * 1.10 (pricing.SHORT_MARGIN_BUFFER). */
export const SHORT_MARGIN_BUFFER = dec("1.10");

function slipped(mark, slippagePct, upward, places) {
  const pct = dec(slippagePct);
  if (pct.n < 0n || pct.n >= 100n * pct.d) throw new Error("slippage_pct: must be in [0, 100)");
  const f = div(pct, HUNDRED);
  const raw = upward ? mul(mark, add(int(1), f)) : mul(mark, sub(int(1), f));
  const price = q(scaled(raw, places, upward), 10n ** BigInt(places));
  if (price.n <= 0n) throw new Error("price: the slipped price rounds to zero");
  return price;
}
/** Worst acceptable entry: long mark*(1+s) rounded up, short mark*(1-s) rounded down. */
export const openPrice = (mark, slippagePct, side, places) => slipped(mark, slippagePct, side === "long", places);
/** Worst acceptable exit, opposite to entry: a long's close accepts down to mark*(1-s). */
export const closePrice = (mark, slippagePct, side, places) => slipped(mark, slippagePct, side === "short", places);

/** cva, lf, partyAmm = notional*pct/(100*leverage); partyBmm = notional*pct/100; each rounded up to the wei. */
export function lockedValues(notional, pct, leverage) {
  const divisor = int(100 * leverage);
  return {
    cva: toWeiUp(div(mul(notional, dec(pct.cva)), divisor)),
    lf: toWeiUp(div(mul(notional, dec(pct.lf)), divisor)),
    partyAmm: toWeiUp(div(mul(notional, dec(pct.partyAmm)), divisor)),
    partyBmm: toWeiUp(div(mul(notional, dec(pct.partyBmm)), HUNDRED)),
  };
}
/** margin = upper * quantity / leverage * (1 + 2*fee), rounded up to the wei; upper = the requested
 *  price on a long, mark * 1.10 on a short. */
export function addMarginWei(side, requestedPrice, mark, quantity, leverage, tradingFee) {
  const upper = side === "long" ? requestedPrice : mul(mark, SHORT_MARGIN_BUFFER);
  const factor = add(int(1), mul(int(2), dec(tradingFee)));
  return toWeiUp(mul(div(mul(upper, quantity), int(leverage)), factor));
}

// ------------------------------------------------------------------------------------ operations

/** A 7-field SignedOperation for `account` (sub-account on open, VA on close), as ethers values. */
export function signedOperation({ signer, target, callData, account, deadline, salt, nonce = 0n, maxUses = 1n }) {
  return {
    signer: getAddress(signer),
    target: getAddress(target),
    callData,
    signerAccount: { addr: getAddress(account), isPartyB: false },
    flexFields: [],
    maxUses: BigInt(maxUses),
    replayAttackHeader: { nonce: BigInt(nonce), deadline: BigInt(deadline), salt },
  };
}

/** The wire form: every uint a decimal string (wire.signed_operation_to_wire), or, with
 *  `uint = Number`, a JSON number as the solver's OpenAPI publishes and the official SDK's
 *  `formatSignedOperationPayload` sends. */
export function operationToWire(op, uint = String) {
  return {
    signer: op.signer,
    target: op.target,
    callData: op.callData,
    signerAccount: { addr: op.signerAccount.addr, isPartyB: op.signerAccount.isPartyB },
    flexFields: op.flexFields.map((f) => ({
      offset: uint(f.offset),
      length: uint(f.length),
      authorizedFlexFiller: f.authorizedFlexFiller,
    })),
    maxUses: uint(op.maxUses),
    replayAttackHeader: {
      nonce: uint(op.replayAttackHeader.nonce),
      deadline: uint(op.replayAttackHeader.deadline),
      salt: op.replayAttackHeader.salt,
    },
  };
}

export const operationDigest = (domain, op) => TypedDataEncoder.hash(domain, SIGNED_OPERATION_TYPES, op);

/** r||s||v, 65 bytes, low s, v 27/28 (ethers signs with RFC 6979 and normalises s). */
const sign = (signingKey, digest) => Signature.from(signingKey.sign(digest)).serialized;

export function wrap(domain, signingKey, op) {
  return { signedOperation: operationToWire(op), signature: sign(signingKey, operationDigest(domain, op)) };
}

/**
 * Step 6: addMarginToNextVA + sendQuoteWithAffiliateAndData, signed by the session key for the
 * sub-account (flow.build_instant_open). `market` values are the solver's strings. On v0.8.6 pass
 * `capped: {iface, caps}` for the capped sendQuote (0x0ac30baf) with its SolverFeeCaps.
 */
export function buildInstantOpen({
  ifaces, domain, sessionKey, context, subAccount, symbol, side, quantity, leverage, markPrice,
  lockedParams, tradingFee, deadline, slippagePct = "5", subIsolationType = SUB_ISO.MARKET_DIRECTION,
  uuid, salts, capped,
}) {
  const positionType = side === "long" ? POSITION.LONG : POSITION.SHORT;
  const qty = requirePrecision(dec(quantity), symbol.quantity_precision, "quantity");
  const mark = dec(markPrice);
  if (Number(lockedParams.leverage) !== leverage) throw new Error("locked_params.leverage: fetched for another leverage");
  const price = openPrice(mark, slippagePct, side, symbol.price_precision);
  const notional = mul(price, qty);
  const locked = lockedValues(notional, lockedParams, leverage);
  const margin = addMarginWei(side, price, mark, qty, leverage, tradingFee);
  const vaIso = vaIsolationType(subIsolationType, positionType);
  const addCall = ifaces.AccountLayer.encodeFunctionData("addMarginToNextVA", [subAccount, vaIso, symbol.id, margin]);
  // sendQuoteWithAffiliateAndData argument order (calldata.SEND_QUOTE_WITH_AFFILIATE_AND_DATA):
  // v0.8.6 (`capped` = {iface, caps}): the same arguments then SolverFeeCaps, through the capped
  // sendQuote the caller's interface spells (v086.mjs); v0.8.5: sendQuoteWithAffiliateAndData.
  const [sendIface, sendName, tail] = capped
    ? [capped.iface, "sendQuote", [capped.caps]]
    : [ifaces.SymmioCore, "sendQuoteWithAffiliateAndData", []];
  const sendCall = sendIface.encodeFunctionData(sendName, [
    [context.hedger], // partyBsWhiteList
    symbol.id, // symbolId
    positionType, // positionType
    ORDER.MARKET, // orderType
    toWei(price, "price"), // price (18 decimals)
    toWei(qty, "quantity"), // quantity (18 decimals)
    locked.cva,
    locked.lf,
    locked.partyAmm,
    locked.partyBmm,
    BigInt(deadline), // deadline
    context.affiliate, // affiliate
    EMPTY_UPNL_SIG, // upnlSig: the empty sentinel, replaced by the solver
    encodeQuoteData(uuid), // data: abi.encode((string uuid))
    ...tail, // v0.8.6: SolverFeeCaps(openRateCap, closeRateCap)
  ]);
  const common = { signer: sessionKey.address, account: subAccount, deadline };
  const addOp = signedOperation({ ...common, target: context.account_layer, callData: addCall, salt: salts[0] });
  const sendOp = signedOperation({ ...common, target: context.symmio_core, callData: sendCall, salt: salts[1] });
  return {
    body: { addMargin: wrap(domain, sessionKey.signingKey, addOp), sendQuote: wrap(domain, sessionKey.signingKey, sendOp) },
    digests: [operationDigest(domain, addOp), operationDigest(domain, sendOp)],
    requestedPrice: fixed(price, symbol.price_precision),
    marginWei: margin,
    locked,
  };
}

/** Step 7: requestToClosePosition signed for the VA; the body is a bare list (flow.build_instant_close). */
export function buildInstantClose({
  ifaces, domain, sessionKey, context, virtualAccount, quoteId, symbol, side, quantity, markPrice,
  deadline, slippagePct = "5", salt,
}) {
  const qty = requirePrecision(dec(quantity), symbol.quantity_precision, "quantity");
  const price = closePrice(dec(markPrice), slippagePct, side, symbol.price_precision);
  const call = ifaces.SymmioCore.encodeFunctionData("requestToClosePosition", [
    BigInt(quoteId), toWei(price, "close_price"), toWei(qty, "quantity"), ORDER.MARKET, BigInt(deadline),
  ]);
  const op = signedOperation({
    signer: sessionKey.address, target: context.symmio_core, callData: call, account: virtualAccount, deadline, salt,
  });
  return { body: [wrap(domain, sessionKey.signingKey, op)], digests: [operationDigest(domain, op)] };
}

const ZERO_LEG = { quantity: "0", price: "0", orderType: 0, conditionalPrice: "0", conditionalPriceType: "market" };

/** Step 8: a ConditionalOrder signed by the session key (flow.build_tpsl): unused legs are the zero
 *  leg; used legs trigger on last_close at the mark, every amount at the symbol's precision. */
export function buildTpsl({
  domain, sessionKey, subAccount, virtualAccount, affiliate, quoteId, symbol, side, quantity, markPrice,
  takeProfit, stopLoss, salt,
}) {
  const long = side === "long";
  const qty = requirePrecision(dec(quantity), symbol.quantity_precision, "quantity");
  const mark = dec(markPrice);
  const legPrice = closePrice(mark, "0", side, symbol.price_precision);
  const leg = (trigger, field, above) => {
    if (trigger === undefined || trigger === null) return ZERO_LEG;
    const p = requirePrecision(dec(trigger), symbol.price_precision, field);
    const d = sub(p, mark);
    if (d.n === 0n || (d.n > 0n) !== above) throw new Error(`${field}: on the wrong side of the mark`);
    return {
      quantity: fixed(qty, symbol.quantity_precision),
      price: fixed(legPrice, symbol.price_precision),
      orderType: ORDER.MARKET,
      conditionalPrice: fixed(p, symbol.price_precision),
      conditionalPriceType: "last_close",
    };
  };
  const message = {
    virtualAccount: getAddress(virtualAccount),
    subAccount: getAddress(subAccount),
    salt: String(salt), // a decimal string on the wire (a 256-bit number does not fit a JSON number)
    quoteId: Number(quoteId),
    symbolId: symbol.id,
    positionType: long ? POSITION.LONG : POSITION.SHORT,
    affiliate: getAddress(affiliate),
    takeProfit: leg(takeProfit, "take_profit", long),
    stopLoss: leg(stopLoss, "stop_loss", !long),
    sendQuote: { ...ZERO_LEG, leverage: 0 },
  };
  const wireDomain = { name: domain.name, version: domain.version, chainId: Number(domain.chainId), verifyingContract: getAddress(domain.verifyingContract) };
  const digest = TypedDataEncoder.hash(wireDomain, CONDITIONAL_ORDER_TYPES, message);
  return {
    body: {
      typedData: { types: CONDITIONAL_ORDER_WIRE_TYPES, primaryType: "ConditionalOrder", domain: wireDomain, message },
      signature: sign(sessionKey.signingKey, digest),
      signer: sessionKey.address,
    },
    digest,
  };
}

/** Interfaces from the ABIs (GET /abi/{name}, or contracts_abi/*.json offline). */
export function interfaces(abis) {
  return Object.fromEntries(Object.entries(abis).map(([name, abi]) => [name, new Interface(abi)]));
}

/** The notifications subscribe frame (services/notifications.py). */
export const subscribeFrame = (address, appName = "symmio-ts-example") => ({
  channel_patterns: [{ app_name: appName, address, primary_identifier: "*", secondary_identifier: "*" }],
});

// anvil's public development mnemonic: its keys hold test ETH on a local chain only.
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** The anvil dev account `address` (one of the first 50 of the public mnemonic) as a Wallet on
 *  `provider`, or null when it is none of them. The key is derived here, never fetched. */
export function anvilDevWallet(address, provider) {
  const mnemonic = Mnemonic.fromPhrase(ANVIL_MNEMONIC);
  for (let i = 0; i < 50; i++) {
    const w = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
    if (w.address === getAddress(address)) return new Wallet(w.privateKey, provider);
  }
  return null;
}
