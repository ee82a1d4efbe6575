// Steps 1-8 of Symmio Instant Trading from a Node frontend against `symmio-harness serve --chain anvil`.
//
//   symmio-harness serve --chain anvil            # prints the base URL, e.g. http://127.0.0.1:PORT
//   node examples/typescript/flow.mjs http://127.0.0.1:PORT
//
// Everything it needs comes from GET /context and GET /abi/{AccountLayer,InstantLayer,SymmioCore,ERC20}
// (plus the solver's and the COH's own endpoints, as a real frontend reads them):
// - steps 1-5 from its own wallet (one of the funded anvil test accounts of /context, whose public
//   dev key it derives from anvil's mnemonic) through the JSON-RPC URL: createSubAccounts,
//   approve + depositForAccount, _call(sub, [bindToPartyB]), the two grantDelegation;
// - steps 6-8 signed by its own fresh session key (ethers TypedDataEncoder), every body checked
//   against schemas/ with ajv before it is sent; the quote id and the VA from the websocket;
//   the TP/SL order triggered through POST /coh/mock/price.
// It first waits for GET BASE/context to answer (a server still starting: connection refused,
// 502/503/504), retrying every 250 ms for up to SYMMIO_CONTEXT_WAIT_SECONDS (default 30).
// Exit 0 when every step succeeded; 1 with one line naming where it failed (`setup`, `wallet`,
// `step 1` ... `step 8`) and why, an unexpected error included.
//
// v0.8.6 (`contracts_version: "0.8.6"` in GET /context, `serve --deployment arbitrum`; the
// real-world notes §2, spelled in v086.mjs): steps 4-5 are ONE owner-signed grant operation
// (grantDelegations for the session key, with the v0.8.6 set, and the TP/SL bot) relayed through
// the mock gasless relay at `gasless_url` as the Trading-SDK's relayInstantOperations posts it,
// polled to its terminal status; step 6 is the capped sendQuote with SolverFeeCaps from the
// symbol's served minimums (default 0). Steps 1-3 and 7-8 are as on v0.8.5.
//
// --record DIR (or SYMMIO_RECORD_DIR) writes every body sent as DIR/NN-<kind>.json (the grant
// operation as `grant_operation`: `validate --kind grant_operation`) and DIR/context.json
// (GET /context?owner=, read before the mock price move, plus the owner, the VA and
// `recorded_at`, the chain time of the first body), for `symmio-harness validate`.
//
// Environment: SYMMIO_OWNER_INDEX (which of context.test_accounts is the wallet; default the last),
// SYMMIO_SOLVER_URL / SYMMIO_COH_URL (default BASE/solver and BASE/coh),
// SYMMIO_CONTEXT_WAIT_SECONDS (how long to wait for GET /context; default 30).

import { randomBytes, randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Contract, JsonRpcProvider, NonceManager, Wallet, getAddress, hexlify } from "ethers";
import WebSocket from "ws";
import { Recorder, parseArgs } from "./cli.mjs";
import { FrameSocket } from "./frames.mjs";
import { loadSchemas } from "./schemas.mjs";
import {
  INSTANT_LAYER_DOMAIN,
  SESSION_KEY_MARKER,
  SUB_ISO,
  buildInstantClose,
  buildInstantOpen,
  buildTpsl,
  dec,
  fixed,
  interfaces,
  mul,
  sessionKeySelectors,
  subscribeFrame,
  toTokenUnits,
  tpslBotSelectors,
  anvilDevWallet,
} from "./symmio.mjs";
import {
  TERMINAL_STATUSES,
  V086,
  grantOperation,
  grantOperationBody,
  operationsBase,
  relayBody,
  sessionKeySelectorsV086,
  solverFeeCaps,
} from "./v086.mjs";

const GAS = { gasLimit: 5_000_000n };
const WAIT_MS = 30_000;
const CONTEXT_RETRY_MS = 250;
// What a server still starting answers: retried; any other answer is read (and judged) as is.
const STARTING_STATUSES = [502, 503, 504];

const here = dirname(fileURLToPath(import.meta.url));
const schemas = loadSchemas(join(here, "..", "..", "schemas"));

