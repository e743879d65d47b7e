package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kgrun/kgrun/schema"
)

// scenario is a compiled fault-injection scenario.
type scenario struct {
	name   string
	params map[string]any
	faults map[int]*fault // by node index
}

// fault injects failures and latency into one node's exec.
type fault struct {
	rate, rateMax float64
	kind          Kind
	message       string
	latency       time.Duration
	latencyRate   float64
	script        []*schema.FaultStep
}

func (g *Graph) compileScenario(s *schema.Scenario) *scenario {
	sc := &scenario{name: s.Name, params: s.Params, faults: map[int]*fault{}}
	for _, f := range s.Faults {
		n := g.byName[f.Node.Name]
		if n == nil {
			continue // reported by schema
		}
		sc.faults[n.index] = &fault{
			rate: f.Rate, rateMax: f.RateMax, kind: Kind(f.Kind.Name), message: f.Message,
			latency: f.Latency, latencyRate: f.LatencyRate, script: f.Script,
		}
	}
	return sc
}

// Scenarios lists the workflow's scenario names in declaration order.
func (g *Graph) Scenarios() []string {
	out := make([]string, 0, len(g.spec.Scenarios))
	for _, s := range g.spec.Scenarios {
		out = append(out, s.Name)
	}
	return out
}

// activeFault is a fault in one run: its rate is fixed for the run (drawn once when the
// scenario gives a range).
type activeFault struct {
	*fault
	rate float64
}

// inject decides, from the run's seeded stream for (node, call), whether this call is
// delayed and whether it fails. A scripted step for the call number takes precedence over
// the rates. It sleeps on the run's clock, so a per-attempt timeout cuts long latency.
//
// It runs on exec's goroutine, so its events and sleeps go through the attempt, which
// drops them once the run has abandoned the attempt.
func (a *Attempt) inject(ctx context.Context, f *activeFault, call int) error {
	r, n := a.r, a.n
	for _, st := range f.script {
		if call < st.FirstCall || (st.LastCall != 0 && call > st.LastCall) {
			continue
		}
		if st.Latency > 0 {
			a.emit(Event{Kind: EventFaultInjected, Node: n.name, Visit: a.visit, Attempt: a.number, Delay: Duration(st.Latency),
				Message: fmt.Sprintf("scripted latency on call %d", call)})
			if err := a.Sleep(ctx, st.Latency); err != nil {
				return err
			}
		}
		if st.Fail.Name == "" {
			return nil
		}
		msg := st.Message
		if msg == "" {
			msg = fmt.Sprintf("injected %s failure (scripted, call %d)", st.Fail.Name, call)
		}
		a.emit(Event{Kind: EventFaultInjected, Node: n.name, Visit: a.visit, Attempt: a.number, ErrKind: Kind(st.Fail.Name), Message: msg})
		return WithKind(Kind(st.Fail.Name), errors.New(msg))
	}
	rng := a.rng.at(r.seed, n.hash, 0, call, streamFault)
	slow, fail := rng.Float64(), rng.Float64()
	if f.latency > 0 && slow < f.latencyRate {
		a.emit(Event{Kind: EventFaultInjected, Node: n.name, Visit: a.visit, Attempt: a.number, Delay: Duration(f.latency),
			Message: "injected latency"})
		if err := a.Sleep(ctx, f.latency); err != nil {
			return err
		}
	}
	if fail < f.rate {
		msg := f.message
		if msg == "" {
			msg = fmt.Sprintf("injected %s failure", f.kind)
		}
		a.emit(Event{Kind: EventFaultInjected, Node: n.name, Visit: a.visit, Attempt: a.number, ErrKind: f.kind, Message: msg})
		return WithKind(f.kind, errors.New(msg))
	}
	return nil
}
