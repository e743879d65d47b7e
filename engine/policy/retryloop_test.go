package policy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// scriptedCall is a RetryCall on a fake clock: attempt n returns script[n-1] (nil: success
// with n as the result), each attempt takes cost on the clock, and errors wrapping
// errFatal are not retryable. cancelAt > 0 cancels the context during that wait.
type scriptedCall struct {
	script   []error
	cost     time.Duration
	cancelAt int
	cancel   context.CancelFunc

	now       time.Time
	attempts  []int
	waits     []time.Duration
	scheduled []Scheduled
	jitters   []int
}

var (
	errFlaky = errors.New("flaky")
	errFatal = errors.New("fatal")
)

// canceledError stands for the caller's canceled kind.
type canceledError struct{ error }

func (e canceledError) Unwrap() error { return e.error }

func (c *scriptedCall) Now() time.Time { return c.now }

func (c *scriptedCall) Sleep(ctx context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	if len(c.waits) == c.cancelAt {
		c.cancel()
		return ctx.Err()
	}
	c.now = c.now.Add(d)
	return nil
}

func (c *scriptedCall) Attempt(_ context.Context, n int) (any, error) {
	c.attempts = append(c.attempts, n)
	c.now = c.now.Add(c.cost)
	if err := c.script[n-1]; err != nil {
		return nil, err
	}
	return n, nil
}

func (c *scriptedCall) Retryable(err error) bool { return !errors.Is(err, errFatal) }

func (c *scriptedCall) Jitter(n int) *rand.Rand {
	c.jitters = append(c.jitters, n)
	return rand.New(rand.NewPCG(7, uint64(n)))
}

func (c *scriptedCall) Scheduled(s Scheduled) { c.scheduled = append(c.scheduled, s) }

func (c *scriptedCall) Canceled(err error) error { return canceledError{err} }

