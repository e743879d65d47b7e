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
	"github.com/kgrun/kgrun/internal/when"
	"github.com/kgrun/kgrun/store"
)

// listFlags are the flags of "kgrun runs" and "kgrun show".
type listFlags struct {
	format  string
	noTrace bool
	state   stateFlags
	// temporal, when its address is set, reads runs on a Temporal cluster instead.
	temporal temporalFlags
	// "kgrun runs" filters
	workflow, status, since, until string
	limit                          int
}

func newListFlags(name string) (*flag.FlagSet, *listFlags) {
	f := &listFlags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&f.format, "format", "text", "output `text` or json")
	if name == "show" {
		fs.BoolVar(&f.noTrace, "no-trace", false, "print the report without the trace")
	}
	if name == "runs" {
		fs.StringVar(&f.workflow, "workflow", "", "only runs of the workflow `NAME`")
		fs.StringVar(&f.status, "status", "", "only runs with `STATUS`: success, degraded, failed, canceled, running, crashed or damaged")
		fs.StringVar(&f.since, "since", "", "only runs started at or after `TIME` (RFC 3339, or an age such as 2h or 7d)")
		fs.StringVar(&f.until, "until", "", "only runs started before `TIME` (RFC 3339, or an age such as 2h or 7d)")
		fs.IntVar(&f.limit, "limit", 0, "list at most the `N` newest runs selected")
	}
	f.state.register(fs, false)
	f.temporal.register(fs, temporalClient)
	return fs, f
}

func (f *listFlags) open(cmd string) (*store.SQLite, error) {
	switch {
	case f.format != "text" && f.format != "json":
		return nil, fmt.Errorf("--format takes text or json, not %q", f.format)
	case !f.state.enabled():
		return nil, fmt.Errorf("%s reads the store; --state none has none", cmd)
	}
	return f.state.open(true)
}

// filter builds the store's filter from the flags.
func (f *listFlags) filter(now time.Time) (store.RunFilter, error) {
	rf := store.RunFilter{Workflow: f.workflow, Status: f.status, Limit: f.limit}
	switch f.status {
	case "", "success", "degraded", "failed", "canceled", store.StatusRunning, store.StatusCrashed, "damaged":
	default:
		return rf, fmt.Errorf("--status takes success, degraded, failed, canceled, running, crashed or damaged, not %q", f.status)
	}
	if f.limit < 0 {
		return rf, fmt.Errorf("--limit must be 0 (no limit) or more")
	}
	var err error
	if rf.Since, err = parseWhen("--since", f.since, now); err != nil {
		return rf, err
	}
	rf.Until, err = parseWhen("--until", f.until, now)
	return rf, err
}

// parseWhen reads a point in time for a flag: RFC 3339, or an age before now.
func parseWhen(flagName, v string, now time.Time) (time.Time, error) {
	t, err := when.Parse(v, now)
	if err != nil {
		return t, fmt.Errorf("%s takes %v", flagName, strings.TrimPrefix(err.Error(), "want "))
	}
	return t, nil
}

// runsCommand lists the runs in the store, newest first; "kgrun runs prune" removes old ones.
func runsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "prune" {
		return pruneCommand(ctx, args[1:], stdout, stderr)
	}
	fs, f := newListFlags("runs")
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return usageError(stderr, "runs", fmt.Errorf("takes no arguments but prune; kgrun show RUN_ID shows one run"))
	}
	filter, err := f.filter(time.Now())
	if err != nil {
		return usageError(stderr, "runs", err)
	}
	if f.temporal.addr != "" {
		return runsOnTemporal(ctx, fs, f, filter, stdout, stderr)
	}
	db, err := f.open("runs")
	if err != nil {
		return storeError(stderr, "runs", err)
	}
	defer db.Close()
	runs, err := db.Runs(filter)
	if err != nil {
		return storeError(stderr, "runs", err)
	}
	damaged := 0
	for _, m := range runs {
		if m.Damage != "" {
			damaged++
			fmt.Fprintf(stderr, "kgrun runs: %s\n", m.Damage)
		}
	}
	if f.format == "json" {
		type row struct {
			*store.RunMeta
			Status    string `json:"status"`
			Simulated bool   `json:"simulated"`
		}
		rows := make([]row, len(runs))
		for i, m := range runs {
			rows[i] = row{m, store.StatusOf(m), m.Simulated()}
		}
		writeJSON(stdout, rows)
		return exitOK
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "No runs in %s%s.\n", termText(db.Path()), map[bool]string{true: " match", false: " yet"}[filter != (store.RunFilter{})])
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tSTATUS\tKIND\tSTARTED (UTC)\tDURATION\tVISITS\tSCENARIO\tRESUMED")
	for _, m := range runs {
		if m.Damage != "" {
			fmt.Fprintf(tw, "%s\t?\tdamaged\t?\t?\t?\t?\t?\t?\n", m.ID)
			continue
		}
		scenario, resumed, kind := m.Scenario, "-", "real"
		if scenario == "" {
			scenario = "-"
		}
		if m.Resumes > 0 {
			resumed = plural(m.Resumes, "time")
		}
		if m.Simulated() {
			kind = "simulated"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", termText(m.ID), termText(m.Workflow), store.StatusOf(m), kind,
			m.Started.UTC().Format("2006-01-02 15:04:05"), ms(time.Duration(m.Elapsed)), m.Visits, termText(scenario), resumed)
	}
	tw.Flush()
	if damaged > 0 {
		fmt.Fprintf(stderr, "kgrun runs: %s cannot be read; kgrun store check verifies the whole store\n", plural(damaged, "run"))
	}
	return exitOK
}

