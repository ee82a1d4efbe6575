// What the example scripts share as command-line programs: their arguments (BASE_URL, --record
// DIR) and the recording of every body they send in `symmio-harness demo --record`'s layout.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** BASE_URL (or SYMMIO_SERVE_URL) and --record DIR (or SYMMIO_RECORD_DIR). */
export function parseArgs(argv) {
  let base = process.env.SYMMIO_SERVE_URL || "";
  let record = process.env.SYMMIO_RECORD_DIR || null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--record") record = argv[++i];
    else if (argv[i].startsWith("--record=")) record = argv[i].slice(9);
    else base = argv[i];
  }
  return { base: base.replace(/\/$/, ""), record };
}

/** `symmio-harness demo --record`'s layout: DIR/NN-<kind>.json per body sent, DIR/context.json. */
export class Recorder {
  constructor(directory) {
    this.directory = directory;
    this.count = 0;
    this.recordedAt = null;
    if (directory) mkdirSync(directory, { recursive: true });
  }
  body(kind, body, chainTime) {
    this.recordedAt ??= chainTime; // validate judges the deadlines at the first body's time
    this.count += 1;
    if (this.directory) writeFileSync(join(this.directory, `${String(this.count).padStart(2, "0")}-${kind}.json`), `${JSON.stringify(body, null, 2)}\n`);
  }
  /** The served context (GET /context?owner=) with what the recorded bodies were signed for. */
  context(served, extra) {
    if (!this.directory) return;
    const context = { ...served, ...extra, recorded_at: this.recordedAt };
    writeFileSync(join(this.directory, "context.json"), `${JSON.stringify(context, null, 2)}\n`);
  }
}
