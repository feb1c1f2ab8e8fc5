// Package snapshot is Prefer's file format: one msgpack document that holds a whole
// state — items, raters, judgments, guidelines, models, training runs — and whose
// SHA-256 is its id.
//
// It is the only package in core that imports msgpack. Marshal encodes canonically
// (equal content gives equal bytes); Unmarshal decodes with every length bounded by
// the input, so hostile or truncated files give an error wrapping ErrCorrupt,
// ErrNotSnapshot or ErrTooNew, never a panic.
//
// # Schema, version 2
//
// Version 2 is version 1 plus revisions: the judgment key revises, reviews of any
// kind of judgment (not only flags), edits that carry new content, and the verdict
// "withdraw". A snapshot is written as version 2 only when it holds one of these,
// and as version 1 otherwise (so its bytes and id are those a version-1 writer
// gives); a version-1 reader refuses a version-2 file rather than count revised or
// rejected judgments as standing.
//
// The file is plain msgpack (no extension types), readable with any msgpack library.
// Every map has string keys, written in sorted order. Optional keys are left out when
// empty or zero. Integers use their shortest msgpack form; scalar floats are always
// float64. A reader must ignore keys it does not know.
//
// Top level (a map):
//
//	format      str    always "prefer.snapshot"
//	version     int    schema version, 1 or 2 (above); readers refuse newer versions
//	provenance  map    how it was made (below)
//	items       array  of item maps
//	raters      array  of rater maps
//	judgments   array  of judgment maps, in canonical order (time, then id)
//	guidelines  array  of guideline maps
//	models      array  of model maps
//	runs        array  of run maps
//
// provenance: tool (str, "prefer 0.1.0"), created (str, RFC 3339, optional — left
// out by seeded commands), parent (str, id of the snapshot this one came from),
// command (str), seed (uint), note (str).
//
// item: id (str), prompt (str), responses (array), tags (array of str),
// gold_best (str, id of the response known to be best: a gold question).
//
// response: id (str, unique in its item; "h" + 12 hex digits of SHA-256 of the text
// for generated and imported responses), text (str), source (str: "reference",
// "policy", "rewrite", "imported", "generated"), gold (float, known utility, demo
// domain only), parts (array of str, how it was composed), ref_prob (float,
// reference policy probability among the item's candidates), origins (array of
// origin maps: where a generated response came from, one per sampling).
//
// origin (docs/models.md): endpoint (str, host[:port] of the model server — never a
// path, a query or credentials), model (str), api (str: "chat", "completions"),
// system (str, the system message sent), temperature, top_p (float), top_k,
// max_tokens (int), stop (array of str) — each left out when not sent —, seed (int,
// the seed sent; absent when none was), k (int, which of the K answers asked per
// prompt, 0-based), finish (str, the server's finish_reason). No API key, header or
// time is ever recorded.
//
// rater: id, name, group (str), kind (str: "human", "simulated", "ai"), profile (str,
// a simulated rater's settings).
//
// judgment: id (str, unique), kind (str: "compare", "rank", "rate", "rewrite",
// "flag", "thumb", "review"), item, rater (str), time (int, unix ms), session (str),
// seq (int, 1-based position in the session), ms (int, milliseconds on the item),
// guideline (int, version in force), reasons (array of str), note (str), revises (str,
// the id of the earlier judgment of the same rater, kind and item that this one
// supersedes; version 2), pos (int ≥ 1, optional: the judgment's place in the input
// it was imported from, which the exports keep — feedback.ExportOrder; a reader
// that does not know it loses only that order, so it needs no new version), and by
// kind:
//
//	compare  a, b (response ids), choice ("a", "b", "tie", "both-bad"),
//	         strength (int 1..3, optional), left ("a" or "b": shown on the left)
//	rank     shown (array of response ids in display order),
//	         order (array of int: indices into shown, best first)
//	rate     response, axis ("helpful", "harmless", "honest", …), score (int 1..7)
//	rewrite  response (the one rewritten), text (the new answer)
//	flag     response, category ("harmful", "biased", "misleading", "private")
//	thumb    response, score (+1 or −1)
//	review   target (id of the judgment reviewed: a flag in version 1, any kind
//	         but review in version 2), verdict ("accept", "reject", "edit";
//	         "withdraw" in version 2: the target's own rater takes it back),
//	         and for an edit the new content in the keys of the target's kind:
//	         choice and strength, order, score, text, category; reasons and
//	         note replace the target's when given
//
// Which version of a judgment counts (feedback.Current): the latest in canonical
// order that no review rejected or withdrew, with a lead's edit applied; the latest
// review of a version decides it. Every version and review stays in the file.
//
// guideline: version (int), text (str), time (int, unix ms).
//
// model: name (str), family (str: "tabular", "linear", "mlp", "ensemble", "head",
// "candidate-policy", "lm", …), config (map of str → str/bool/int/float/array/map),
// tensors (map of name → tensor), metrics (map of name → float), run (str, the run
// that produced it).
//
// tensor: shape (array of int), dtype (str, "f32"), data (bin: the values as
// little-endian IEEE 754 float32, row-major, 4 × product(shape) bytes).
//
// run: name (str), kind (str: "train-rm", "optimize", "sweep", "pretrain", …), seed
// (uint), config (map), series (map of name → array of float64, one value per step),
// summary (map of name → float), notes (array of str, e.g. reward-hacking alerts).
//
// # Reading it elsewhere
//
// Python: msgpack.unpackb(open(path, "rb").read(), raw=False); a tensor is
// numpy.frombuffer(t["data"], "<f4").reshape(t["shape"]).
// JavaScript: decode(bytes) from @msgpack/msgpack; element i of a tensor is
// new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength).getFloat32(4*i, true)
// (the byte view may be unaligned or share a larger buffer, so read through a DataView).
package snapshot
