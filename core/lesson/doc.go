// Package lesson is the workbench's RLHF lesson (journey J1, the Lesson and
// Playground pages) as plain core calls: the settings and the panels of simulated
// raters the pages use, Run, which does what the lesson's steps 2–5 do — simulate
// raters, train the reward model, optimize the candidate policy with PPO at a small
// and a large β, sweep β — and the Landscape the playground moves its β slider over.
//
// The browser runs the same steps as worker jobs (app/work) with these settings, and
// app/work's TestLessonPipeline checks that the jobs give Run's numbers bit for bit;
// this package's tests pin those numbers natively and under wasm, so the figures a
// class sees in the lesson's captions are the ones pinned here.
//
// With the default panel (a realistic crowd, demo.DefaultPanel) the small β shows
// reward hacking unmistakably: the proxy keeps rising while the gold reward rises,
// peaks and falls back to about where it started — the policy pads its answers with
// the filler the crowd over-rated — and the large β holds its gain.
package lesson
