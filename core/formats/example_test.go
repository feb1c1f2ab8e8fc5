package formats_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"prefer/core/formats"
	"prefer/core/snapshot"
)

func ExampleReadTRL() {
	src := `{"prompt": "The sky is", "chosen": " blue.", "rejected": " green."}
{"chosen": "2+2 is 4", "rejected": "2+2 is 5"}
{"prompt": "Is water wet?", "completion": "Yes.", "label": true}
`
	d, rep, err := formats.ReadTRL(strings.NewReader(src), formats.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	text := map[string]string{}
	prompt := map[string]string{}
	for _, it := range d.Items {
		prompt[it.ID] = it.Prompt
		for _, r := range it.Responses {
			text[r.ID] = r.Text
		}
	}
	for _, j := range d.Judgments {
		switch j.Kind {
		case "compare":
			fmt.Printf("%q: %q beats %q\n", prompt[j.Item], text[j.Winner()], text[j.Loser()])
		case "thumb":
			fmt.Printf("%q: %q thumb %+d\n", prompt[j.Item], text[j.Response], j.Score)
		}
	}
	fmt.Println(rep.Records, "records,", len(d.Items), "items")
	// The separator TRL's concatenation needs is the completions' leading space; it
	// is not part of the responses (the TRL export puts it back).
	// Output:
	// "The sky is": "blue." beats "green."
	// "2+2 is": "4" beats "5"
	// "Is water wet?": "Yes." thumb +1
	// 3 records, 3 items
}

func ExampleReadJSONL_errors() {
	src := `{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"a"}
{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"left"}
`
	_, _, err := formats.ReadJSONL(strings.NewReader(src), formats.Options{})
	fmt.Println(err)
	_, rep, _ := formats.ReadJSONL(strings.NewReader(src), formats.Options{Lenient: true})
	fmt.Println(rep.Judgments, "imported,", rep.Skipped, "skipped")
	// Output:
	// line 2: "choice" must be a, b, tie or both-bad, not "left"
	// 1 imported, 1 skipped
}

func ExampleSplitHH() {
	prompt, chosen, rejected, _ := formats.SplitHH(
		"\n\nHuman: Hi\n\nAssistant: Hello!\n\nAssistant: (again)",
		"\n\nHuman: Hi\n\nAssistant: Go away.")
	fmt.Printf("%q\n%q\n%q\n", prompt, chosen, rejected)
	// Output:
	// "\n\nHuman: Hi\n\nAssistant: "
	// "Hello!\n\nAssistant: (again)"
	// "Go away."
}

func ExampleWriteTRL() {
	d, _, _ := formats.ReadJSONL(strings.NewReader(`{"kind":"compare","prompt":"2+2?","a":"5","b":"4","choice":"b"}
{"kind":"compare","prompt":"2+2?","a":"4","b":"four","choice":"tie"}
`), formats.Options{})
	rep, _ := formats.WriteTRL(os.Stdout, d)
	fmt.Println(rep.Records, "written, skipped:", rep.Skipped)
	// Output:
	// {"prompt":"2+2?","chosen":" 4","rejected":" 5"}
	// 1 written, skipped: map[tie:1]
}

func ExampleWriteSafetensors() {
	var buf bytes.Buffer
	formats.WriteSafetensors(&buf, []snapshot.Model{{
		Name: "rm", Family: "linear", Config: map[string]any{"dim": 2},
		Tensors: map[string]snapshot.Tensor{"w": {Shape: []int{2}, Data: []float32{0.5, -1}}, "b": {Shape: []int{1}, Data: []float32{0}}},
	}}, nil)
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	var header map[string]any
	json.Unmarshal(b[8:8+n], &header)
	fmt.Println(header["rm.weight"])
	fmt.Println(header["__metadata__"].(map[string]any)["format"])
	fmt.Printf("% x\n", b[8+n:])
	// Output:
	// map[data_offsets:[4 12] dtype:F32 shape:[1 2]]
	// pt
	// 00 00 00 00 00 00 00 3f 00 00 80 bf
}
