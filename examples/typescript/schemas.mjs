// The repository's JSON Schemas (schemas/*.schema.json, draft 2020-12), compiled with ajv.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";

export const SCHEMA_FILES = {
  instant_open: "instant_open.schema.json",
  instant_close: "instant_close.schema.json",
  tpsl: "tpsl.schema.json",
  context: "context.schema.json",
};

/** kind -> ajv validate function (its `.errors` says why a body does not match). */
export function loadSchemas(dir) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  return Object.fromEntries(
    Object.entries(SCHEMA_FILES).map(([kind, file]) => [kind, ajv.compile(JSON.parse(readFileSync(join(dir, file), "utf8")))]),
  );
}
