package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// EnvEnabled reports whether the environment asks for OTLP export: any
// OTEL_EXPORTER_OTLP_* endpoint variable is set.
func EnvEnabled() bool {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// Exporter holds the SDK providers exporting over OTLP/HTTP. Shutdown flushes them.
type Exporter struct {
	Traces  *sdktrace.TracerProvider
	Metrics *sdkmetric.MeterProvider
}

// Start configures OTLP/HTTP export of traces and metrics from the standard
// OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout; default
// http://localhost:4318), names the service "kgrun" unless OTEL_SERVICE_NAME says
// otherwise, and sets the global W3C trace-context propagator so http nodes' requests
// carry the trace.
func Start(ctx context.Context) (*Exporter, error) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"} {
		if p := os.Getenv(k); p != "" && p != "http/protobuf" {
			return nil, fmt.Errorf("%s=%s: kgrun exports OTLP over http/protobuf only; unset it or set http/protobuf", k, p)
		}
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "kgrun")), resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	te, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	me, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP metric exporter: %w", err)
	}
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return &Exporter{
		Traces:  sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res)),
		Metrics: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me)), sdkmetric.WithResource(res)),
	}, nil
}

// Shutdown flushes what is buffered and stops both providers; ctx bounds how long it
// waits for the receiver.
func (x *Exporter) Shutdown(ctx context.Context) error {
	var errs []string
	if err := x.Traces.Shutdown(ctx); err != nil {
		errs = append(errs, "traces: "+err.Error())
	}
	if err := x.Metrics.Shutdown(ctx); err != nil {
		errs = append(errs, "metrics: "+err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("flushing telemetry: %s", strings.Join(errs, "; "))
	}
	return nil
}