/** Where the flow is (`setup`, `wallet`, `step 1` ... `step 8`): every failure line starts with it. */
let current = "setup";
const enter = (where) => {
  current = where;
};

/** A failure the flow recognises: `what` is the request or check that failed, `why` the answer. */
class StepError extends Error {
  constructor(what, why) {
    super(`${what}: ${why}`);
  }
}
const fail = (what, why) => {
  throw new StepError(what, why);
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds to wait for GET /context: SYMMIO_CONTEXT_WAIT_SECONDS, default 30. */
function contextWaitSeconds() {
  const raw = process.env.SYMMIO_CONTEXT_WAIT_SECONDS;
  if (raw === undefined || raw === "") return 30;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    console.error(`SYMMIO_CONTEXT_WAIT_SECONDS: expected a number of seconds >= 0, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return seconds;
}

/**
 * Waits until GET `url` answers with anything but "starting" (a refused or timed-out connection,
 * 502/503/504), every CONTEXT_RETRY_MS for up to `seconds`; then the caller reads it.
 */
async function waitForContext(url, seconds) {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    let last;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(500, Math.min(5000, until - Date.now()))) });
      await response.arrayBuffer();
      if (!STARTING_STATUSES.includes(response.status)) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = (err && err.cause && (err.cause.code || err.cause.message)) || (err && err.name) || String(err);
    }
    if (Date.now() + CONTEXT_RETRY_MS > until)
      fail(
        `GET ${url}`,
        `no answer within ${seconds} s (last: ${last}); start \`symmio-harness serve --chain anvil\` and pass the base URL it prints`,
      );
    await sleep(CONTEXT_RETRY_MS);
  }
}

async function http(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  if (!response.ok) fail(`${method} ${url}`, `HTTP ${response.status}: ${text.slice(0, 300)}`);
  // the mock's warnings travel in a header, never in a published body
  const warned = response.headers.get("x-symmio-harness-warnings");
  if (warned) fail(`${method} ${url}`, `the service warned: ${warned}`);
  return json;
}

// What `serve` adds to the context file in GET /context (not keys `validate --context` needs).
const SERVE_KEYS = ["rpc_url", "collateral", "tpsl_bot", "test_accounts", "price_url", "price_ws_url"];
/** The context-file part of GET /context, checked against schemas/context.schema.json. */
function contextFile(served) {
  const file = Object.fromEntries(Object.entries(served).filter(([k]) => !SERVE_KEYS.includes(k)));
  return checked("context", file);
}

function checked(kind, body) {
  const validate = schemas[kind];
  if (!validate(body)) fail(`schema ${kind}`, JSON.stringify(validate.errors.slice(0, 3)));
  return body;
}

/**
 * The price service's websocket (`price_ws_url` of GET /context): broadcast-only, every frame a
 * full snapshot `[{name, markPrice, time}]`, keyed by the contract-symbols `name`. `markPrice`
 * is a JSON number; like the SDK, we stringify it without reformatting.
 */
class MarkPrices {
  constructor(url) {
    this.latest = null;
    this.waiters = [];
    this.socket = new WebSocket(url);
    this.socket.on("message", (raw) => {
      const frame = JSON.parse(raw.toString());
      if (!Array.isArray(frame)) return;
      this.latest = frame;
      for (const w of this.waiters.splice(0)) w();
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("open", resolve);
      this.socket.once("error", reject);
    });
  }
  /** The newest mark of `name` as a decimal string (waits for the first snapshot). */
  async mark(name) {
    if (this.latest === null) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new StepError("price websocket", `no snapshot within ${WAIT_MS / 1000} s`)), WAIT_MS);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const row = this.latest.find((r) => r.name === name);
    if (!row || typeof row.markPrice !== "number") fail("price websocket", `no markPrice for ${name}`);
    return String(row.markPrice);
  }
  close() {
    this.socket.close();
  }
}

const action = (name, quoteId) => (f) =>
  f.data && f.data.last_seen_action === name && (quoteId === undefined || f.data.quote_id === quoteId);

