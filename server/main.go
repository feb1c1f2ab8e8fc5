// Command prefer is Prefer's server and command-line tool: it serves the workbench,
// its snapshot store and rater projects over HTTP (package server/api, stores in
// server/store), and runs the RLHF engine of package core on snapshot files. The
// commands live in package server/cli; this is only the program's entry point.
package main

import (
	"os"

	"prefer/server/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
