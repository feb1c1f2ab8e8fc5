package e2e

import (
	"testing"
	"time"
)

// BenchmarkTabPieces measures what the pieces of the tab cost its renderer (docs/ui.md,
// "Memory"): the private footprint (RssAnon + VmSwap) and the resident memory of a
// fresh tab showing a text file, then after compiling app.wasm in it, then after
// compiling worker.wasm too (V8 keeps a module's bytes and compiles a function when it
// first runs), then on the workbench's lesson page before any job. Each figure is
// read 2 s after its step, so that the page has settled.
func BenchmarkTabPieces(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := startServer(b)
		br := newBrowser(b)
		settle := func() tabMemory { time.Sleep(2 * time.Second); return br.memoryRaw() }
		br.nav(s.url("/web/placeholder.txt"))
		text := settle()
		eval[bool](br, `fetch("/web/app.wasm").then(r => r.arrayBuffer()).then(b => WebAssembly.compile(b)).then(m => (window.__app = m, true))`)
		app := settle()
		eval[bool](br, `fetch("/web/worker.wasm").then(r => r.arrayBuffer()).then(b => WebAssembly.compile(b)).then(m => (window.__worker = m, true))`)
		both := settle()
		br.nav(s.url("/lesson"))
		br.ready()
		br.wait("the lesson page", `document.querySelector("#lesson-all")`, 30*time.Second)
		lesson := settle()
		for _, m := range []struct {
			name string
			m    tabMemory
		}{{"text", text}, {"app_wasm", app}, {"app_worker_wasm", both}, {"lesson", lesson}} {
			b.Logf("%s: %v", m.name, m.m)
			b.ReportMetric(m.m.FootprintMB(), "tab_"+m.name+"_footprint_MB")
			b.ReportMetric(m.m.RendererMB, "tab_"+m.name+"_rss_MB")
		}
	}
}
