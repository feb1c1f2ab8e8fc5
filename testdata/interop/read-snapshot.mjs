// Reads a Prefer snapshot with @msgpack/msgpack alone and prints a JSON summary of
// the documented fields, so a Go test can compare it with what Prefer wrote.
// Usage: node read-snapshot.mjs FILE
import { readFileSync } from "node:fs";
import { decode } from "@msgpack/msgpack";

const snap = decode(readFileSync(process.argv[2]));
if (snap.format !== "prefer.snapshot") throw new Error("format is " + snap.format);
const tensors = {};
for (const m of snap.models ?? []) {
  for (const [name, t] of Object.entries(m.tensors ?? {})) {
    if (t.dtype !== "f32") throw new Error("dtype " + t.dtype);
    // data is a byte view (a Node Buffer may share a larger pool): read it through a
    // DataView as explicit little-endian float32.
    const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const length = t.data.byteLength / 4;
    const first = [];
    for (let i = 0; i < Math.min(4, length); i++) first.push(dv.getFloat32(4 * i, true));
    tensors[m.name + "/" + name] = { shape: t.shape, first, length };
  }
}
const kinds = {};
for (const j of snap.judgments ?? []) kinds[j.kind] = (kinds[j.kind] ?? 0) + 1;
const first = (snap.items ?? [])[0];
console.log(JSON.stringify({
  format: snap.format,
  version: snap.version,
  tool: snap.provenance?.tool,
  items: (snap.items ?? []).length,
  responses: (snap.items ?? []).reduce((n, it) => n + it.responses.length, 0),
  raters: (snap.raters ?? []).map((r) => r.id),
  judgments_by_kind: kinds,
  first_item: first ? { id: first.id, prompt: first.prompt, response_ids: first.responses.map((r) => r.id), gold: first.responses.map((r) => r.gold ?? null) } : null,
  first_judgment: (snap.judgments ?? [])[0] ?? null,
  tensors,
  runs: (snap.runs ?? []).map((r) => ({ name: r.name, kind: r.kind, seed: Number(r.seed ?? 0), series: Object.keys(r.series ?? {}).sort() })),
}));
