package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"prefer/core/snapshot"
	"prefer/server/client"
)

func init() {
	register(&command{
		name:    "pull",
		usage:   "pull URL|ID -o SNAP [--server URL] [--json]",
		summary: "download a shared snapshot, verify it and save it",
		run:     runPull,
	})
}

type pullReport struct {
	Input    string `json:"input"` // the link or id asked for
	Output   string `json:"output"`
	OutputID string `json:"output_id"` // sha256-… of the bytes written, verified
	Bytes    int    `json:"bytes"`
}

func runPull(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pull", stderr)
	out := fs.String("o", "", "file to write the snapshot to (- for standard output)")
	server := fs.String("server", os.Getenv(envServer), "the server's URL, when giving an id (default $"+envServer+")")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give one link (http://HOST/s/ID) or id")
	}
	if *out == "" {
		return usagef("give the file to write with -o SNAP (- for standard output)")
	}
	if err := checkOutput(*out, *asJSON); err != nil {
		return err
	}
	base, id := *server, pos[0]
	if strings.Contains(id, "://") {
		if base, id, err = client.ParseLink(id); err != nil {
			return err
		}
	} else if base == "" {
		return usagef("an id needs --server URL (or %s), or give the whole link", envServer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	data, _, err := client.New(base, "").Snapshot(ctx, id)
	if err != nil {
		return fmt.Errorf("pull %s: %w", id, err)
	}
	if err := writeOutput(*out, data, stdout); err != nil {
		return err
	}
	rep := pullReport{Input: pos[0], Output: *out, OutputID: snapshot.ID(data), Bytes: len(data)}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(messages(*out, stdout, stderr), "%s: %d bytes, verified (%s)\n", outputName(rep.Output), rep.Bytes, rep.OutputID)
	return nil
}
