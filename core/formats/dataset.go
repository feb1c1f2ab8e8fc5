package formats

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"

	"prefer/core/feedback"
)

// Dataset is what an importer produces and an exporter consumes: items with their
// responses, the raters named by the judgments, and the judgments.
//
// Importers give items and raters in order of first appearance and judgments in
// file order, with duplicates (same id, same content) dropped. Response ids are
// feedback.ResponseID(text); item ids default to ItemID(prompt).
type Dataset struct {
	Items     []feedback.Item
	Raters    []feedback.Rater
	Judgments []feedback.Judgment
	// Compact, set only by an import with Options.Compact, holds the items and
	// judgments instead of Items and Judgments (which are then empty); Expand moves
	// them there.
	Compact *Compact
}

// ItemID returns the default id of the item with the given prompt: "p" followed by
// the first 16 hex digits of the prompt's SHA-256. Every importer uses it when the
// format gives no item id, so the same prompt from two files (or two formats) is the
// same item.
func ItemID(prompt string) string {
	sum := sha256.Sum256([]byte(prompt))
	return "p" + hex.EncodeToString(sum[:8])
}

// Options tune an import. The zero value is the default: strict, 64 MiB records.
type Options struct {
	// Lenient skips bad records (and counts them in Report.Skipped) instead of failing
	// on the first one. Structural errors that make the rest of the input unreadable
	// (an unclosed JSON array, corrupt gzip) still fail.
	Lenient bool
	// MaxRecord is the longest record accepted, in bytes; 0 means DefaultMaxRecord.
	MaxRecord int
	// MaxRecords, when > 0, fails the import (a *TooManyRecordsError) at the record
	// after the MaxRecords-th, before it is decoded: a bound on what a file can make
	// the import keep, whatever it decompresses to.
	MaxRecords int
	// Warn, when not nil, receives warnings while the input is read: once, when a
	// compressed input has expanded to more than ExpansionWarn × its compressed size
	// (a small file of repeated records can decompress to gigabytes).
	Warn func(msg string)
	// Rewrite, when not nil, rewrites every record before the format reads it:
	// MapFields(maps) renames fields (--map FIELD=PATH). A function rather than the
	// maps, so that what does not rename fields (the browser's worker) does not link
	// the code that does.
	Rewrite func(record []byte) ([]byte, error)
	// InputSize, when > 0, is the size in bytes of the input as it is read (compressed
	// or not): the importer then grows its items and judgments to the count the rest of
	// the input implies (records so far × size / bytes read) instead of by doubling,
	// which at 300,000 pairs allocated 0.9 GB and held the old and new arrays together
	// at the peak. A growth reserves at most 16× what is held or twice the input's size in
	// bytes, so a file whose first records are short cannot make it reserve far more.
	InputSize int64
	// Compact keeps the imported items and judgments in Dataset.Compact (about half
	// the memory) instead of Dataset.Items and Dataset.Judgments: for a caller
	// that writes them out one at a time (prefer import, snapshot.EncodeFrom).
	Compact bool
}

// ExpansionWarn is the decompressed-to-compressed ratio past which an import warns.
// Real gzipped JSON lines compress 3–10× (the HH-RLHF test split 4.4×).
const ExpansionWarn = 100

// TooManyRecordsError is an import stopped at Options.MaxRecords.
type TooManyRecordsError struct{ Max int }

func (e *TooManyRecordsError) Error() string {
	return fmt.Sprintf("the input holds more than %d records, the limit of this import; raise it (prefer import --max-records N) if the file is what you meant", e.Max)
}

// MaxProblems is how many skipped-record messages a Report keeps.
const MaxProblems = 20

// Report tells what an import read.
type Report struct {
	Format     string   `json:"format"`
	Detected   string   `json:"detected,omitempty"` // why ImportAuto chose Format
	Records    int      `json:"records"`            // non-blank lines or array elements read
	Judgments  int      `json:"judgments"`          // judgments imported
	Duplicates int      `json:"duplicates"`         // records repeating a judgment id already imported with equal content
	Ignored    int      `json:"ignored"`            // records or annotations deliberately left out (e.g. cancelled annotations)
	Skipped    int      `json:"skipped"`            // bad records skipped (Options.Lenient)
	Problems   []string `json:"problems,omitempty"`
}

