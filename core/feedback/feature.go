package feedback

// Feature is a measurable property of a response that reward hacking tends to
// inflate (its length, politeness, refusals, …). A domain describes its responses
// with features (the demo domain's are demo.HackingFeatures); the reward-hacking
// detector of package policy watches their means under a policy. Of returns the
// value for one response of item it; a generated response is passed with only its
// Text set.
type Feature struct {
	Name string
	Of   func(it *Item, r *Response) float64
}
