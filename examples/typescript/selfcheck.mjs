// Offline self-check: for the inputs of a vector written by the Python suite
// (tests/test_typescript_example.py), the bodies this example builds (symmio.mjs: pricing, calldata,
// EIP-712, wire form, signatures) must equal symmio-harness's own, digest for digest, and match the
// JSON Schemas in schemas/ (ajv, draft 2020-12). No server, no chain, no network.
//
//   node examples/typescript/selfcheck.mjs VECTOR.json
//
// Exit 0 when everything is equal; 1 with the first difference (its JSON path) otherwise.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet } from "ethers";
import {
  CONDITIONAL_ORDER_WIRE_TYPES,
  EIP712_DOMAIN,
  INSTANT_LAYER_DOMAIN,
  SIGNED_OPERATION_TYPES,
  buildInstantClose,
  buildInstantOpen,
  buildTpsl,
  interfaces,
} from "./symmio.mjs";
import { loadSchemas } from "./schemas.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/** The first path where `a` and `b` differ (objects compared by keys, arrays by position), or null. */
export function firstDifference(a, b, path = "$") {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null))
    return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  if (Array.isArray(a)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && typeof a === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!(k in a) || !(k in b)) return `${path}.${k}: present on one side only`;
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

function main() {
  const vectorPath = process.argv[2];
  if (!vectorPath) {
    console.error("usage: node selfcheck.mjs VECTOR.json (written by tests/test_typescript_example.py)");
    process.exit(2);
  }
  const vector = readJson(vectorPath);
  const abis = Object.fromEntries(
    ["AccountLayer", "InstantLayer", "SymmioCore"].map((n) => [n, readJson(join(repo, "contracts_abi", `${n}.json`)).abi]),
  );
  const ifaces = interfaces(abis);
  const schemas = loadSchemas(join(repo, "schemas"));
  const failures = [];
  const check = (what, ts, py) => {
    const d = firstDifference(ts, py);
    if (d) failures.push(`${what}: TypeScript vs Python differ at ${d}`);
  };

  // The pinned types, spelled in symmio.mjs, against eip712.eip712_types.
  check("SignedOperation types", { EIP712Domain: EIP712_DOMAIN, ...SIGNED_OPERATION_TYPES }, vector.types.SignedOperation);
  check("ConditionalOrder types", CONDITIONAL_ORDER_WIRE_TYPES, vector.types.ConditionalOrder);

  const sessionKey = new Wallet(vector.session_key);
  const context = vector.context;
  const domain = INSTANT_LAYER_DOMAIN(context.chain_id, context.instant_layer);
  const symbolOf = (id) => context.symbols.find((s) => s.id === id);

  for (const c of vector.cases) {
    const i = c.inputs;
    let built;
    if (c.kind === "instant_open") {
      built = buildInstantOpen({
        ifaces, domain, sessionKey, context, subAccount: i.sub_account, symbol: symbolOf(i.symbol_id),
        side: i.side, quantity: i.quantity, leverage: i.leverage, markPrice: i.mark_price,
        lockedParams: i.locked_params, tradingFee: i.trading_fee, deadline: i.deadline,
        slippagePct: i.slippage_pct, uuid: i.uuid, salts: i.salts,
      });
    } else if (c.kind === "instant_close") {
      built = buildInstantClose({
        ifaces, domain, sessionKey, context, virtualAccount: i.virtual_account, quoteId: i.quote_id,
        symbol: symbolOf(i.symbol_id), side: i.side, quantity: i.quantity, markPrice: i.mark_price,
        deadline: i.deadline, slippagePct: i.slippage_pct, salt: i.salt,
      });
    } else {
      built = buildTpsl({
        domain: i.domain, sessionKey, subAccount: i.sub_account, virtualAccount: i.virtual_account,
        affiliate: i.affiliate, quoteId: i.quote_id, symbol: symbolOf(i.symbol_id), side: i.side,
        quantity: i.quantity, markPrice: i.mark_price, takeProfit: i.take_profit ?? undefined,
        stopLoss: i.stop_loss ?? undefined, salt: i.salt,
      });
      built.digests = [built.digest];
    }
    check(`${c.name} digests`, built.digests, c.digests);
    check(`${c.name} body`, built.body, c.body);
    const validate = schemas[c.kind];
    if (!validate(built.body)) failures.push(`${c.name}: schema ${c.kind}: ${JSON.stringify(validate.errors[0])}`);
  }

  if (failures.length) {
    for (const f of failures) console.error(f);
    process.exit(1);
  }
  console.log(`selfcheck: ${vector.cases.length} cases: bodies, signatures and EIP-712 digests equal Python's; every body matches its schema`);
}

main();
