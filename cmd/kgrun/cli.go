package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/kgrun/kgrun/schema"
)

// Exit codes.
const (
	exitOK          = 0   // success or degraded
	exitFailed      = 1   // the run (or a workflow test) failed
	exitUsage       = 2   // invalid input or usage
	exitInterrupted = 130 // interrupted by SIGINT or SIGTERM
)

// command is one kgrun subcommand.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run a workflow and print its report (the default: kgrun FILE)", "kgrun [run] FILE [flags]", runCommand},
		{"validate", "check workflow files and print every diagnostic", "kgrun validate FILE... [--format text|json] [--strict]", validateCommand},
		{"graph", "print a workflow's graph as mermaid or dot", "kgrun graph FILE [--format mermaid|dot]", graphCommand},
		{"test", "run the tests declared in workflow files", "kgrun test FILE... [--format text|json]", testCommand},
		{"runs", "list the runs recorded in the store (or on a Temporal cluster), or prune old ones", "kgrun runs [--workflow NAME] [--status S] [--since T] [--until T] [--limit N] [--format text|json] [--temporal HOST:PORT]\n  kgrun runs prune [--older-than AGE] [--keep N]", runsCommand},
		{"show", "print a past run's report and trace", "kgrun show RUN_ID [--state PATH | --temporal HOST:PORT] [--no-trace] [--format text|json]", showCommand},
		{"resume", "continue a crashed or interrupted run, or redrive a failed one", "kgrun resume RUN_ID FILE [flags]\n  kgrun resume RUN_ID [FILE] --temporal HOST:PORT [--namespace NS] [--format text|json]", resumeCommand},
		{"ui", "serve a web UI over the run store (loopback, read-only by default)", "kgrun ui [--addr 127.0.0.1:7878] [--state PATH] [--allow-actions]", uiCommand},
		{"worker", "run a Temporal worker for kgrun workflows (runs started with kgrun FILE --temporal)", "kgrun worker --temporal HOST:PORT [--namespace NS] [--task-queue Q]", workerCommand},
		{"store", "verify every record of the store", "kgrun store check [--state PATH]", storeCommand},
		{"schema", "print the JSON Schema for workflow files", "kgrun schema", schemaCommand},
		{"version", "print kgrun's version and what it was built from", "kgrun version (or kgrun --version)", versionCommand},
		{"help", "show help for a command", "kgrun help [COMMAND]", helpCommand},
	}
}

// run is the whole CLI: it returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	first := args[0]
	for _, c := range commands() {
		if first == c.name {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	switch first {
	case "-h", "-help", "--help":
		writeUsage(stdout)
		return exitOK
	case "-version", "--version":
		return versionCommand(ctx, args[1:], stdout, stderr)
	}
	// Anything else is "kgrun FILE [flags]" (or flags first, then the file); a word that
	// is neither a file nor a command is most likely a misspelt command.
	if !strings.HasPrefix(first, "-") && !strings.ContainsAny(first, "./") {
		if _, err := os.Stat(first); err != nil {
			names := make([]string, 0)
			for _, c := range commands() {
				names = append(names, c.name)
			}
			fmt.Fprintf(stderr, "kgrun: unknown command %q", first)
			if s := schema.Suggest(first, names); s != "" {
				fmt.Fprintf(stderr, "; did you mean %q?", s)
			}
			fmt.Fprintln(stderr, "\nRun 'kgrun help' for the commands.")
			return exitUsage
		}
	}
	return runCommand(ctx, args, stdout, stderr)
}

func writeUsage(w io.Writer) {
	fmt.Fprintln(w, "kgrun runs declarative, fault-tolerant workflows.")
	fmt.Fprintln(w, "\nUsage:\n  kgrun FILE [flags]          run a workflow (same as kgrun run FILE)\n  kgrun COMMAND [arguments]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 success or degraded, 1 failed, 2 invalid input or usage, 3 store damaged, 130 interrupted.")
	fmt.Fprintln(w, "Run 'kgrun help COMMAND' for a command's flags.")
}

func helpCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	args, code, ok := parseCommand(ctx, flag.NewFlagSet("help", flag.ContinueOnError), args, stdout, stderr)
	if !ok {
		return code
	}
	if len(args) == 0 {
		writeUsage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			fmt.Fprintf(stdout, "%s\n\nUsage:\n  %s\n", c.summary, c.usage)
			if fs := flagSetFor(c.name); fs != nil && hasFlags(fs) {
				fmt.Fprintln(stdout, "\nFlags:")
				printFlags(stdout, fs)
			}
			return exitOK
		}
	}
	return usageError(stderr, "help", fmt.Errorf("unknown command %q", args[0]))
}

// flagSetFor returns a command's flags with their defaults, for help output (nil when it
// has none).
func flagSetFor(name string) *flag.FlagSet {
	switch name {
	case "validate":
		fs, _ := newValidateFlags()
		return fs
	case "run":
		fs, _ := newRunFlags()
		return fs
	case "graph":
		fs, _ := newGraphFlags()
		return fs
	case "test":
		fs, _ := newTestFlags()
		return fs
	case "runs", "show":
		fs, _ := newListFlags(name)
		return fs
	case "resume":
		fs, _ := newResumeFlags()
		return fs
	case "store":
		fs, _ := newStoreFlags()
		return fs
	case "ui":
		fs, _ := newUIFlags()
		return fs
	case "worker":
		fs, _ := newWorkerFlags()
		return fs
	}
	return nil
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func printFlags(w io.Writer, fs *flag.FlagSet) {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		f := fs.Lookup(n)
		typ, usage := flag.UnquoteUsage(f)
		left := "--" + n
		if typ != "" {
			left += " " + typ
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %-28s %s%s\n", left, usage, def)
	}
}

// parseInterleaved parses flags that may come before, between or after positional
// arguments, as people type them ("kgrun FILE --seed 7"). "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, explainFlagError(fs, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// explainFlagError turns the flag package's errors into one line with a suggestion.
func explainFlagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := schema.Suggest(name, names); s != "" {
			return fmt.Errorf("unknown flag --%s; did you mean --%s?", name, s)
		}
		return fmt.Errorf("unknown flag --%s; run 'kgrun help %s' for the flags", name, fs.Name())
	}
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errors.New(strings.Replace(msg, " -", " --", 1))
}

// parseCommand parses a command's interleaved flags. When it returns ok=false the
// command is over (help was printed or the flags were wrong) and code is its exit code.
func parseCommand(ctx context.Context, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, helpCommand(ctx, []string{fs.Name()}, stdout, stderr), false
	case err != nil:
		return nil, usageError(stderr, fs.Name(), err), false
	}
	return pos, exitOK, true
}

func usageError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "kgrun %s: %s\n", cmd, termText(err.Error()))
	return exitUsage
}

func schemaCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	args, code, ok := parseCommand(ctx, flag.NewFlagSet("schema", flag.ContinueOnError), args, stdout, stderr)
	if !ok {
		return code
	}
	if len(args) > 0 {
		return usageError(stderr, "schema", fmt.Errorf("takes no arguments"))
	}
	out, err := schemaJSON()
	if err != nil {
		fmt.Fprintf(stderr, "kgrun schema: %v\n", err)
		return exitUsage
	}
	stdout.Write(out)
	return exitOK
}
