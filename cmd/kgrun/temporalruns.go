package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	sdkclient "go.temporal.io/sdk/client"

	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
	"github.com/kgrun/kgrun/temporal"
)

// The runs, show and resume commands with --temporal: the runs live on the cluster, and
// each execution's memo (see temporal.RunInfo) says what a listing needs.

// localOnly returns the first of the named flags that was set on the command line: a
// flag that applies to the local store only, refused with --temporal.
func localOnly(fs *flag.FlagSet, names ...string) string {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, n := range names {
		if set[n] {
			return n
		}
	}
	return ""
}

// dialFor connects a command to the cluster, reporting a failure as the command's.
func dialFor(cmd string, t *temporalFlags, stderr io.Writer) (sdkclient.Client, int) {
	c, err := t.dial(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kgrun %s: %s\n", cmd, termText(err.Error()))
		return nil, exitFailed
	}
	return c, exitOK
}

// clusterError reports a failed request: an unknown run is the user's mistake (2, as
// the store's), the rest the cluster's (1).
func clusterError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "kgrun %s: %s\n", cmd, termText(err.Error()))
	if errors.Is(err, temporal.ErrNoRun) || errors.Is(err, temporal.ErrNothingToResume) || errors.Is(err, durable.ErrChanged) {
		return exitUsage
	}
	return exitFailed
}

// runsOnTemporal lists the runs on the cluster, newest first, with the local listing's
// columns but KIND (every run on a cluster is real).
func runsOnTemporal(ctx context.Context, fs *flag.FlagSet, f *listFlags, filter store.RunFilter, stdout, stderr io.Writer) int {
	if n := localOnly(fs, "state", "state-wait"); n != "" {
		return usageError(stderr, "runs", fmt.Errorf("--temporal lists the runs on the cluster; --%s names a local store: leave one out", n))
	}
	if f.format != "text" && f.format != "json" {
		return usageError(stderr, "runs", fmt.Errorf("--format takes text or json, not %q", f.format))
	}
	if filter.Status == "damaged" {
		return usageError(stderr, "runs", fmt.Errorf("--status damaged applies to the local store; on the cluster a run is success, degraded, failed, canceled, running or crashed"))
	}
	c, code := dialFor("runs", &f.temporal, stderr)
	if c == nil {
		return code
	}
	defer c.Close()
	runs, err := temporal.ListRuns(ctx, c, f.temporal.namespace, temporal.RunFilter{Workflow: filter.Workflow,
		Status: filter.Status, Since: filter.Since, Until: filter.Until, Limit: filter.Limit})
	if err != nil {
		return clusterError(stderr, "runs", err)
	}
	if f.format == "json" {
		if runs == nil {
			runs = []temporal.RunInfo{}
		}
		writeJSON(stdout, runs)
		return exitOK
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "No runs in namespace %s of the Temporal cluster at %s%s.\n", termText(f.temporal.namespace), termText(f.temporal.addr),
			map[bool]string{true: " match", false: " yet"}[filter != (store.RunFilter{})])
		return exitOK
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tSTATUS\tSTARTED (UTC)\tDURATION\tVISITS\tSCENARIO\tRESUMED")
	for _, r := range runs {
		visits := "-"
		if r.HasResult() && r.Visits > 0 {
			visits = fmt.Sprint(r.Visits)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", termText(r.ID), orDash(r.Workflow), r.Status,
			r.Started.UTC().Format("2006-01-02 15:04:05"), ms(r.Elapsed(now)), visits, orDash(r.Scenario), resumedText(r.Resets))
	}
	tw.Flush()
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return termText(s)
}

func resumedText(n int) string {
	if n == 0 {
		return "-"
	}
	return plural(n, "time")
}

