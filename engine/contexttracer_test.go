package engine

import (
	"context"
	"testing"
)

type plainTracer struct{}

func (plainTracer) Event(Event) {}

type spanTracer struct{ plainTracer }

func (spanTracer) AttemptContext(ctx context.Context) context.Context { return ctx }

// TestContextTracerOf: a run carries trace context into attempts only when its tracer, or
// one it tees to at any depth, can; a Tee of plain tracers costs the attempt nothing.
func TestContextTracerOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		tracer Tracer
		want   bool
	}{
		{"none", nil, false},
		{"plain", plainTracer{}, false},
		{"span", spanTracer{}, true},
		{"tee of plain", Tee{plainTracer{}, plainTracer{}}, false},
		{"tee with span", Tee{plainTracer{}, spanTracer{}}, true},
		{"nested tee with span", Tee{plainTracer{}, Tee{spanTracer{}}}, true},
		{"nested tee of plain", Tee{Tee{plainTracer{}}}, false},
	} {
		if got := contextTracerOf(c.tracer) != nil; got != c.want {
			t.Errorf("%s: carries context %v, want %v", c.name, got, c.want)
		}
	}
}
