package app

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
)

// jobRecord is how long the last job of a kind took in the worker and the worker's
// memory after it.
type jobRecord struct {
	Millis float64
	Mem    int64
}

// Stats returns the workbench's measurements for the end-to-end tests and the
// benchmark table: the UI's wasm memory and JS heap (bytes), the worker's wasm
// memory after its last job, whether a worker is running now ("worker_running"),
// the worker time of the last job of each kind ("job_ms.train-rm", …), the number of jobs finished since the page loaded
// ("jobs_done"), the judgments of the state (every event, the standing ones, their
// pairs) and the element counts of the last reward-model training. wasm/ui exposes
// it to the page as preferStats().
func Stats() map[string]float64 {
	out := map[string]float64{}
	if browser != nil {
		heap, mem := browser.Memory()
		out["js_heap_bytes"] = float64(heap)
		out["ui_wasm_bytes"] = float64(mem)
	}
	wb.mu.Lock()
	defer wb.mu.Unlock()
	var workerMem int64
	for kind, r := range wb.jobTimes {
		out["job_ms."+kind] = r.Millis
		workerMem = max(workerMem, r.Mem)
	}
	out["worker_wasm_bytes"] = float64(workerMem)
	out["worker_running"] = 0 // 1 while a training worker exists (releaseIdleWorker ends an idle one)
	if wb.worker != nil {
		out["worker_running"] = 1
	}
	out["jobs_done"] = float64(wb.jobsDone)
	out["judgments"] = 0
	if wb.log != nil {
		// Every event, the standing judgments (revisions and reviews applied) and
		// the reward-model pairs they give (feedback.Current, Pairs).
		all := wb.log.All()
		out["judgments"] = float64(wb.log.Len())
		out["standing"] = float64(len(feedback.Current(all)))
		if wb.snap != nil {
			out["pairs"] = float64(len(feedback.Pairs(wb.snap.Items, all, feedback.PairOptions{})))
			// The last reward-model training: how many batch elements it used.
			for i := len(wb.snap.Runs) - 1; i >= 0; i-- {
				if r := &wb.snap.Runs[i]; r.Kind == "train-rm" {
					out["rm.elements"] = r.Summary["n_train"] + r.Summary["n_valid"] + r.Summary["n_held"]
					break
				}
			}
		}
	}
	return out
}

// markReady records the moment the workbench became usable (a performance mark the
// end-to-end tests read as time to interactive).
func markReady() {
	perf := app.Window().Get("performance")
	if perf.Truthy() {
		perf.Call("mark", "prefer-ready")
	}
}