async function main() {
  const { base, record } = parseArgs(process.argv.slice(2));
  if (!base) {
    console.error("usage: node flow.mjs BASE_URL [--record DIR]   (the URL `symmio-harness serve --chain anvil` prints)");
    process.exit(2);
  }
  const solverUrl = process.env.SYMMIO_SOLVER_URL || `${base}/solver`;
  const cohUrl = process.env.SYMMIO_COH_URL || `${base}/coh`;
  const log = (step, text) => console.log(`${step.padEnd(4)} ${text}`);
  const waitSeconds = contextWaitSeconds();

  // --- what the server tells a frontend (once it answers: it may still be starting)
  enter("setup");
  await waitForContext(`${base}/context`, waitSeconds);
  const context = await http("GET", `${base}/context`);
  contextFile(context);
  for (const key of [...SERVE_KEYS, "hedger", "affiliate", "symbols"])
    if (!(key in context)) fail("GET /context", `no ${key}`);
  const abis = {};
  for (const name of ["AccountLayer", "InstantLayer", "SymmioCore", "ERC20"]) {
    const served = await http("GET", `${base}/abi/${name}`);
    abis[name] = Array.isArray(served) ? served : served.abi;
  }
  const ifaces = interfaces(abis);
  const v086 = context.contracts_version === "0.8.6";
  if (v086 && !context.gasless_url) fail("GET /context", "contracts_version 0.8.6 but no gasless_url (the relay of grant operations)");
  const recorder = new Recorder(record);
  const chainNow = async () => (await provider.getBlock("latest")).timestamp;

  // --- its own wallet: a funded anvil test account (public dev key, derived, never fetched)
  enter("wallet");
  const provider = new JsonRpcProvider(context.rpc_url, undefined, { staticNetwork: true, polling: true, pollingInterval: 50 });
  const index = process.env.SYMMIO_OWNER_INDEX ? Number(process.env.SYMMIO_OWNER_INDEX) : context.test_accounts.length - 1;
  const ownerAddress = getAddress(context.test_accounts[index]);
  const owner = anvilDevWallet(ownerAddress, provider);
  if (!owner) fail("test_accounts", `${ownerAddress} is not one of anvil's dev accounts`);
  const chainId = (await provider.getNetwork()).chainId;
  if (Number(chainId) !== context.chain_id) fail("eth_chainId", `RPC chain id ${chainId}, context says ${context.chain_id}`);

  // One nonce sequence for the wallet (ethers' "pending" count can lag right after a receipt).
  const sender = new NonceManager(owner);
  const at = (address, name) => new Contract(address, abis[name], sender);
  const accountLayer = at(context.account_layer, "AccountLayer");
  const instantLayer = at(context.instant_layer, "InstantLayer");
  const token = at(context.collateral, "ERC20");
  const mined = async (step, pending) => {
    enter(`step ${step}`);
    const tx = await pending;
    const receipt = await tx.wait(1, WAIT_MS);
    if (!receipt || receipt.status !== 1) fail("transaction", `${tx.hash} reverted`);
    log(step, `${tx.hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`);
    return receipt;
  };

  // --- step 1: createSubAccounts(affiliate, [(name, metadata, core, isolationType, singleVAMode)])
  enter("step 1");
  const name = `ts-example-${Date.now()}`;
  await mined("1", accountLayer.createSubAccounts(context.affiliate, [[name, "0x", context.symmio_core, SUB_ISO.MARKET_DIRECTION, true]], GAS));
  const subs = await accountLayer.getUserSubAccountsAddresses(owner.address, 0, 1000);
  const sub = getAddress(subs[subs.length - 1]);
  log("", `sub-account ${sub}`);

  // --- step 2: approve Symmio core (the ERC20 spender), then depositForAccount on the AccountLayer
  enter("step 2");
  const decimals = Number(await token.decimals());
  const units = toTokenUnits(dec("1000"), decimals);
  if ((await token.balanceOf(owner.address)) < units) fail("balanceOf", `${owner.address} holds less than 1000 test collateral`);
  await mined("2a", token.approve(context.symmio_core, units, GAS));
  await mined("2b", accountLayer.depositForAccount(sub, units, GAS));

  // --- step 3: _call(sub, [bindToPartyB(hedger)])
  enter("step 3");
  const bind = ifaces.SymmioCore.encodeFunctionData("bindToPartyB", [context.hedger]);
  await mined("3", accountLayer._call(sub, [bind], GAS));

  // --- steps 4-5: delegations to a fresh session key and to the TP/SL bot (owner only)
  enter("step 4");
  const session = Wallet.createRandom();
  const now = await chainNow();
  const expiry = BigInt(now + 24 * 3600);
  const domain = INSTANT_LAYER_DOMAIN(context.chain_id, context.instant_layer);
  if (v086) {
    // ONE owner-signed grant operation (grantDelegations), relayed gaslessly and polled
    const grants = [
      { delegate: session.address, selectors: sessionKeySelectorsV086(ifaces.AccountLayer, ifaces.SymmioCore), expiry },
      { delegate: context.tpsl_bot, selectors: tpslBotSelectors(ifaces.SymmioCore), expiry },
    ];
    const grant = grantOperation({
      domain, owner, instantLayer: context.instant_layer, subAccount: sub, grants,
      deadline: now + 3600, salt: hexlify(randomBytes(32)),
    });
    const body = relayBody({ idempotencyKey: randomUUID(), userAddress: owner.address, operationType: "grantDelegations", operations: [grant] });
    recorder.body("grant_operation", grantOperationBody(grant), now);
    const relayUrl = operationsBase(context.gasless_url);
    const accepted = await http("POST", `${relayUrl}/gateway/relay-instant`, body);
    let request = accepted;
    const until = Date.now() + WAIT_MS;
    while (!TERMINAL_STATUSES.includes(request.status)) {
      if (Date.now() > until) fail(`GET ${relayUrl}/${accepted.request_id}`, `not terminal within ${WAIT_MS / 1000} s (status ${request.status})`);
      await sleep(250);
      request = await http("GET", `${relayUrl}/${encodeURIComponent(accepted.request_id)}`);
    }
    const relayed = await http("GET", `${relayUrl}/${encodeURIComponent(accepted.request_id)}`);
    if (relayed.status !== "succeeded") fail("gasless relay", `request ${accepted.request_id} ended ${relayed.status}: ${relayed.error_message}`);
    log("4-5", `grantDelegations relayed gaslessly: request ${accepted.request_id}, tx ${relayed.tx_hash} (fee ${accepted.paid_fee})`);
  } else {
    const selectors4 = sessionKeySelectors(ifaces.AccountLayer, ifaces.SymmioCore);
    await mined("4", instantLayer.grantDelegation([[sub, false], session.address, selectors4, expiry], GAS));
    await mined("5", instantLayer.grantDelegation([[sub, false], context.tpsl_bot, tpslBotSelectors(ifaces.SymmioCore), expiry], GAS));
  }
  enter("steps 4-5");
  if (!(await instantLayer.isDelegationActive(sub, session.address, SESSION_KEY_MARKER)))
    fail("isDelegationActive(sub, session key, 0x00000001)", "false");
  const mine = await http("GET", `${base}/context?owner=${owner.address}`);
  contextFile(mine);
  if (mine.sub_account !== sub || mine.session_key !== session.address)
    fail("GET /context?owner", `sub_account ${mine.sub_account}, session_key ${mine.session_key}`);

  // --- step 6: instant_open (market data from the solver, marks from the price service, the
  // clock from the chain)
  enter("step 6");
  const symbol = context.symbols[0];
  const marks = new MarkPrices(context.price_ws_url);
  await marks.opened;
  const { symbols: rows } = await http("GET", `${solverUrl}/api/contract-symbols`);
  const market = rows.find((r) => r.symbol_id === symbol.id);
  const leverage = 10;
  const lockedParams = await http("GET", `${solverUrl}/api/get_locked_params/${symbol.name}?leverage=${leverage}`);
  const deadline = (await chainNow()) + 3600;
  const wsUrl = `${solverUrl.replace(/^http/, "ws")}/api/ws/notifications`;
  const ws = new FrameSocket(wsUrl, {
    waitMs: WAIT_MS,
    timeoutError: (what) => new StepError("websocket", `no ${what} within ${WAIT_MS / 1000} s`),
  });
  await ws.opened;
  ws.socket.send(JSON.stringify(subscribeFrame(sub)));
  await ws.next("subscription answer", (f) => "subscribed" in f);
  const side = "long";
  const open = buildInstantOpen({
    ifaces, domain, sessionKey: session, context, subAccount: sub, symbol, side, quantity: "0.015",
    leverage, markPrice: await marks.mark(symbol.name), lockedParams, tradingFee: market.trading_fee, deadline,
    uuid: randomUUID(), salts: [hexlify(randomBytes(32)), hexlify(randomBytes(32))],
    // v0.8.6: the capped sendQuote, its SolverFeeCaps from the symbol's served minimums
    capped: v086 ? { iface: V086, caps: solverFeeCaps(market, symbol) } : undefined,
  });
  recorder.body("instant_open", open.body, await chainNow());
  const accepted = await http("POST", `${solverUrl}/api/instant_trade/instant_open`, checked("instant_open", open.body));
  const opened = await ws.next("SendQuoteTransaction frame", action("SendQuoteTransaction"));
  if (opened.data.action_status !== "success") fail("SendQuoteTransaction", `open failed: ${JSON.stringify(opened.data)}`);
  const quoteId = opened.data.quote_id;
  const va = getAddress(opened.data.va_address);
  log("6", `temp ${accepted.temp_quote_id} -> quote ${quoteId}, VA ${va}, requested price ${open.requestedPrice}`);

  // --- step 7: instant_close of part of the position, signed for the VA
  enter("step 7");
  const close = buildInstantClose({
    ifaces, domain, sessionKey: session, context, virtualAccount: va, quoteId, symbol, side,
    quantity: "0.010", markPrice: await marks.mark(symbol.name), deadline, salt: hexlify(randomBytes(32)),
  });
  recorder.body("instant_close", close.body, await chainNow());
  await http("POST", `${solverUrl}/api/instant_trade/instant_close`, checked("instant_close", close.body));
  const closed = await ws.next("FillMarketOrderInstantClose frame", action("FillMarketOrderInstantClose", quoteId));
  if (closed.data.action_status !== "success") fail("FillMarketOrderInstantClose", `close failed: ${JSON.stringify(closed.data)}`);
  log("7", `closed ${closed.data.filled_amount_close} of quote ${quoteId}`);

  // --- step 8: TP/SL under the domain the COH serves; a mock price move triggers the bot
  enter("step 8");
  const spec = await http("GET", `${cohUrl}/api/v5/signing-spec`);
  const mark = await marks.mark(symbol.name);
  const takeProfit = fixed(roundDown(mul(dec(mark), dec("1.05")), symbol.price_precision), symbol.price_precision);
  const tpsl = buildTpsl({
    domain: spec.domain, sessionKey: session, subAccount: sub, virtualAccount: va, affiliate: context.affiliate,
    quoteId, symbol, side, quantity: "0.005", markPrice: mark, takeProfit,
    salt: BigInt(hexlify(randomBytes(32))),
  });
  recorder.body("tpsl", tpsl.body, await chainNow());
  const stored = await http("POST", `${cohUrl}/api/v5/`, checked("tpsl", tpsl.body));
  // the marks the order was judged by: read before the mock price move
  recorder.context(await http("GET", `${base}/context?owner=${owner.address}`), { owner: owner.address, virtual_account: va });
  const moved = await http("POST", `${cohUrl}/mock/price`, { symbol_id: symbol.id, price: takeProfit });
  const triggered = await ws.next("TP close frame", action("FillMarketOrderInstantClose", quoteId));
  if (triggered.data.action_status !== "success") fail("FillMarketOrderInstantClose", `TP close failed: ${JSON.stringify(triggered.data)}`);
  log("8", `COH order ${stored.coh_quote_id}; price ${moved.price} triggered ${moved.triggered.length} leg(s); closed by the bot`);
  ws.close();
  marks.close();
  console.log(`steps 1-8 done${v086 ? " (v0.8.6, grants as a relayed operation)" : ""}: owner ${owner.address}, sub-account ${sub}, quote ${quoteId}, VA ${va}`);
}

function roundDown(x, places) {
  const s = 10n ** BigInt(places);
  return { n: (x.n * s) / x.d, d: s };
}

main().catch((err) => {
  const why = err instanceof StepError ? err.message : `unexpected: ${err && err.stack ? err.stack.split("\n")[0] : err}`;
  console.error(`${current}: ${why}`);
  process.exit(1);
});