// showOnTemporal prints a run on the cluster: a finished run's report and trace, as
// kgrun show prints a local run's; a running or crashed run's state and execs in flight.
func showOnTemporal(ctx context.Context, fs *flag.FlagSet, f *listFlags, id string, stdout, stderr io.Writer) int {
	if n := localOnly(fs, "state", "state-wait"); n != "" {
		return usageError(stderr, "show", fmt.Errorf("--temporal shows a run on the cluster; --%s names a local store: leave one out", n))
	}
	if f.format != "text" && f.format != "json" {
		return usageError(stderr, "show", fmt.Errorf("--format takes text or json, not %q", f.format))
	}
	c, code := dialFor("show", &f.temporal, stderr)
	if c == nil {
		return code
	}
	defer c.Close()
	info, err := temporal.DescribeRun(ctx, c, id)
	if err != nil {
		return clusterError(stderr, "show", err)
	}
	if !info.HasResult() {
		if f.format == "json" {
			writeJSON(stdout, struct {
				Run    temporal.RunInfo `json:"run"`
				Status string           `json:"status"`
			}{info, info.Status})
			return exitOK
		}
		writeUnfinished(stdout, info, &f.temporal)
		return exitOK
	}
	g, err := runGraph(ctx, c, info)
	if err != nil {
		return clusterError(stderr, "show", err)
	}
	res, events, err := temporal.RunResult(ctx, c, info)
	if err != nil {
		return clusterError(stderr, "show", err)
	}
	info.Status = string(res.Status) // a run recorded before runs kept it in their memo
	if info.Visits == 0 {
		info.Visits = res.Steps()
	}
	st := newStats()
	for _, e := range events {
		st.Event(e)
	}
	if f.noTrace {
		events = nil
	}
	if f.format == "json" {
		writeJSON(stdout, struct {
			Run    temporal.RunInfo `json:"run"`
			Status string           `json:"status"`
			Path   []engine.Step    `json:"path"`
			Shared map[string]any   `json:"shared"`
			Calls  map[string]int   `json:"calls"`
			Trace  []engine.Event   `json:"trace,omitempty"`
		}{info, info.Status, res.Path, res.Shared, res.Calls, events})
		return exitOK
	}
	writeRunHeader(stdout, info)
	writeReport(stdout, res, st, g.Spec().NodeNames(), reportOptions{})
	writeTrace(stdout, events, 0)
	return exitOK
}

// writeRunHeader writes the line kgrun show starts a run with.
func writeRunHeader(w io.Writer, r temporal.RunInfo) {
	fmt.Fprintf(w, "Run %s · %s · started %s · on Temporal", termText(r.ID), orDash(r.File), r.Started.UTC().Format("2006-01-02 15:04:05 MST"))
	if r.Resets > 0 {
		fmt.Fprintf(w, " · resumed %s", plural(r.Resets, "time"))
	}
	fmt.Fprintln(w)
}

// writeUnfinished writes what is known of a run without a result: what it runs, its
// state, and the execs it has in flight or how to continue it.
func writeUnfinished(w io.Writer, r temporal.RunInfo, t *temporalFlags) {
	writeRunHeader(w, r)
	header := orDash(r.Workflow)
	if r.Scenario != "" {
		header += " · scenario " + termText(r.Scenario)
	}
	fmt.Fprintf(w, "%s · seed %d\n", header, r.Seed)
	if r.Status == temporal.StatusRunning {
		fmt.Fprintf(w, "Status: running for %s\n", ms(r.Elapsed(time.Now())))
		if len(r.Pending) == 0 {
			fmt.Fprintln(w, "\nNo exec in flight (the run is between visits, waiting on a timer, or waiting for a worker).")
			return
		}
		fmt.Fprintln(w, "\nIn flight")
		for _, p := range r.Pending {
			line := fmt.Sprintf("  %s  %s  %s", termText(p.ActivityID), strings.TrimPrefix(p.Type, temporal.ExecActivityPrefix), strings.ToLower(p.State))
			if p.Worker != "" {
				line += " on " + termText(p.Worker)
			}
			if !p.Started.IsZero() {
				line += fmt.Sprintf(" since %s", p.Started.UTC().Format("15:04:05"))
			}
			if p.Delivery > 1 {
				line += fmt.Sprintf(" (delivery %d)", p.Delivery)
			}
			if p.LastError != "" {
				line += " · last error: " + termText(p.LastError)
			}
			fmt.Fprintln(w, line)
		}
		return
	}
	ended := map[string]string{"TimedOut": "timed out", "ContinuedAsNew": "continued as new"}[r.Execution]
	if ended == "" {
		ended = strings.ToLower(r.Execution)
	}
	fmt.Fprintf(w, "Status: %s (its workflow execution %s after %s, without a result)\n", r.Status, termText(ended), ms(r.Elapsed(time.Now())))
	fmt.Fprintf(w, "  kgrun resume %s --temporal %s --namespace %s continues it after its last completed step\n",
		termText(r.ID), termText(t.addr), termText(t.namespace))
}

