// Package formats reads and writes preference datasets: Prefer's own JSON lines,
// Hugging Face TRL preference data (standard, implicit prompt, conversational, and
// unpaired KTO), Anthropic HH-RLHF, Label Studio pairwise exports and OpenAI's
// summarize-from-feedback comparisons; it writes JSON lines, TRL, TRL conversational,
// KTO, HH-RLHF, and the models of a snapshot as safetensors.
//
// Importers read from an io.Reader (gzip recognised by its magic bytes; JSON lines or
// one JSON array, chosen by the first byte) and return a *Dataset of items, raters and
// judgments. They stream: one record is held at a time, and items, responses and
// judgment ids are found through maps, so an import is linear in its input.
//
// Identity rules shared by every format:
//   - A response is identified by its text within an item: its id is
//     feedback.ResponseID(text).
//   - An item's id defaults to ItemID(prompt), so the same prompt from two files or
//     two formats is one item.
//   - A judgment keeps the id its record gives ("id" in Prefer's JSON lines); a
//     record without one gets an id derived from its content (format, prompt and every
//     field of the judgment) and the number of equal records before it. Re-importing a
//     file gives the same ids, so merging the result into a snapshot is idempotent,
//     and reordering or appending records leaves existing ids unchanged.
//
// Errors name the line (1-based) and say what to write instead:
//
//	line 17: "choice" must be a, b, tie or both-bad, not "left"
//
// Blank lines are skipped. By default the first bad record fails the import;
// Options.Lenient skips bad records and counts them. A record longer than
// Options.MaxRecord (64 MiB by default) is an error, never an unbounded allocation.
//
// Exporters write a *Dataset to an io.Writer. Prefer's JSON lines round-trip every
// kind of judgment exactly; TRL and HH-RLHF round-trip the data they carry (decided
// comparisons), and the export report counts what a format cannot hold (ties,
// both-bad, other kinds). WriteSafetensors writes model tensors in the safetensors
// layout.
//
// The formats, their fields and every mapping rule are documented in docs/formats.md.
package formats
