package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/temporal"
)

// temporalFlags are the flags that point a command at a Temporal cluster.
type temporalFlags struct {
	addr, namespace, taskQueue, sharedState, order string
}

// What a command does on the cluster, which decides the Temporal flags it takes.
const (
	temporalWork   = iota // kgrun worker: polls a task queue
	temporalRun           // kgrun FILE: starts runs on a task queue
	temporalClient        // runs, show, resume: reach runs by ID
)

func (t *temporalFlags) register(fs *flag.FlagSet, kind int) {
	what := map[int]string{
		temporalWork:   "work for the Temporal cluster at `HOST:PORT`",
		temporalRun:    "run on the Temporal cluster at `HOST:PORT` instead of in this process",
		temporalClient: "read runs on the Temporal cluster at `HOST:PORT` instead of the store",
	}[kind]
	fs.StringVar(&t.addr, "temporal", "", what)
	fs.StringVar(&t.namespace, "namespace", "default", "the Temporal `NAMESPACE`")
	if kind != temporalClient {
		fs.StringVar(&t.taskQueue, "task-queue", "kgrun", "the Temporal task `QUEUE` kgrun workers poll")
	}
	if kind == temporalRun {
		fs.StringVar(&t.sharedState, "shared-state", temporal.SharedCluster, "with --temporal, keep breakers and bulkheads in the `cluster` (shared by every worker and run) or in each run")
		fs.StringVar(&t.order, "order", temporal.OrderParallel, "with --temporal, run map items and parallel branches side by side (`parallel`) or one at a time in the local engine's virtual-time order (exact), so that the run ends as it does locally for the same seed")
	}
}

// dial connects to the cluster, logging the SDK's warnings and errors to stderr.
func (t *temporalFlags) dial(stderr io.Writer) (sdkclient.Client, error) {
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := sdkclient.Dial(sdkclient.Options{HostPort: t.addr, Namespace: t.namespace, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s: %w (is a server running there? temporal server start-dev --ip 127.0.0.1 starts one)", t.addr, err)
	}
	return c, nil
}

func newWorkerFlags() (*flag.FlagSet, *temporalFlags) {
	t := &temporalFlags{}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	t.register(fs, temporalWork)
	return fs, t
}

// workerCommand runs a Temporal worker for kgrun's workflows until interrupted.
func workerCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, t := newWorkerFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return usageError(stderr, "worker", fmt.Errorf("want no arguments, got %d; usage: kgrun worker --temporal HOST:PORT", len(pos)))
	}
	if t.addr == "" {
		return usageError(stderr, "worker", fmt.Errorf("--temporal HOST:PORT is required: the cluster to work for"))
	}
	c, err := t.dial(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kgrun worker: %s\n", termText(err.Error()))
		return exitFailed
	}
	defer c.Close()
	w := sdkworker.New(c, t.taskQueue, sdkworker.Options{})
	temporal.NewWorker(func() *engine.Registry { return newRegistry(nil) }, c, temporal.Options{}).Register(w)
	if err := w.Start(); err != nil {
		fmt.Fprintf(stderr, "kgrun worker: starting: %s\n", termText(err.Error()))
		return exitFailed
	}
	fmt.Fprintf(stderr, "kgrun worker: polling task queue %q of namespace %q at %s\n", t.taskQueue, t.namespace, t.addr)
	<-ctx.Done()
	w.Stop()
	return exitOK
}

// runOnTemporal runs g on the cluster, follows it, and prints the same report and JSON
// as a local run, the events replayed through the local tracer (stats, --trace).
func runOnTemporal(ctx context.Context, g *engine.Graph, opts engine.RunOptions, f *runFlags, st *stats, stdout, stderr io.Writer) int {
	t := &f.temporal
	c, err := t.dial(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kgrun run: %s\n", termText(err.Error()))
		return exitFailed
	}
	defer c.Close()
	req := temporal.NewRunRequest(g, opts)
	req.SharedState = t.sharedState
	req.Order = t.order
	req.Trace = opts.Tracer != nil
	id := "kgrun-" + g.Spec().Name + "-" + strconv.FormatInt(opts.Seed, 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	run, err := temporal.Start(ctx, c, t.taskQueue, id, req)
	if err != nil {
		fmt.Fprintf(stderr, "kgrun run: %s\n", termText(err.Error()))
		return exitFailed
	}
	res, events, err := temporal.Wait(ctx, run)
	if err != nil {
		fmt.Fprintf(stderr, "kgrun run: %s\n", termText(err.Error()))
		return exitFailed
	}
	if opts.Tracer != nil {
		for _, e := range events {
			opts.Tracer.Event(e)
		}
	}
	ro := reportOptions{virtual: false, color: !f.noColor && isTerminal(stdout), runID: run.GetID()}
	return printResult(stdout, res, st, g.Spec().NodeNames(), f.format, ro)
}