// runGraph compiles the bundle the run travels with, for its node names (and, on
// resume, to compare with the file given).
func runGraph(ctx context.Context, c sdkclient.Client, r temporal.RunInfo) (*engine.Graph, error) {
	req, err := temporal.RunRequestOf(ctx, c, r.ID, r.TemporalRunID)
	if err != nil {
		return nil, err
	}
	g, ds := engine.LoadBundle(req.Bundle, newRegistry(nil))
	if g == nil {
		return nil, fmt.Errorf("run %s: its workflow does not compile with this kgrun:\n%s", r.ID, ds.Error())
	}
	return g, nil
}

// resumeOnTemporal continues a run on the cluster that ended without a result (reset
// after its last completed workflow task), or follows one still running, and prints its
// report. The run goes on with its own bundle and options: FILE, when given, must be
// the same graph.
func resumeOnTemporal(ctx context.Context, fs *flag.FlagSet, f *resumeFlags, pos []string, stdout, stderr io.Writer) int {
	if n := localOnly(fs, "scenario", "set", "from", "max-steps", "clock-start", "state", "state-wait", "commit-every"); n != "" {
		return usageError(stderr, "resume", fmt.Errorf("--temporal continues the run as it started, with its own bundle and options, from its last completed step: leave out --%s", n))
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageError(stderr, "resume", fmt.Errorf("usage: kgrun resume RUN_ID [FILE] --temporal HOST:PORT: name the run (kgrun runs --temporal lists them)"))
	}
	if f.format != "text" && f.format != "json" {
		return usageError(stderr, "resume", fmt.Errorf("--format takes text or json, not %q", f.format))
	}
	var file *engine.Graph
	if len(pos) == 2 {
		var code int
		if file, code = load(pos[1], stderr, nil); file == nil {
			return code
		}
	}
	st := newStats()
	tracer, closeTrace, err := traceTo(f.trace, st, stderr)
	if err != nil {
		return usageError(stderr, "resume", err)
	}
	defer closeTrace()
	c, code := dialFor("resume", &f.temporal, stderr)
	if c == nil {
		return code
	}
	defer c.Close()
	info, err := temporal.DescribeRun(ctx, c, pos[0])
	if err != nil {
		return clusterError(stderr, "resume", err)
	}
	g, err := runGraph(ctx, c, info)
	if err != nil {
		return clusterError(stderr, "resume", err)
	}
	if file != nil {
		if ff, rf := file.Fingerprint(), g.Fingerprint(); ff.Hash != rf.Hash {
			return clusterError(stderr, "resume", fmt.Errorf("%s: %w since run %s started: it %s\nThe run goes on with the workflow it started with; resume without FILE, or start a new run",
				pos[1], durable.ErrChanged, info.ID, rf.Diff(ff)))
		}
	}
	run, how, err := temporal.Resume(ctx, c, f.temporal.namespace, info)
	if err != nil {
		return clusterError(stderr, "resume", err)
	}
	res, events, err := temporal.Wait(ctx, run)
	if err != nil {
		return clusterError(stderr, "resume", err)
	}
	for _, e := range events {
		tracer.Event(e)
	}
	ro := reportOptions{color: !f.noColor && isTerminal(stdout), runID: info.ID, resumed: how}
	return printResult(stdout, res, st, g.Spec().NodeNames(), f.format, ro)
}
