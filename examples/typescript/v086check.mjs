// Offline v0.8.6 cross-check with ethers v6 and viem: for the v0.8.6 operations a vector written
// by the Python suite lists (tests/test_typescript_v086.py: capped opens, grant operations single
// and batch), ethers and viem must each compute the same EIP-712 digest, recover the declared
// signer from the signature and find the selector the real-world notes give (recomputed here
// from the function signatures spelled below, not taken from Python); ethers also decodes the
// callData and re-encodes it to the same bytes. No server, no chain, no network.
//
//   node examples/typescript/v086check.mjs VECTOR.json
//
// Exit 0 when everything agrees; 1 with each difference otherwise.

import { readFileSync } from "node:fs";
import { Interface, TypedDataEncoder, getAddress, verifyTypedData } from "ethers";
import { hashTypedData, recoverTypedDataAddress, toFunctionSelector } from "viem";
import { INSTANT_LAYER_DOMAIN, SIGNED_OPERATION_TYPES } from "./symmio.mjs";

/** A wire value as viem takes it: uints as bigint (the wire writes them as decimal strings). */
function forViem(type, value) {
  if (type.endsWith("[]")) return value.map((v) => forViem(type.slice(0, -2), v));
  const struct = SIGNED_OPERATION_TYPES[type];
  if (struct) return Object.fromEntries(struct.map((f) => [f.name, forViem(f.type, value[f.name])]));
  return type.startsWith("uint") ? BigInt(value) : value;
}

// v0.8.6 functions (real-world notes §2.1, §2.5), spelled here from the notes.
const UPNL_SIG = "(bytes,uint256,int256,uint256,bytes,(uint256,address,address))";
const DELEGATION_INFO = "((address,bool),address,bytes4[],uint256)";
const V086 = new Interface([
  `function sendQuote(address[],uint256,uint8,uint8,uint256,uint256,uint256,uint256,uint256,uint256,uint256,address,${UPNL_SIG},bytes,(uint256,uint256))`,
  `function grantDelegation(${DELEGATION_INFO})`,
  `function grantDelegations(${DELEGATION_INFO}[])`,
]);
/** The selectors the notes state (recomputed with keccak there); ethers must derive the same. */
const KNOWN = { sendQuote: "0x0ac30baf", grantDelegation: "0xfd7f4c5e", grantDelegations: "0x9cfb6914" };

async function main() {
  const vector = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const failures = [];
  for (const [name, selector] of Object.entries(KNOWN)) {
    const got = V086.getFunction(name).selector;
    if (got !== selector) failures.push(`${name}: ethers derives ${got}, the notes say ${selector}`);
    const viem = toFunctionSelector(V086.getFunction(name).format("sighash"));
    if (viem !== selector) failures.push(`${name}: viem derives ${viem}, the notes say ${selector}`);
  }
  const domain = INSTANT_LAYER_DOMAIN(vector.chain_id, vector.instant_layer);
  for (const c of vector.cases) {
    const op = c.body.signedOperation;
    const digest = TypedDataEncoder.hash(domain, SIGNED_OPERATION_TYPES, op);
    if (digest !== c.digest) failures.push(`${c.name}: digest ${digest}, Python ${c.digest}`);
    const signer = verifyTypedData(domain, SIGNED_OPERATION_TYPES, op, c.body.signature);
    if (signer !== getAddress(op.signer)) failures.push(`${c.name}: recovers ${signer}, declared ${op.signer}`);
    const typed = {
      domain: { ...domain, chainId: BigInt(domain.chainId) },
      types: SIGNED_OPERATION_TYPES,
      primaryType: "SignedOperation",
      message: forViem("SignedOperation", op),
    };
    const viemDigest = hashTypedData(typed);
    if (viemDigest !== c.digest) failures.push(`${c.name}: viem digest ${viemDigest}, Python ${c.digest}`);
    const viemSigner = await recoverTypedDataAddress({ ...typed, signature: c.body.signature });
    if (viemSigner !== getAddress(op.signer)) failures.push(`${c.name}: viem recovers ${viemSigner}, declared ${op.signer}`);
    const call = V086.parseTransaction({ data: op.callData });
    if (call === null || call.name !== c.function) {
      failures.push(`${c.name}: callData is ${call?.name ?? "no v0.8.6 function"}, expected ${c.function}`);
      continue;
    }
    const again = V086.encodeFunctionData(call.fragment, call.args);
    if (again !== op.callData.toLowerCase()) failures.push(`${c.name}: callData does not re-encode canonically`);
    if (c.solver_fee_caps) {
      const caps = call.args[14].map(String);
      if (caps.join() !== c.solver_fee_caps.join()) failures.push(`${c.name}: SolverFeeCaps ${caps}, Python ${c.solver_fee_caps}`);
    }
    if (c.grants) {
      const infos = call.name === "grantDelegations" ? call.args[0] : [call.args[0]];
      const got = infos.map((i) => [getAddress(i[0][0]), getAddress(i[1]), i[2].join(), String(i[3])]);
      const want = c.grants.map((g) => [getAddress(g[0]), getAddress(g[1]), g[2].join(), String(g[3])]);
      if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${c.name}: delegations ${JSON.stringify(got)}, Python ${JSON.stringify(want)}`);
    }
  }
  if (failures.length) {
    for (const f of failures) console.error(f);
    process.exit(1);
  }
  console.log(`v086check: ${vector.cases.length} operations: digests, signers (ethers and viem), selectors and calldata equal Python's`);
}

await main();
