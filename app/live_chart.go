package app

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
)

// liveChart draws the running job's curves as progress arrives. It follows job
// progress on its own, so the page around it is not re-rendered while it updates.
type liveChart struct {
	app.Compo
	ID  string
	Job string // the job kind whose curves it draws

	unsub func()
}

func (c *liveChart) OnMount(ctx app.Context) {
	c.unsub = wb.subscribeProgress(func() { ctx.Dispatch(func(app.Context) {}) })
}

func (c *liveChart) OnDismount() {
	if c.unsub != nil {
		c.unsub()
	}
}

func (c *liveChart) Render() app.UI {
	wb.mu.Lock()
	j := wb.job
	var st jobStatus
	if j != nil {
		st = *j
		st.Series = map[string][]float64{}
		for k, v := range j.Series {
			st.Series[k] = append([]float64(nil), v...)
		}
		st.Steps = append([]int(nil), j.Steps...)
	}
	wb.mu.Unlock()
	if j == nil || j.Kind != c.Job {
		return app.Div().ID(c.ID)
	}
	x := make([]float64, len(st.Steps))
	for i, s := range st.Steps {
		x[i] = float64(s)
	}
	var ch chartSpec
	switch c.Job {
	case jobs.KindTrainRM:
		ch = newChart(c.ID, "Reward model: loss per epoch (live)", "epoch", "loss (nats per comparison)")
		ch.Series = []series{
			{Name: "training", X: x, Y: st.Series["train_loss"], Class: "s1"},
			{Name: "held out", X: x, Y: st.Series["held_loss"], Class: "s3", Dashed: true},
		}
	default:
		ch = newChart(c.ID, st.Phase+" (live)", "step", "expected reward; KL and entropy in nats")
		ch.Series = []series{
			{Name: "proxy (reward model)", X: x, Y: st.Series["reward"], Class: "s1"},
			{Name: "gold (true quality)", X: x, Y: st.Series["gold"], Class: "s2"},
			{Name: "KL (nats)", X: x, Y: st.Series["kl"], Class: "s3", Dashed: true},
			{Name: "entropy (nats)", X: x, Y: st.Series["entropy"], Class: "s4", Dashed: true},
		}
	}
	return ch.render()
}