// pruneCommand removes old runs and their journals and reports what it freed.
func pruneCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var olderThan string
	var keep int
	var sf stateFlags
	fs := flag.NewFlagSet("runs prune", flag.ContinueOnError)
	fs.StringVar(&olderThan, "older-than", "", "remove runs started more than `AGE` ago (such as 12h or 30d)")
	fs.IntVar(&keep, "keep", 0, "keep only the `N` newest runs")
	sf.register(fs, false)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, "remove runs with their journals and traces, and compact the store\n\nUsage:\n  kgrun runs prune [--older-than AGE] [--keep N] [--state PATH]\n\nFlags:")
		printFlags(stdout, fs)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, "runs prune", err)
	}
	if len(pos) != 0 {
		return usageError(stderr, "runs prune", fmt.Errorf("takes no arguments"))
	}
	var o store.PruneOptions
	if olderThan != "" {
		d, err := when.ParseAge(olderThan)
		if err != nil {
			return usageError(stderr, "runs prune", fmt.Errorf("--older-than takes an age such as 12h or 30d, not %q", olderThan))
		}
		o.OlderThan = d
	}
	if keep < 0 {
		return usageError(stderr, "runs prune", fmt.Errorf("--keep must be 1 or more"))
	}
	o.Keep = keep
	if o.OlderThan == 0 && o.Keep == 0 {
		return usageError(stderr, "runs prune", fmt.Errorf("say which runs to remove: --older-than AGE, --keep N, or both"))
	}
	if !sf.enabled() {
		return usageError(stderr, "runs prune", fmt.Errorf("prune works on a store; --state none has none"))
	}
	db, err := sf.open(true)
	if err != nil {
		return storeError(stderr, "runs prune", err)
	}
	defer db.Close()
	p, err := db.Prune(o)
	if err != nil {
		return storeError(stderr, "runs prune", err)
	}
	fmt.Fprintf(stdout, "Removed %s (%s, %s) from %s; the store went from %s to %s.\n", plural(p.Runs, "run"),
		plural(p.Checkpoints, "checkpoint"), plural(p.Events, "trace event"), termText(db.Path()), bytesText(p.SizeBefore), bytesText(p.SizeAfter))
	return exitOK
}

// bytesText writes a size for people.
func bytesText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
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
	if f.temporal.addr != "" {
		return showOnTemporal(ctx, fs, f, pos[0], stdout, stderr)
	}
	db, err := f.open("show")
	if err != nil {
		return storeError(stderr, "show", err)
	}
	defer db.Close()
	meta, err := db.Run(pos[0])
	if err != nil {
		return storeError(stderr, "show", err)
	}
	res, st, events, err := storedRun(db, meta, !f.noTrace)
	if err != nil {
		return storeError(stderr, "show", err)
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
	if meta.Simulated() {
		fmt.Fprint(stdout, " · simulated")
	}
	if meta.Resumes > 0 {
		fmt.Fprintf(stdout, " · resumed %s", plural(meta.Resumes, "time"))
	}
	fmt.Fprintln(stdout)
	writeReport(stdout, res, st, meta.Nodes, reportOptions{virtual: meta.VirtualTime})
	writeTrace(stdout, events, meta.EventsDropped)
	return exitOK
}

// writeTrace writes a run's trace after its report, saying how many events were not kept.
func writeTrace(w io.Writer, events []engine.Event, dropped int) {
	if len(events) == 0 {
		return
	}
	fmt.Fprintf(w, "\nTrace (%s", plural(len(events), "event"))
	if dropped > 0 {
		fmt.Fprintf(w, "; %d more not kept", dropped)
	}
	fmt.Fprintln(w, ")")
	for _, e := range events {
		fmt.Fprintf(w, "  %s\n", termText(eventLine(e)))
	}
}

// storedRun rebuilds a stored run's result and report statistics from its journal and
// trace, and returns the trace's events when keepEvents.
func storedRun(db store.Store, meta *store.RunMeta, keepEvents bool) (*engine.Result, *stats, []engine.Event, error) {
	state := engine.NewRunState()
	if err := db.Checkpoints(meta.ID, 0, state.Apply); err != nil {
		return nil, nil, nil, err
	}
	res := state.Result()
	res.Workflow, res.Scenario, res.Seed = meta.Workflow, meta.Scenario, meta.Seed
	res.Status = engine.Status(store.StatusOf(meta))
	res.Breakers = meta.Breakers
	res.Elapsed = meta.Elapsed
	res.Output = meta.Output
	if meta.Error != "" {
		res.Err = errors.New(meta.Error)
	}
	st := newStats()
	var events []engine.Event
	err := db.Events(meta.ID, func(e engine.Event) error {
		st.Event(e)
		if keepEvents {
			events = append(events, e)
		}
		return nil
	})
	return res, st, events, err
}

// writeStoredReport writes a stored run's report as kgrun show prints it, without
// colour and without the trace: the web UI shows it on a run's page.
func writeStoredReport(w io.Writer, db store.Store, meta *store.RunMeta) error {
	res, st, _, err := storedRun(db, meta, false)
	if err != nil {
		return err
	}
	writeReport(w, res, st, meta.Nodes, reportOptions{virtual: meta.VirtualTime})
	return nil
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