func TestDoRetry(t *testing.T) {
	s := time.Second
	fixed := &Retry{Attempts: 4, Delay: s, Multiplier: 2}
	flaky := func(n int) []error { // n flaky failures, then success
		es := make([]error, 8)
		for i := range n {
			es[i] = errFlaky
		}
		return es
	}
	cases := []struct {
		name      string
		p         *Retry
		call      scriptedCall
		attempts  int
		out       any
		waits     []time.Duration
		errIs     error  // nil: the call succeeds
		errHas    string // a part of the error's message
		exhausted bool
		canceled  bool
	}{
		{name: "first attempt succeeds", p: fixed, call: scriptedCall{script: flaky(0)}, attempts: 1, out: 1},
		{name: "no policy makes one attempt", call: scriptedCall{script: flaky(3)}, attempts: 1, errIs: errFlaky},
		{name: "attempts 1 does not retry", p: &Retry{Attempts: 1, Delay: s}, call: scriptedCall{script: flaky(3)},
			attempts: 1, errIs: errFlaky},
		{name: "succeeds on the third", p: fixed, call: scriptedCall{script: flaky(2)}, attempts: 3, out: 3,
			waits: []time.Duration{s, 2 * s}},
		{name: "exhausted", p: fixed, call: scriptedCall{script: flaky(8)}, attempts: 4,
			waits: []time.Duration{s, 2 * s, 4 * s}, errIs: errFlaky, exhausted: true},
		{name: "non-retryable first error stops at once", p: fixed, call: scriptedCall{script: []error{errFatal}},
			attempts: 1, errIs: errFatal},
		{name: "non-retryable later error stops", p: fixed, call: scriptedCall{script: []error{errFlaky, errFlaky, errFatal}},
			attempts: 3, waits: []time.Duration{s, 2 * s}, errIs: errFatal},
		{name: "max_duration refuses the first retry", p: &Retry{Attempts: 5, Delay: 5 * s, MaxDuration: 4 * s},
			call: scriptedCall{script: flaky(8)}, attempts: 1, errIs: errFlaky, errHas: "max_duration 4s would be exceeded", exhausted: true},
		{name: "max_duration stops a later retry", p: &Retry{Attempts: 9, Delay: s, Multiplier: 2, MaxDuration: 4 * s},
			call: scriptedCall{script: flaky(8)}, attempts: 3, waits: []time.Duration{s, 2 * s},
			errIs: errFlaky, errHas: "max_duration 4s would be exceeded", exhausted: true},
		{name: "max_duration counts attempt time", p: &Retry{Attempts: 9, Delay: s, MaxDuration: 4 * s},
			call: scriptedCall{script: flaky(8), cost: s}, attempts: 3, waits: []time.Duration{s, s},
			errIs: errFlaky, errHas: "would be exceeded", exhausted: true},
		{name: "retry-after lengthens the wait", p: fixed,
			call: scriptedCall{script: []error{WithRetryAfter(errFlaky, 3*s), nil}}, attempts: 2, out: 2,
			waits: []time.Duration{3 * s}},
		{name: "retry-after capped by max_delay", p: &Retry{Attempts: 3, Delay: s, MaxDelay: 2 * s},
			call: scriptedCall{script: []error{WithRetryAfter(errFlaky, time.Minute), nil}}, attempts: 2, out: 2,
			waits: []time.Duration{2 * s}},
		{name: "canceled during the first wait", p: fixed, call: scriptedCall{script: flaky(8), cancelAt: 1},
			attempts: 1, waits: []time.Duration{s}, errIs: context.Canceled, errHas: "(last attempt: flaky)", canceled: true},
		{name: "canceled during a later wait", p: fixed, call: scriptedCall{script: flaky(8), cancelAt: 2},
			attempts: 2, waits: []time.Duration{s, 2 * s}, errIs: context.Canceled, errHas: "(last attempt: flaky)", canceled: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := tc.call
			c.cancel = cancel
			o := DoRetry(ctx, tc.p, &c)
			if o.Attempts != tc.attempts || len(c.attempts) != tc.attempts {
				t.Fatalf("attempts = %d (made %v), want %d", o.Attempts, c.attempts, tc.attempts)
			}
			if !slices.Equal(c.waits, tc.waits) {
				t.Errorf("waits = %v, want %v", c.waits, tc.waits)
			}
			if o.Out != tc.out {
				t.Errorf("out = %v, want %v", o.Out, tc.out)
			}
			switch {
			case tc.errIs == nil && o.Err != nil:
				t.Errorf("err = %v, want none", o.Err)
			case tc.errIs != nil && !errors.Is(o.Err, tc.errIs):
				t.Errorf("err = %v, want %v", o.Err, tc.errIs)
			case tc.errHas != "" && !strings.Contains(fmt.Sprint(o.Err), tc.errHas):
				t.Errorf("err = %v, want it to say %q", o.Err, tc.errHas)
			}
			if o.Exhausted != tc.exhausted {
				t.Errorf("exhausted = %v, want %v", o.Exhausted, tc.exhausted)
			}
			if _, ok := o.Err.(canceledError); ok != tc.canceled {
				t.Errorf("err %v marked canceled = %v, want %v", o.Err, ok, tc.canceled)
			}
			// Every wait was announced first, for the attempt after it.
			if len(c.scheduled) != len(c.waits) {
				t.Fatalf("scheduled %d retries, waited %d times", len(c.scheduled), len(c.waits))
			}
			for i, sc := range c.scheduled {
				if sc.Next != i+2 || sc.Wait != c.waits[i] || sc.Err == nil {
					t.Errorf("scheduled[%d] = %+v, want attempt %d after %v", i, sc, i+2, c.waits[i])
				}
			}
		})
	}
}

func TestDoRetryAskedAndJitter(t *testing.T) {
	p := &Retry{Attempts: 4, Delay: time.Second, Multiplier: 2, Jitter: true}
	c := scriptedCall{script: []error{errFlaky, WithRetryAfter(errFlaky, time.Hour), errFlaky, errFlaky}}
	o := DoRetry(context.Background(), p, &c)
	if !o.Exhausted || o.Attempts != 4 {
		t.Fatalf("outcome = %+v, want 4 attempts exhausted", o)
	}
	// The jitter source is the caller's, drawn once per failed attempt that is retried.
	if !slices.Equal(c.jitters, []int{1, 2, 3}) {
		t.Errorf("jitter drawn for %v, want [1 2 3]", c.jitters)
	}
	for i, n := range []int{1, 3} {
		want := p.Wait(n, rand.New(rand.NewPCG(7, uint64(n))))
		if got := c.waits[n-1]; got != want {
			t.Errorf("wait %d = %v, want %v (wait %d)", n, got, want, i)
		}
	}
	if got := c.scheduled[1]; got.Wait != time.Hour || got.Asked != time.Hour {
		t.Errorf("after a Retry-After of 1h, scheduled %+v", got)
	}
	if c.scheduled[0].Asked != 0 {
		t.Errorf("a wait nobody asked for reports Asked %v", c.scheduled[0].Asked)
	}
}
