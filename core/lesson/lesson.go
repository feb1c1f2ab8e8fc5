package lesson

// The lesson's settings.
const (
	Seed       = 7    // the demo's seed: the prompts, the candidates, the raters' draws
	RewardSeed = 1    // the reward model's split and initialisation
	PolicySeed = 1    // PPO's sampling, and the sweep's sampled metrics
	BetaSmall  = 0.02 // a cheap KL penalty: the policy drifts far and hacks the reward
	BetaLarge  = 0.5  // an expensive one: the policy stays near the reference
	Steps      = 150  // PPO steps per run (candidate policy, all 60 prompts per step)
	// SplitBy is how the reward model holds data out: by pair, because the policy
	// is optimized on these same prompts, so the question is how well the model ranks
	// their answers.
	SplitBy = "pair"
	// RewardModelName and RewardRunName are the names the workbench stores the
	// reward model and its training run under (app/jobs.ModelRM, RunRM).
	RewardModelName = "reward"
	RewardRunName   = "train-rm"
)

// A Panel is a panel of simulated raters a class can choose.
type Panel struct {
	ID    string // short name, used in links (?panel=crowd)
	Title string
	Spec  string // demo.ParseProfiles syntax
	About string // one sentence for the page
	Story string // what optimizing against its reward model shows
}

// DefaultPanel is demo.DefaultPanel, the lesson's default (a test keeps them
// equal): written out so that the page, which shows the panels, does not link the
// demo domain.
const DefaultPanel = "expert,7*crowd,polite,verbose,cautious,position,tired,spammer"

// Panels are the lesson's panels; the first is the default.
var Panels = []Panel{
	{"crowd", "A realistic crowd", DefaultPanel,
		"14 raters: one expert, seven hurried crowd workers who pay for length and miss many wrong answers, one each who rewards politeness, long answers and refusals, one who prefers the left answer, a tired one and a spammer.",
		"A small β lets the policy pad its answers with the filler the crowd over-rated: the proxy keeps rising while gold falls back to where it started. A large β holds the gain."},
	{"experts", "Careful experts", "6*expert,6*unbiased",
		"12 raters without biases: six experts and six careful crowd workers.",
		"The reward model agrees with gold, so optimizing it harder only helps: gold rises at every β."},
	{"polite", "Raters who love politeness", "10*polite,2*unbiased",
		"12 raters, ten of whom reward polite phrasing and miss most wrong answers.",
		"The reward model pays for politeness over correctness: polite-but-wrong answers take over. Gold peaks early, has already fallen by the large β and ends near where it started — no β fixes a reward this wrong; better feedback does."},
}

// PanelByID returns the panel with that id, and false when there is none.
func PanelByID(id string) (Panel, bool) {
	for _, p := range Panels {
		if p.ID == id {
			return p, true
		}
	}
	return Panel{}, false
}