// LineError is a problem with one record of the input: Line is 1-based, as editors
// count. Its message says what is wrong and what to write instead.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ExportReport tells what an export wrote and what it left out, by reason
// ("tie", "both-bad", "rank", …).
type ExportReport struct {
	Format  string         `json:"format"`
	Records int            `json:"records"`
	Skipped map[string]int `json:"skipped"`
}

func (r *ExportReport) skip(reason string) {
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	r.Skipped[reason]++
}

// SkippedTotal returns the number of judgments left out.
func (r *ExportReport) SkippedTotal() int {
	n := 0
	for _, v := range r.Skipped {
		n += v
	}
	return n
}

// Importers lists the formats Import reads, in documentation order.
var Importers = []string{"jsonl", "trl", "hh-rlhf", "labelstudio", "summarize", "shp"}

// Exporters lists the formats Export writes, in documentation order. The
// "safetensors" format writes models, not feedback: see WriteSafetensors.
var Exporters = []string{"jsonl", "trl", "trl-conversational", "kto", "hh-rlhf", "safetensors"}

// Import reads a dataset in the named format (one of Importers).
func Import(format string, r io.Reader, opt Options) (*Dataset, *Report, error) {
	switch format {
	case "jsonl":
		return ReadJSONL(r, opt)
	case "trl":
		return ReadTRL(r, opt)
	case "hh-rlhf", "hh":
		return ReadHH(r, opt)
	case "labelstudio", "label-studio":
		return ReadLabelStudio(r, opt)
	case "summarize":
		return ReadSummarize(r, opt)
	case "shp":
		return ReadSHP(r, opt)
	case "auto":
		return ImportAuto(r, opt)
	}
	return nil, nil, fmt.Errorf("unknown import format %q; use one of %s, or auto", format, strings.Join(Importers, ", "))
}

// Export writes d in the named format (one of Exporters except "safetensors").
func Export(format string, w io.Writer, d *Dataset) (*ExportReport, error) {
	switch format {
	case "jsonl":
		return WriteJSONL(w, d)
	case "trl":
		return WriteTRL(w, d)
	case "trl-conversational":
		return WriteTRLConversational(w, d)
	case "kto":
		return WriteKTO(w, d)
	case "hh-rlhf", "hh":
		return WriteHH(w, d)
	case "safetensors":
		return nil, fmt.Errorf("safetensors holds models, not feedback; use WriteSafetensors")
	}
	return nil, fmt.Errorf("unknown export format %q; use one of %s", format, strings.Join(Exporters, ", "))
}

// Stats counts what a dataset holds.
type Stats struct {
	Items     int                   `json:"items"`
	Responses int                   `json:"responses"`
	Raters    int                   `json:"raters"`
	Judgments int                   `json:"judgments"`
	ByKind    map[feedback.Kind]int `json:"by_kind"`
}

// Stats returns the counts of d.
func (d *Dataset) Stats() Stats {
	s := Stats{Items: len(d.Items), Raters: len(d.Raters), Judgments: len(d.Judgments), ByKind: map[feedback.Kind]int{}}
	for i := range d.Items {
		s.Responses += len(d.Items[i].Responses)
	}
	for _, j := range d.Judgments {
		s.ByKind[j.Kind]++
	}
	if c := d.Compact; c != nil {
		s.Items += len(c.items)
		for i := range c.items {
			s.Responses += len(c.items[i].resp)
		}
		s.Judgments += c.Len()
		for i := range c.Len() {
			s.ByKind[c.Kind(i)]++
		}
	}
	return s
}

