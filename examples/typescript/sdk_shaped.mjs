// An SDK-shaped client: it sends exactly what the official Trading-SDK (SYMM-IO/Trading-SDK,
// `@symm-frontier/core`, private on npm) sends, against `symmio-harness serve --chain anvil`.
//
//   symmio-harness serve --chain anvil
//   node examples/typescript/sdk_shaped.mjs http://127.0.0.1:PORT [--record DIR]
//
// Our own code (ethers v6), written from reading the SDK's source; the SDK file each step
// reproduces is named next to it (paths under packages/core/src of SYMM-IO/Trading-SDK):
//   open (generic)  instant-open/shared/calldata.ts getFakeSendQuoteMuonSignature (upnlSig =
//                   placeholder: 32 zero bytes reqId, timestamp now, price = the open price in
//                   wei), shared/operations.ts buildSignedOperation + formatSignedOperationPayload
//                   (uint fields as JSON integers), shared/hedger-api.ts sendInstantOpen
//   close           instant-close enigma adapter: POST /instant_trade/instant_close with
//                   `{operations: [...]}`, an empty 2xx = success (sendEnigmaInstantClose)
//   open (Enigma)   instant-open/actions/adapters/enigma.ts submitEnigmaInstantOpen: the same
//                   placeholder plus ONE FlexField over the encoded upnlSig region
//                   (calldata.ts sendQuoteUpnlSigFlexRange) filled by the solver; partyBsWhiteList
//                   [solver], affiliate = the chain's affiliates address
//   setQuoteTpSl    tpsl/set-quote-tpsl/*.ts: GET /api/v5/signing-spec with App-Name, legs built
//                   by buildConditionalOrderLeg (price = trigger shifted by 90 % slippage.ts),
//                   null legs padded with ZERO_LEG, salt = 32 random bytes as a decimal string;
//                   POST /api/v5/; confirmed only when the COH websocket says state "new"
//                   (websocket/tpsl/watch-tpsl-notifications.ts, parse-tpsl-frame.ts)
//   deleteQuoteTpSl tpsl/delete-quote-tpsl/delete-quote-tpsl.ts: CancelConditionalOrder from
//                   /api/v5/signing-spec-del, a FRESH salt, cohQuoteId "coh<N>", DELETE /api/v5/;
//                   confirmed when the websocket says canceled
//   marks           price-service/enigma/prices-by-names: GET {price_url}/api/v1/prices/{names},
//                   an object keyed by the requested name
// Steps 1-5 (sub-account, deposit, bind, the two delegations) go through the JSON-RPC URL from a
// funded anvil dev account, as flow.mjs does (the SDK's account-layer writes; our builders).
//
// Configured only from GET /context (retried for a bounded time until serve answers). Exit 0
// when every step succeeded; 1 with one line naming the failed step and the URL.
// --record DIR (or SYMMIO_RECORD_DIR) writes every instant_open / instant_close / TP/SL body sent
// as DIR/NN-<kind>.json and DIR/context.json (GET /context?owner=, read before the mock price
// move so its marks are the ones the TP/SL orders were judged by, plus the VA and `recorded_at`,
// the chain time of the first body), as `symmio-harness demo --record` writes them, for
// `symmio-harness validate --context DIR/context.json DIR/`. Both positions live on one VA
// (the first is closed in full, so addMarginToNextVA hands its VA to the second open); the run
// fails if they do not, since the close and TP/SL rules compare one VA with the context's.
// The DELETE bodies are not written: `validate` has no cancel kind.

import { randomBytes, randomUUID } from "node:crypto";
import {
  Contract,
  JsonRpcProvider,
  NonceManager,
  Signature,
  TypedDataEncoder,
  Wallet,
  ZeroAddress,
  getAddress,
  hexlify,
} from "ethers";
import { Recorder, parseArgs } from "./cli.mjs";
import { FrameSocket } from "./frames.mjs";
import {
  INSTANT_LAYER_DOMAIN,
  ORDER,
  POSITION,
  SUB_ISO,
  addMarginWei,
  closePrice,
  dec,
  encodeQuoteData,
  fixed,
  interfaces,
  lockedValues,
  mul,
  openPrice,
  operationDigest,
  operationToWire,
  requirePrecision,
  sessionKeySelectors,
  signedOperation,
  subscribeFrame,
  toTokenUnits,
  toWei,
  tpslBotSelectors,
  vaIsolationType,
  anvilDevWallet,
} from "./symmio.mjs";

