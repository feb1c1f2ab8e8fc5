// Package cli holds the subcommands of the prefer binary (README "Command line"):
// serve, and the commands that run the RLHF engine of package core on snapshot files.
//
// Each subcommand lives in a file of its own (cmd_<name>.go) and registers itself in
// init. Analysis commands take --json and then print exactly one JSON object on
// stdout; errors go to stderr with a non-zero exit status. Main runs one command
// line; the binary's main package (server/main.go) is only a call to it.
package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// toolVersion is recorded in the provenance of every snapshot the CLI writes.
const toolVersion = "prefer 0.1.0"

// command is one subcommand.
type command struct {
	name    string
	usage   string // the synopsis after "prefer "
	summary string // one line for the command list
	// run executes the command with its arguments (without the command name).
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

// register adds a subcommand; called from init functions.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("prefer: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError is an error in how the command was called: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Main executes a command line (without the program name) and returns the exit
// status: 0 on success, 1 when the command failed, 2 for a usage error. Tests call it
// directly.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				// The command itself knows its flags: ask it for them.
				var h *helpRequest
				errors.As(c.run([]string{"--help"}, io.Discard, io.Discard), &h)
				printHelp(stdout, c, h)
				return 0
			}
		}
		printCommands(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, toolVersion)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "prefer: unknown command %q; run 'prefer help' for the list\n", args[0])
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	if err == nil {
		return 0
	}
	var h *helpRequest
	if errors.As(err, &h) {
		printHelp(stdout, c, h)
		return 0
	}
	fmt.Fprintf(stderr, "prefer %s: %v\n", c.name, err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "usage: prefer %s\n", c.usage)
		return 2
	}
	return 1
}

// printHelp writes a command's usage, what it does and, when h is not nil, its flags.
func printHelp(w io.Writer, c *command, h *helpRequest) {
	fmt.Fprintf(w, "usage: prefer %s\n\n%s\n", c.usage, c.summary)
	if h != nil {
		fmt.Fprintln(w, "\nflags:")
		h.printFlags(w)
	}
}

func printCommands(w io.Writer) {
	fmt.Fprintf(w, "%s — the RLHF workbench\n\nusage: prefer COMMAND [arguments]\n\ncommands:\n", toolVersion)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'prefer help COMMAND' for a command's arguments.")
}