// Merge adds src to d: items with the same id merge their responses (by id) and
// tags, raters merge by id, and judgments merge as a set union by id. It returns how
// many judgments were new and how many conflicted (same id, different content; the
// winner is chosen canonically as in feedback.Log, whatever the merge order). The
// import positions of src (Judgment.Pos) are shifted past d's, as its records came
// after d's; a judgment in both keeps d's. The judgments of d end up in canonical
// log order. An item id whose prompt differs
// between d and src is an error, and d is then left unchanged (but for Expand).
// Compact judgments are expanded first.
func (d *Dataset) Merge(src *Dataset) (added, conflicts int, err error) {
	d.Expand()
	src.Expand()
	byID := make(map[string]int, len(d.Items))
	for i := range d.Items {
		byID[d.Items[i].ID] = i
	}
	for i := range src.Items {
		s := &src.Items[i]
		if k, ok := byID[s.ID]; ok && d.Items[k].Prompt != s.Prompt {
			return 0, 0, fmt.Errorf("item %q has two different prompts: %s and %s; give one of them another item id",
				s.ID, quoteShort(d.Items[k].Prompt), quoteShort(s.Prompt))
		}
	}
	for i := range src.Items {
		s := &src.Items[i]
		k, ok := byID[s.ID]
		if !ok {
			byID[s.ID] = len(d.Items)
			d.Items = append(d.Items, cloneItem(s))
			continue
		}
		it := &d.Items[k]
		have := make(map[string]int, len(it.Responses))
		for r := range it.Responses {
			have[it.Responses[r].ID] = r
		}
		for _, r := range s.Responses {
			if at, ok := have[r.ID]; ok {
				it.Responses[at].Parts = unionSorted(it.Responses[at].Parts, r.Parts)
				continue
			}
			have[r.ID] = len(it.Responses)
			it.Responses = append(it.Responses, cloneResponse(r))
		}
		it.Tags = unionSorted(it.Tags, s.Tags)
		if it.GoldBest == "" {
			it.GoldBest = s.GoldBest
		}
	}
	raters := make(map[string]int, len(d.Raters))
	for i := range d.Raters {
		raters[d.Raters[i].ID] = i
	}
	for _, r := range src.Raters {
		if k, ok := raters[r.ID]; ok {
			fillRater(&d.Raters[k], r)
			continue
		}
		raters[r.ID] = len(d.Raters)
		d.Raters = append(d.Raters, r)
	}
	// src's import positions come after d's, as its records came after d's: the
	// exports write the rows of the files of one import in the order given.
	last := 0
	for k := range d.Judgments {
		last = max(last, d.Judgments[k].Pos)
	}
	log := feedback.NewLog(d.Judgments...)
	other := feedback.NewLog()
	other.Grow(len(src.Judgments))
	for _, j := range src.Judgments {
		if j.Pos > 0 {
			j.Pos += last
		}
		other.Append(j)
	}
	added, conflicts = log.Merge(other)
	d.Judgments = append([]feedback.Judgment(nil), log.All()...)
	return added, conflicts, nil
}

// fillRater sets the empty fields of dst from src.
func fillRater(dst *feedback.Rater, src feedback.Rater) {
	if dst.Name == "" {
		dst.Name = src.Name
	}
	if dst.Group == "" {
		dst.Group = src.Group
	}
	if dst.Kind == "" {
		dst.Kind = src.Kind
	}
	if dst.Profile == "" {
		dst.Profile = src.Profile
	}
}

func cloneItem(it *feedback.Item) feedback.Item {
	c := *it
	c.Responses = make([]feedback.Response, len(it.Responses))
	for i, r := range it.Responses {
		c.Responses[i] = cloneResponse(r)
	}
	c.Tags = append([]string(nil), it.Tags...)
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	return c
}

func cloneResponse(r feedback.Response) feedback.Response {
	if r.Gold != nil {
		g := *r.Gold
		r.Gold = &g
	}
	if len(r.Parts) > 0 {
		r.Parts = append([]string(nil), r.Parts...)
	}
	return r
}

// unionSorted returns the sorted union of two string sets (nil when empty).
func unionSorted(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, s := range a {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// quoteShort quotes s, cut to 60 bytes (on a rune boundary) for messages.
func quoteShort(s string) string {
	const n = 60
	if len(s) <= n {
		return fmt.Sprintf("%q", s)
	}
	cut := n
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}
