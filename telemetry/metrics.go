package telemetry

import (
	"fmt"

	"go.opentelemetry.io/otel/metric"
)

// instruments are the metrics a Tracer records.
type instruments struct {
	runs    metric.Int64Counter
	attempt metric.Float64Histogram
	retries metric.Int64Counter
	breaker metric.Int64Gauge
}

// The metric names.
const (
	MetricRuns    = "kgrun.runs"
	MetricAttempt = "kgrun.attempt.duration"
	MetricRetries = "kgrun.retries"
	MetricBreaker = "kgrun.breaker.state"
)

func newInstruments(m metric.Meter) (*instruments, error) {
	var in instruments
	var err error
	if in.runs, err = m.Int64Counter(MetricRuns, metric.WithDescription("Runs ended, by status."), metric.WithUnit("{run}")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricRuns, err)
	}
	if in.attempt, err = m.Float64Histogram(MetricAttempt, metric.WithDescription("Latency of node attempts on the run's clock."), metric.WithUnit("s")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricAttempt, err)
	}
	if in.retries, err = m.Int64Counter(MetricRetries, metric.WithDescription("Retries scheduled, by node and error kind."), metric.WithUnit("{retry}")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricRetries, err)
	}
	if in.breaker, err = m.Int64Gauge(MetricBreaker, metric.WithDescription("Circuit breaker state: 0 closed, 1 half-open, 2 open.")); err != nil {
		return nil, fmt.Errorf("metric %s: %w", MetricBreaker, err)
	}
	return &in, nil
}
