package reward

import (
	"fmt"

	"prefer/core/rng"
)

// tabDataFromDataset makes tabular data whose responses are the dataset's rows and
// whose elements are the dataset elements listed (repeats allowed).
func tabDataFromDataset(ds *dataset, list []int) *tabData {
	d := &tabData{}
	for row := range ds.rowItem {
		d.itemIdx = append(d.itemIdx, int(ds.rowItem[row]))
		d.respID = append(d.respID, ds.response(int32(row)).ID)
		d.text = append(d.text, ds.text(int32(row)))
	}
	for _, i := range list {
		e := &ds.elems[i]
		switch e.kind {
		case elPair, elTie:
			a, b := int(e.rows[0]), int(e.rows[1])
			side := 0.0
			switch e.left {
			case e.rows[0]:
				side = 1
			case e.rows[1]:
				side = -1
			}
			d.elems = append(d.elems, []tpair{{a: a, b: b, tie: e.kind == elTie, side: side, w: 1}})
		case elRank:
			k := len(e.rows)
			w := 2 / float64(k*(k-1))
			var el []tpair
			for x := 0; x < k; x++ {
				for y := x + 1; y < k; y++ {
					el = append(el, tpair{a: int(e.rows[x]), b: int(e.rows[y]), w: w})
				}
			}
			d.elems = append(d.elems, el)
		}
	}
	return d
}

// trainTabular fits tabular models (one, or `members` on bootstrap resamples) and
// records per-Newton-iteration curves of the single model.
func trainTabular(ds *dataset, sp splitSets, cfg Config, members int, r *rng.RNG) (Model, Curves, error) {
	tc := cfg.Tabular
	tc.Bootstrap = 0
	var cv Curves
	var out []Model
	for k := 0; k < members; k++ {
		list := sp.train
		if members > 1 && !cfg.NoBagging {
			mr := r.Split(fmt.Sprintf("member-%d", k))
			list = make([]int, len(sp.train))
			for i := range list {
				list[i] = sp.train[mr.IntN(len(sp.train))]
			}
		}
		data := tabDataFromDataset(ds, list)
		var progress func(int, float64, *tabState) bool
		if members == 1 {
			progress = func(it int, loss float64, st *tabState) bool {
				score := func(row int32) float64 { return st.lam[row] }
				vl, _ := setLoss(ds, sp.valid, score, st.eta)
				hl, ha := setLoss(ds, sp.held, score, st.eta)
				cv.TrainLoss = append(cv.TrainLoss, loss)
				cv.ValidLoss = append(cv.ValidLoss, vl)
				cv.HeldLoss = append(cv.HeldLoss, hl)
				cv.HeldAcc = append(cv.HeldAcc, ha)
				cv.BestEpoch = it
				return cfg.Progress == nil || cfg.Progress(it, loss, hl)
			}
		}
		lb, _, _, err := fitTab(ds.items, data, tc, progress)
		if err != nil {
			return nil, cv, err
		}
		out = append(out, lb.Model())
	}
	if members == 1 {
		return out[0], cv, nil
	}
	ens := &Ensemble{Members: out}
	score := rowScorer(ds, ens)
	eta := modelEta(ens)
	tl, _ := setLoss(ds, sp.train, score, eta)
	vl, _ := setLoss(ds, sp.valid, score, eta)
	hl, ha := setLoss(ds, sp.held, score, eta)
	cv = Curves{TrainLoss: []float64{tl}, ValidLoss: []float64{vl}, HeldLoss: []float64{hl}, HeldAcc: []float64{ha}, BestEpoch: 1}
	return ens, cv, nil
}
