package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"prefer/core/wire"
	"prefer/server/client"
)

func init() {
	register(&command{
		name: "push",
		usage: "push SNAP --server URL [--token T] [--json]\n" +
			"       [--project NAME (--raters N | --rater-names a,b,…) [--overlap K] [--gold-rate F] [--seed N]]",
		summary: "upload a snapshot and print its share link; optionally start a rater project on it",
		run:     runPush,
	})
}

// Environment variables of the client commands.
const (
	envServer = "PREFER_SERVER" // default of --server
	envToken  = "PREFER_TOKEN"  // default of --token
)

type pushReport struct {
	Input   string               `json:"input"`
	InputID string               `json:"input_id"` // sha256-… of the bytes uploaded (the server's content_id)
	ShareID string               `json:"share_id"` // the id in the share link
	URL     string               `json:"url"`
	Bytes   int64                `json:"bytes"`
	Created bool                 `json:"created"`
	Project *wire.ProjectCreated `json:"project,omitempty"`
}

func runPush(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("push", stderr)
	server := fs.String("server", os.Getenv(envServer), "the server's URL (default $"+envServer+")")
	token := fs.String("token", os.Getenv(envToken), "admin token, when the server requires one (default $"+envToken+")")
	asJSON := fs.Bool("json", false, "print one JSON object")
	name := fs.String("project", "", "also create a rater project with this name on the snapshot's items")
	raters := fs.Int("raters", 0, "number of raters of the project (ids r1, r2, …)")
	names := fs.String("rater-names", "", "comma-separated rater ids of the project, instead of --raters")
	overlap := fs.Int("overlap", 1, "raters per item")
	gold := fs.Float64("gold-rate", 0, "share of each queue made of gold items (items with gold_best), 0 to 0.5")
	seed := fs.Uint64("seed", 1, "seed of the assignment")
	in, err := parseIn(fs, args)
	if err != nil {
		return err
	}
	if *server == "" {
		return usagef("give the server with --server URL (or set %s)", envServer)
	}
	project := *name != "" || *raters > 0 || *names != ""
	if project && (*raters > 0) == (*names != "") {
		return usagef("a project needs --raters N or --rater-names a,b,… (one of them)")
	}
	_, data, err := readSnapshot(in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := client.New(*server, *token)
	res, created, err := c.PushSnapshot(ctx, data)
	if err != nil {
		return fmt.Errorf("upload %s: %w", in, err)
	}
	rep := pushReport{Input: in, InputID: res.ContentID, ShareID: res.ID, URL: res.URL, Bytes: res.Size, Created: created}
	if project {
		req := wire.NewProject{Name: *name, Snapshot: res.ID, RaterCount: *raters, Overlap: *overlap, GoldRate: *gold, Seed: *seed}
		if *names != "" {
			for _, n := range strings.Split(*names, ",") {
				req.Raters = append(req.Raters, wire.Rater{ID: strings.TrimSpace(n)})
			}
		}
		p, err := c.CreateProject(ctx, req)
		if err != nil {
			return fmt.Errorf("create the project: %w", err)
		}
		rep.Project = &p
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintln(stdout, res.URL)
	if p := rep.Project; p != nil {
		fmt.Fprintf(stdout, "project %s (%s): %d items, %d gold\nlead token: %s\n", p.ID, p.Name, p.Items, p.GoldItems, p.LeadToken)
		if p.LeadURL != "" {
			fmt.Fprintf(stdout, "lead (progress, pull the judgments): %s\n", p.LeadURL)
		}
		for _, r := range p.Raters {
			fmt.Fprintf(stdout, "rater %s (%d items): %s\n", r.ID, r.Assigned, r.URL)
		}
		fmt.Fprintln(stdout, "Tokens are shown only now: give each rater their link, keep the lead's link and token.")
	}
	return nil
}
