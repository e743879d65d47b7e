package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/telemetry"
)

// telemetryFlushWait bounds how long kgrun waits at exit for the OTLP receiver.
const telemetryFlushWait = 5 * time.Second

// observe composes base (the report's tracer) with what else watches a run: the live
// progress line on a terminal, and OpenTelemetry export with --otel or the standard
// OTEL_EXPORTER_OTLP_* variables. The function returned flushes and shuts the exporters
// down; call it once the run's output is written.
func observe(ctx context.Context, g *engine.Graph, clock engine.Clock, f *runFlags, base engine.Tracer, stderr io.Writer) (engine.Tracer, func(), error) {
	tracers := engine.Tee{base}
	if p := progressFor(stderr, f.noProgress, f.format); p != nil {
		tracers = append(tracers, p)
	}
	done := func() {}
	if f.otel || telemetry.EnvEnabled() {
		if f.runs > 1 && f.concurrency > 1 {
			// One tracer follows one run at a time; concurrent runs' events interleave.
			if f.otel {
				return nil, nil, fmt.Errorf("--otel traces runs one at a time; use --concurrency 1 with --runs")
			}
			fmt.Fprintln(stderr, "kgrun: OpenTelemetry export is off for concurrent runs; use --concurrency 1 to trace them")
		} else {
			// The SDK reports failed exports through its global handler; say them as kgrun does.
			otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
				fmt.Fprintf(stderr, "kgrun: telemetry: %s\n", termText(err.Error()))
			}))
			x, err := telemetry.Start(ctx)
			if err != nil {
				return nil, nil, err
			}
			tr, err := telemetry.New(ctx, g, clock, x.Traces, x.Metrics)
			if err != nil {
				return nil, nil, err
			}
			tracers = append(tracers, tr)
			done = func() {
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryFlushWait)
				defer cancel()
				if err := x.Shutdown(sctx); err != nil {
					fmt.Fprintf(stderr, "kgrun: %s\n", termText(err.Error()))
				}
			}
		}
	}
	if len(tracers) == 1 {
		return base, done, nil
	}
	return tracers, done, nil
}
