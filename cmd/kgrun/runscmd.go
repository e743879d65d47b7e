package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
)

// listFlags are the flags of "kgrun runs" and "kgrun show".
type listFlags struct {
	format  string
	noTrace bool
	state   stateFlags
}

func newListFlags(name string) (*flag.FlagSet, *listFlags) {
	f := &listFlags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&f.format, "format", "text", "output `text` or json")
	if name == "show" {
		fs.BoolVar(&f.noTrace, "no-trace", false, "print the report without the trace")
	}
	f.state.register(fs, false)
	return fs, f
}

func (f *listFlags) open(cmd string) (*store.Bolt, error) {
	switch {
	case f.format != "text" && f.format != "json":
		return nil, fmt.Errorf("--format takes text or json, not %q", f.format)
	case !f.state.enabled():
		return nil, fmt.Errorf("%s reads the store; --state none has none", cmd)
	}
	return f.state.open(true)
}

// runsCommand lists the runs in the store, newest first.
func runsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newListFlags("runs")
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return usageError(stderr, "runs", fmt.Errorf("takes no arguments; kgrun show RUN_ID shows one run"))
	}
	db, err := f.open("runs")
	if err != nil {
		return usageError(stderr, "runs", err)
	}
	defer db.Close()
	runs, err := db.Runs()
	if err != nil {
		return usageError(stderr, "runs", err)
	}
	if f.format == "json" {
		type row struct {
			*store.RunMeta
			Status string `json:"status"`
		}
		rows := make([]row, len(runs))
		for i, m := range runs {
			rows[i] = row{m, store.StatusOf(m)}
		}
		writeJSON(stdout, rows)
		return exitOK
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "No runs in %s yet.\n", termText(db.Path()))
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tSTATUS\tSTARTED\tDURATION\tVISITS\tSCENARIO\tRESUMED")
	for _, m := range runs {
		scenario, resumed := m.Scenario, "-"
		if scenario == "" {
			scenario = "-"
		}
		if m.Resumes > 0 {
			resumed = plural(m.Resumes, "time")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", termText(m.ID), termText(m.Workflow), store.StatusOf(m),
			m.Started.UTC().Format("2006-01-02 15:04:05"), ms(time.Duration(m.Elapsed)), m.Visits, termText(scenario), resumed)
	}
	tw.Flush()
	return exitOK
}

// showCommand prints a past run's report, rebuilt from its journal, and its trace.
func showCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newListFlags("show")
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "show", fmt.Errorf("name one run; kgrun runs lists them"))
	}
	db, err := f.open("show")
	if err != nil {
		return usageError(stderr, "show", err)
	}
	defer db.Close()
	meta, err := db.Run(pos[0])
	if err != nil {
		return usageError(stderr, "show", err)
	}
	state := engine.NewRunState()
	if err := db.Checkpoints(meta.ID, 0, state.Apply); err != nil {
		return usageError(stderr, "show", err)
	}
	res := state.Result()
	res.Workflow, res.Scenario, res.Seed = meta.Workflow, meta.Scenario, meta.Seed
	res.Status = engine.Status(store.StatusOf(meta))
	res.Breakers = meta.Breakers
	res.Elapsed = meta.Elapsed
	if meta.Error != "" {
		res.Err = errors.New(meta.Error)
	}
	st := newStats()
	var events []engine.Event
	err = db.Events(meta.ID, func(e engine.Event) error {
		st.Event(e)
		if !f.noTrace {
			events = append(events, e)
		}
		return nil
	})
	if err != nil {
		return usageError(stderr, "show", err)
	}
	if f.format == "json" {
		writeJSON(stdout, struct {
			Run    *store.RunMeta `json:"run"`
			Status string         `json:"status"`
			Path   []engine.Step  `json:"path"`
			Shared map[string]any `json:"shared"`
			Calls  map[string]int `json:"calls"`
			Trace  []engine.Event `json:"trace,omitempty"`
		}{meta, store.StatusOf(meta), res.Path, res.Shared, res.Calls, events})
		return exitOK
	}
	fmt.Fprintf(stdout, "Run %s · %s · started %s", termText(meta.ID), termText(meta.File), meta.Started.UTC().Format("2006-01-02 15:04:05 MST"))
	if meta.Resumes > 0 {
		fmt.Fprintf(stdout, " · resumed %s", plural(meta.Resumes, "time"))
	}
	fmt.Fprintln(stdout)
	writeReport(stdout, res, st, meta.Nodes, reportOptions{virtual: meta.VirtualTime})
	if len(events) > 0 {
		fmt.Fprintf(stdout, "\nTrace (%s", plural(len(events), "event"))
		if meta.EventsDropped > 0 {
			fmt.Fprintf(stdout, "; %d more not kept", meta.EventsDropped)
		}
		fmt.Fprintln(stdout, ")")
		for _, e := range events {
			fmt.Fprintf(stdout, "  %s\n", termText(eventLine(e)))
		}
	}
	return exitOK
}

// eventLine writes one trace event for people.
func eventLine(e engine.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4d %9s  %-16s", e.Seq, ms(time.Duration(e.At)), e.Kind)
	if e.Node != "" {
		fmt.Fprintf(&b, " %s", e.Node)
		if e.Visit > 0 && e.Kind != engine.EventRunResumed {
			fmt.Fprintf(&b, "#%d", e.Visit)
		}
		if e.Attempt > 0 {
			fmt.Fprintf(&b, " attempt %d", e.Attempt)
		}
	}
	if e.Hook != "" {
		fmt.Fprintf(&b, " %s", e.Hook)
	}
	if e.Action != "" {
		fmt.Fprintf(&b, " %s", e.Action)
	}
	if e.To != "" {
		fmt.Fprintf(&b, " → %s", e.To)
	}
	if e.Guard != "" {
		fmt.Fprintf(&b, " when %s", e.Guard)
	}
	if e.Breaker != "" {
		fmt.Fprintf(&b, " breaker %s", e.Breaker)
		if e.From != "" || e.State != "" {
			fmt.Fprintf(&b, " %s → %s", e.From, e.State)
		}
	}
	if e.Delay > 0 {
		fmt.Fprintf(&b, " after %s", ms(time.Duration(e.Delay)))
	}
	if e.Status != "" {
		fmt.Fprintf(&b, " %s", e.Status)
	}
	if e.ErrKind != "" || e.Message != "" {
		b.WriteString(" ·")
		if e.ErrKind != "" {
			fmt.Fprintf(&b, " %s", e.ErrKind)
		}
		if e.Message != "" {
			fmt.Fprintf(&b, " %s", e.Message)
		}
	}
	return b.String()
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