const GAS = { gasLimit: 5_000_000n };
const WAIT_MS = 30_000;
const CONTEXT_WAIT_MS = 60_000;
/** The App-Name the SDK sends to the COH (its chain config's `tpsl.appName`). */
const APP_NAME = "Anvil_COH_SdkShaped";
/** slippage.ts DEFAULT_TPSL_SLIPPAGE_LOWCAPS: the TP/SL leg price is the trigger shifted by 90 %. */
const TPSL_SLIPPAGE_PCT = "90";
/** build-conditional-order-leg.ts TPSL_LEG_ORDER_TYPE_MARKET. */
const TPSL_LEG_MARKET = 1;
/** build-conditional-order-message.ts ZERO_LEG: pads a null leg before signing. */
const ZERO_LEG = { quantity: "0", price: "0", orderType: 0, conditionalPrice: "0", conditionalPriceType: "market" };

class StepError extends Error {}
const fail = (step, why) => {
  throw new StepError(`${step}: ${why}`);
};

// ------------------------------------------------------------------------------------ HTTP

/** One request; a non-2xx or a harness warning header fails `step` naming the URL. An empty
 *  2xx body is `null` (the SDK's instant_close treats it as success). */
async function http(step, method, url, { body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { "Content-Type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    fail(step, `${method} ${url}: ${err.cause?.code ?? err.message}`);
  }
  const text = await response.text();
  if (!response.ok) fail(step, `${method} ${url}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  const warned = response.headers.get("x-symmio-harness-warnings");
  if (warned) fail(step, `${method} ${url}: the service warned: ${warned}`);
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    fail(step, `${method} ${url}: not JSON: ${text.slice(0, 120)}`);
  }
}

/** GET /context, retried until serve answers (bounded). */
async function waitForContext(base) {
  const url = `${base}/context`;
  const end = Date.now() + CONTEXT_WAIT_MS;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return await response.json();
    } catch {
      // not listening yet
    }
    if (Date.now() > end) fail("context", `GET ${url}: no answer within ${CONTEXT_WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ------------------------------------------------------------------------------------ websockets

/** A defilytics-protocol websocket (frames kept in arrival order, awaited by predicate) that
 *  subscribes as the SDK's watchers do. */
class Socket extends FrameSocket {
  /** `step`: the step a connection failure is reported under. */
  constructor(step, url) {
    super(url, {
      waitMs: WAIT_MS,
      timeoutError: (what) => new StepError(`${what}: nothing on ${url} within ${WAIT_MS / 1000} s`),
      connectError: (err) => new StepError(`${step}: websocket ${url}: ${err.message}`),
    });
  }
  async subscribe(address, appName) {
    await this.opened;
    this.socket.send(JSON.stringify(subscribeFrame(address, appName)));
    await this.next("subscription answer", (f) => "subscribed" in f);
  }
}

const action = (name, quoteId) => (f) =>
  f.data && f.data.last_seen_action === name && (quoteId === undefined || f.data.quote_id === quoteId);
/** parse-tpsl-frame.ts: a `report` frame (or one without `type`) whose data names the order; a
 *  report of it with `successful: false` (killed) is returned too, so the step fails at once. */
const tpslReport = (cohQuoteId, states) => (f) =>
  (f.type === undefined || f.type === "report") &&
  f.data &&
  f.data.coh_quote_id === cohQuoteId &&
  (f.data.successful === false || states.includes(f.data.state));

// ------------------------------------------------------------------------------------ SDK shapes

/** signAndFormatInstantOperation: `{signedOperation, signature}` under the InstantLayer domain. */
function sdkSigned(domain, key, op) {
  const signature = Signature.from(key.signingKey.sign(operationDigest(domain, op))).serialized;
  return { signedOperation: operationToWire(op, Number) /* formatSignedOperationPayload: uints as numbers */, signature };
}

/** getFakeSendQuoteMuonSignature: a placeholder carrying only the trade price, byte-shaped like a
 *  real attestation (reqId = 32 zero bytes), timestamp = now (wall clock, seconds). */
const fakeUpnlSig = (priceWei) => [
  `0x${"00".repeat(32)}`,
  BigInt(Math.floor(Date.now() / 1000)),
  0n,
  priceWei,
  "0x",
  [0n, ZeroAddress, ZeroAddress],
];

/** sendQuoteUpnlSigFlexRange: [head word of upnlSig, head word of data) of the arguments
 *  (after the selector), the argument indices read from the ABI. */
function upnlSigFlexRange(symmioCore, callData) {
  const inputs = symmioCore.getFunction("sendQuoteWithAffiliateAndData").inputs;
  const word = (name) => {
    const index = inputs.findIndex((i) => i.name === name);
    if (index < 0) throw new Error(`sendQuoteWithAffiliateAndData has no ${name} argument`);
    const start = 2 + 8 + index * 64;
    return BigInt(`0x${callData.slice(start, start + 64)}`);
  };
  const offset = word("upnlSig");
  const end = word("data");
  if (end <= offset) throw new Error(`upnlSig region out of order (${offset}, ${end})`);
  return { offset, length: end - offset };
}

/**
 * instantOpen: addMarginToNextVA + sendQuoteWithAffiliateAndData for the sub-account, the quote's
 * upnlSig the SDK's placeholder; `flex` adds the Enigma adapter's one FlexField (solver = filler).
 */
function sdkInstantOpen({ ifaces, domain, key, context, sub, symbol, side, quantity, leverage, mark, locked, fee, deadline, flex }) {
  const positionType = side === "long" ? POSITION.LONG : POSITION.SHORT;
  const qty = requirePrecision(dec(quantity), symbol.quantity_precision, "quantity");
  const price = openPrice(dec(mark), "5", side, symbol.price_precision);
  const values = lockedValues(mul(price, qty), locked, leverage);
  const margin = addMarginWei(side, price, dec(mark), qty, leverage, fee);
  const priceWei = toWei(price, "price");
  const addCall = ifaces.AccountLayer.encodeFunctionData("addMarginToNextVA", [
    sub, vaIsolationType(SUB_ISO.MARKET_DIRECTION, positionType), symbol.id, margin,
  ]);
  const sendCall = ifaces.SymmioCore.encodeFunctionData("sendQuoteWithAffiliateAndData", [
    [context.hedger], symbol.id, positionType, ORDER.MARKET, priceWei, toWei(qty, "quantity"),
    values.cva, values.lf, values.partyAmm, values.partyBmm, BigInt(deadline), context.affiliate,
    fakeUpnlSig(priceWei), encodeQuoteData(randomUUID()),
  ]);
  const common = { signer: key.address, account: sub, deadline };
  const addOp = signedOperation({ ...common, target: context.account_layer, callData: addCall, salt: hexlify(randomBytes(32)) });
  const sendOp = signedOperation({ ...common, target: context.symmio_core, callData: sendCall, salt: hexlify(randomBytes(32)) });
  if (flex) sendOp.flexFields = [{ ...upnlSigFlexRange(ifaces.SymmioCore, sendCall), authorizedFlexFiller: getAddress(context.hedger) }];
  return { body: { addMargin: sdkSigned(domain, key, addOp), sendQuote: sdkSigned(domain, key, sendOp) }, price: fixed(price, symbol.price_precision) };
}

/** instantClose (Enigma): requestToClosePosition signed for the VA, sent as `{operations}`. */
function sdkInstantClose({ ifaces, domain, key, context, va, quoteId, symbol, side, quantity, mark, deadline }) {
  const qty = requirePrecision(dec(quantity), symbol.quantity_precision, "quantity");
  const price = closePrice(dec(mark), "5", side, symbol.price_precision);
  const call = ifaces.SymmioCore.encodeFunctionData("requestToClosePosition", [
    BigInt(quoteId), toWei(price, "close_price"), toWei(qty, "quantity"), ORDER.MARKET, BigInt(deadline),
  ]);
  const op = signedOperation({ signer: key.address, target: context.symmio_core, callData: call, account: va, deadline, salt: hexlify(randomBytes(32)) });
  return { operations: [sdkSigned(domain, key, op)] };
}

/** generateTpSlSalt: 32 random bytes read little-endian, as a decimal string. */
function tpslSalt() {
  let value = 0n;
  for (const [i, b] of [...randomBytes(32)].entries()) value += BigInt(b) << BigInt(8 * i);
  return value.toString();
}

/** Decimal.js `toFixed(places)` (ROUND_HALF_UP) of an exact rational. */
function toFixedHalfUp(x, places) {
  const s = 10n ** BigInt(places);
  const n = x.n * s;
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const v = (2n * abs + x.d) / (2n * x.d);
  return fixed({ n: neg ? -v : v, d: s }, places);
}

/** buildConditionalOrderLeg + priceSlippageCalculation: a long's leg price is trigger*(1-0.9),
 *  a short's trigger*(1+0.9), at the market's precision; priceType "lastPrice" is sent as
 *  "last_close", "markPrice" as "market". */
function sdkLeg({ trigger, priceType }, side, quantity, places) {
  const shift = dec(TPSL_SLIPPAGE_PCT);
  const factor = side === "short" ? { n: shift.d * 100n + shift.n, d: shift.d * 100n } : { n: shift.d * 100n - shift.n, d: shift.d * 100n };
  return {
    quantity,
    price: toFixedHalfUp(mul(dec(trigger), factor), places),
    orderType: TPSL_LEG_MARKET,
    conditionalPrice: toFixedHalfUp(dec(trigger), places),
    conditionalPriceType: priceType === "lastPrice" ? "last_close" : "market",
  };
}

/** signTpSlRequest: the served spec's domain, types and primaryType, sent as served. */
function sdkSignTpsl(spec, message, key) {
  const { EIP712Domain: _, ...types } = spec.types; // ethers derives the domain type itself
  const digest = TypedDataEncoder.hash(spec.domain, types, message);
  return {
    typedData: { types: spec.types, primaryType: spec.primaryType, domain: spec.domain, message },
    signature: Signature.from(key.signingKey.sign(digest)).serialized,
    signer: key.address,
  };
}

/** buildConditionalOrderMessage + toSignableTpSlMessage. */
function sdkConditionalOrder({ va, sub, quoteId, symbolId, side, affiliate, tp, sl }) {
  return {
    virtualAccount: va,
    subAccount: sub,
    salt: tpslSalt(),
    quoteId: Number(quoteId),
    symbolId: Number(symbolId),
    positionType: side === "long" ? 0 : 1,
    affiliate,
    takeProfit: tp ?? ZERO_LEG,
    stopLoss: sl ?? ZERO_LEG,
    sendQuote: { ...ZERO_LEG, leverage: 0 },
  };
}

// ------------------------------------------------------------------------------------ recording

// ------------------------------------------------------------------------------------ main

async function main() {
  const { base, record } = parseArgs(process.argv.slice(2));
  if (!base) {
    console.error("usage: node sdk_shaped.mjs BASE_URL [--record DIR]   (the URL `symmio-harness serve --chain anvil` prints)");
    process.exit(2);
  }
  const solverUrl = process.env.SYMMIO_SOLVER_URL || `${base}/solver`;
  const cohUrl = process.env.SYMMIO_COH_URL || `${base}/coh`;
  const say = (step, text) => console.log(`${step.padEnd(16)} ${text}`);
  const recorder = new Recorder(record);

  const context = await waitForContext(base);
  for (const key of ["rpc_url", "price_url", "test_accounts", "hedger", "affiliate", "symbols", "tpsl_bot", "collateral"])
    if (!(key in context)) fail("context", `GET ${base}/context: no ${key}`);
  const abis = {};
  for (const name of ["AccountLayer", "InstantLayer", "SymmioCore", "ERC20"]) {
    const served = await http("abi", "GET", `${base}/abi/${name}`);
    abis[name] = Array.isArray(served) ? served : served.abi;
  }
  const ifaces = interfaces(abis);

  // --- the wallet: a funded anvil dev account (public key material, derived, never fetched)
  const provider = new JsonRpcProvider(context.rpc_url, undefined, { staticNetwork: true, polling: true, pollingInterval: 50 });
  const index = process.env.SYMMIO_OWNER_INDEX ? Number(process.env.SYMMIO_OWNER_INDEX) : context.test_accounts.length - 1;
  const ownerAddress = getAddress(context.test_accounts[index]);
  const owner = anvilDevWallet(ownerAddress, provider);
  if (!owner) fail("wallet", `${ownerAddress} is not one of anvil's dev accounts`);
  const sender = new NonceManager(owner);
  const at = (address, name) => new Contract(address, abis[name], sender);
  const accountLayer = at(context.account_layer, "AccountLayer");
  const instantLayer = at(context.instant_layer, "InstantLayer");
  const token = at(context.collateral, "ERC20");
  const mined = async (step, pending) => {
    let receipt;
    try {
      const tx = await pending;
      receipt = await tx.wait(1, WAIT_MS);
    } catch (err) {
      fail(step, `${context.rpc_url}: ${err.shortMessage ?? err.message}`);
    }
    if (!receipt || receipt.status !== 1) fail(step, `${context.rpc_url}: the transaction reverted`);
    return receipt;
  };
  const chainNow = async () => (await provider.getBlock("latest")).timestamp;

  // --- steps 1-5 through the JSON-RPC URL
  await mined("1 sub-account", accountLayer.createSubAccounts(context.affiliate, [[`sdk-shaped-${Date.now()}`, "0x", context.symmio_core, SUB_ISO.MARKET_DIRECTION, true]], GAS));
  const subs = await accountLayer.getUserSubAccountsAddresses(owner.address, 0, 1000);
  const sub = getAddress(subs[subs.length - 1]);
  const units = toTokenUnits(dec("1000"), Number(await token.decimals()));
  await mined("2 approve", token.approve(context.symmio_core, units, GAS));
  await mined("2 deposit", accountLayer.depositForAccount(sub, units, GAS));
  await mined("3 bind", accountLayer._call(sub, [ifaces.SymmioCore.encodeFunctionData("bindToPartyB", [context.hedger])], GAS));
  const session = Wallet.createRandom();
  const expiry = BigInt((await chainNow()) + 24 * 3600);
  await mined("4 delegation", instantLayer.grantDelegation([[sub, false], session.address, sessionKeySelectors(ifaces.AccountLayer, ifaces.SymmioCore), expiry], GAS));
  await mined("5 bot delegation", instantLayer.grantDelegation([[sub, false], context.tpsl_bot, tpslBotSelectors(ifaces.SymmioCore), expiry], GAS));
  say("steps 1-5", `owner ${owner.address}, sub-account ${sub}, session key ${session.address}`);

  // --- market data, marks (the Enigma price service, keyed by the requested name), sockets
  const symbol = context.symbols[0];
  const markOf = async (step) => {
    const url = `${context.price_url}/api/v1/prices/${encodeURIComponent(symbol.name)}`;
    const prices = await http(step, "GET", url);
    const row = prices && prices[symbol.name];
    if (!row || typeof row.markPrice !== "number") fail(step, `GET ${url}: no markPrice for ${symbol.name}`);
    return String(row.markPrice);
  };
  const { symbols: rows } = await http("market", "GET", `${solverUrl}/api/contract-symbols`);
  const market = rows.find((r) => r.symbol_id === symbol.id);
  if (!market) fail("market", `GET ${solverUrl}/api/contract-symbols: no symbol ${symbol.id}`);
  const leverage = 10;
  const locked = await http("market", "GET", `${solverUrl}/api/get_locked_params/${symbol.name}?leverage=${leverage}`);
  const domain = INSTANT_LAYER_DOMAIN(context.chain_id, context.instant_layer);
  const notifications = new Socket("open generic", `${solverUrl.replace(/^http/, "ws")}/api/ws/notifications`);
  await notifications.subscribe(sub);
  const cohSocket = new Socket("setQuoteTpSl", `${cohUrl.replace(/^http/, "ws")}/api/v5/ws`);
  await cohSocket.subscribe(sub, APP_NAME); // watchTpSlNotifications: the app name as the channel
  const side = "long";
  const openUrl = `${solverUrl}/api/instant_trade/instant_open`;
  const closeUrl = `${solverUrl}/api/instant_trade/instant_close`;

  const open = async (step, flex) => {
    const mark = await markOf(step);
    const now = await chainNow();
    const deadline = now + 3600;
    const built = sdkInstantOpen({
      ifaces, domain, key: session, context, sub, symbol, side, quantity: "0.015", leverage, mark,
      locked, fee: market.trading_fee, deadline, flex,
    });
    recorder.body("instant_open", built.body, now);
    const accepted = await http(step, "POST", openUrl, { body: built.body });
    const opened = await notifications.next(`${step} (SendQuoteTransaction)`, action("SendQuoteTransaction"));
    if (opened.data.action_status !== "success") fail(step, `POST ${openUrl}: ${JSON.stringify(opened.data)}`);
    say(step, `temp ${accepted.temp_quote_id} -> quote ${opened.data.quote_id}, VA ${opened.data.va_address}, price ${built.price} (mark ${mark})`);
    return { quoteId: opened.data.quote_id, va: getAddress(opened.data.va_address) };
  };
  const close = async (step, position, quantity) => {
    const mark = await markOf(step);
    const now = await chainNow();
    const body = sdkInstantClose({
      ifaces, domain, key: session, context, va: position.va, quoteId: position.quoteId, symbol, side,
      quantity, mark, deadline: now + 3600,
    });
    recorder.body("instant_close", body, now);
    const answer = await http(step, "POST", closeUrl, { body });
    if (answer !== null) fail(step, `POST ${closeUrl}: expected an empty 200, got ${JSON.stringify(answer).slice(0, 120)}`);
    const closed = await notifications.next(`${step} (FillMarketOrderInstantClose)`, action("FillMarketOrderInstantClose", position.quoteId));
    if (closed.data.action_status !== "success") fail(step, `POST ${closeUrl}: ${JSON.stringify(closed.data)}`);
    say(step, `closed ${quantity} of quote ${position.quoteId} at mark ${mark} (empty 200; ${closed.data.filled_amount_close} closed in all)`);
  };
  const ownerContext = async (step) => http(step, "GET", `${base}/context?owner=${owner.address}`);

  // --- position 1: instantOpen (generic placeholder, no flex), instantClose
  const first = await open("open generic", false);
  await close("close", first, "0.015");

  // --- position 2: instantOpen (Enigma adapter, flex), TP/SL set + delete, TP triggered, close
  const second = await open("open enigma", true);
  if (record && second.va !== first.va)
    fail("record", `the two positions are on different VAs (${first.va}, ${second.va}): one context cannot judge both`);
  const cohHeaders = { "App-Name": APP_NAME, Accept: "application/json" };
  const specUrl = `${cohUrl}/api/v5/signing-spec`;
  const ordersUrl = `${cohUrl}/api/v5/`;
  const setTpSl = async (step, { tp, sl, quantity }) => {
    const spec = await http(step, "GET", specUrl, { headers: cohHeaders });
    const mark = await markOf(step);
    const message = sdkConditionalOrder({
      va: second.va, sub, quoteId: second.quoteId, symbolId: symbol.id, side, affiliate: getAddress(context.affiliate),
      tp: tp && sdkLeg(tp, side, quantity, symbol.price_precision),
      sl: sl && sdkLeg(sl, side, quantity, symbol.price_precision),
    });
    const body = sdkSignTpsl(spec, message, session);
    recorder.body("tpsl", body, await chainNow());
    const stored = await http(step, "POST", ordersUrl, { body, headers: cohHeaders });
    if (stored.successful === false || stored.successful === "false") fail(step, `POST ${ordersUrl}: ${stored.message}`);
    const cohQuoteId = stored.coh_quote_id ?? stored.cohQuoteId;
    const confirmed = await cohSocket.next(`${step} (state new)`, tpslReport(cohQuoteId, ["new"]));
    if (!confirmed.data.successful) fail(step, `${cohQuoteId} reported ${confirmed.data.state}: ${confirmed.data.error_message}`);
    say(step, `${cohQuoteId} ${confirmed.data.conditional_order_type} new (mark ${mark})`);
    return { cohQuoteId, mark };
  };
  const deleteTpSl = async (step, cohQuoteId, conditionalOrderType) => {
    const spec = await http(step, "GET", `${specUrl}-del`, { headers: cohHeaders });
    const message = { virtualAccount: second.va, salt: tpslSalt(), cohQuoteId, conditionalOrderType };
    const answer = await http(step, "DELETE", ordersUrl, { body: sdkSignTpsl(spec, message, session), headers: cohHeaders });
    if (answer && (answer.successful === false || answer.successful === "false")) fail(step, `DELETE ${ordersUrl}: ${answer.message}`);
    const report = await cohSocket.next(`${step} (state canceled)`, tpslReport(cohQuoteId, ["cancel", "canceled", "cancelled"]));
    if (!report.data.successful) fail(step, `${cohQuoteId} reported ${report.data.state}: ${report.data.error_message}`);
    say(step, `${cohQuoteId} canceled`);
  };
  const mark = dec(await markOf("setQuoteTpSl"));
  const above = fixed(roundDown(mul(mark, dec("1.05")), symbol.price_precision), symbol.price_precision);
  const below = fixed(roundDown(mul(mark, dec("0.95")), symbol.price_precision), symbol.price_precision);
  const firstTp = await setTpSl("setQuoteTpSl", {
    tp: { trigger: above, priceType: "lastPrice" },
    sl: { trigger: below, priceType: "markPrice" },
    quantity: "0.005",
  });
  await deleteTpSl("deleteQuoteTpSl", firstTp.cohQuoteId, "take_profit");
  const tp = await setTpSl("setQuoteTpSl tp", { tp: { trigger: above, priceType: "lastPrice" }, quantity: "0.005" });
  recorder.context(await ownerContext("setQuoteTpSl tp"), { virtual_account: second.va }); // the marks the orders were judged by
  const priceUrl = `${cohUrl}/mock/price`;
  await http("tp triggered", "POST", priceUrl, { body: { symbol_id: symbol.id, price: above } });
  const fill = await notifications.next("tp triggered (bot close)", action("FillMarketOrderInstantClose", second.quoteId));
  if (fill.data.action_status !== "success") fail("tp triggered", `POST ${priceUrl}: ${JSON.stringify(fill.data)}`);
  const triggered = await cohSocket.next("tp triggered (state triggered)", tpslReport(tp.cohQuoteId, ["triggered"]));
  if (!triggered.data.successful) fail("tp triggered", `${tp.cohQuoteId} reported ${triggered.data.state}: ${triggered.data.error_message}`);
  say("tp triggered", `${tp.cohQuoteId}: mark ${above}, the bot closed 0.005 of quote ${second.quoteId}`);
  await close("close", second, "0.010");

  notifications.close();
  cohSocket.close();
  console.log(`sdk-shaped run done: sub-account ${sub}, quotes ${first.quoteId} and ${second.quoteId}${record ? `, bodies in ${record}` : ""}`);
}

function roundDown(x, places) {
  const s = 10n ** BigInt(places);
  return { n: (x.n * s) / x.d, d: s };
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof StepError ? err.message : `unexpected: ${err && err.stack ? err.stack.split("\n").slice(0, 2).join(" ") : err}`);
    process.exit(1);
  },
);
