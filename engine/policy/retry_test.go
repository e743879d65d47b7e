package policy

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestRetryBackoff(t *testing.T) {
	cases := []struct {
		name string
		p    Retry
		n    int
		want time.Duration
	}{
		{"fixed first", Retry{Delay: time.Second, Multiplier: 1}, 1, time.Second},
		{"fixed later", Retry{Delay: time.Second, Multiplier: 1}, 5, time.Second},
		{"multiplier below 1 is fixed", Retry{Delay: time.Second, Multiplier: 0}, 4, time.Second},
		{"exponential", Retry{Delay: time.Second, Multiplier: 2}, 4, 8 * time.Second},
		{"multiplier 3", Retry{Delay: 100 * time.Millisecond, Multiplier: 3}, 3, 900 * time.Millisecond},
		{"capped", Retry{Delay: time.Second, Multiplier: 2, MaxDelay: 5 * time.Second}, 4, 5 * time.Second},
		{"zero delay", Retry{Multiplier: 2}, 3, 0},
		{"huge n does not overflow", Retry{Delay: time.Second, Multiplier: 2}, 200, time.Duration(math.MaxInt64)},
		{"huge n capped", Retry{Delay: time.Second, Multiplier: 2, MaxDelay: time.Minute}, 200, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.Backoff(c.n); got != c.want {
				t.Errorf("Backoff(%d) = %v, want %v", c.n, got, c.want)
			}
		})
	}
}

func TestRetryWaitJitter(t *testing.T) {
	p := Retry{Delay: time.Second, Multiplier: 2, MaxDelay: 4 * time.Second, Jitter: true}
	r := rand.New(rand.NewPCG(42, 0))
	moved := false
	for n := 1; n <= 200; n++ {
		d := p.Wait(n, r)
		if d < 0 || d > p.Backoff(n) {
			t.Fatalf("Wait(%d) = %v, outside [0, %v]", n, d, p.Backoff(n))
		}
		moved = moved || d != p.Backoff(n)
	}
	if !moved {
		t.Error("jitter changed no wait")
	}
	a, b := rand.New(rand.NewPCG(7, 0)), rand.New(rand.NewPCG(7, 0))
	for n := 1; n <= 10; n++ {
		if x, y := p.Wait(n, a), p.Wait(n, b); x != y {
			t.Fatalf("same seed, Wait(%d) = %v and %v", n, x, y)
		}
	}
	p.Jitter = false
	if got := p.Wait(3, r); got != 4*time.Second {
		t.Errorf("without jitter Wait(3) = %v, want the backoff 4s", got)
	}
	huge := Retry{Delay: time.Second, Multiplier: 2, Jitter: true}
	if d := huge.Wait(200, r); d < 0 {
		t.Errorf("jittered huge wait = %v, want ≥ 0", d)
	}
}

func TestRetryHonourRetryAfter(t *testing.T) {
	base := errors.New("busy")
	cases := []struct {
		name       string
		p          Retry
		err        error
		wait       time.Duration
		want, asks time.Duration
	}{
		{"no request", Retry{}, base, 2 * time.Second, 2 * time.Second, 0},
		{"longer than backoff", Retry{}, WithRetryAfter(base, 4*time.Second), time.Second, 4 * time.Second, 4 * time.Second},
		{"shorter keeps backoff", Retry{}, WithRetryAfter(base, 2*time.Second), 5 * time.Second, 5 * time.Second, 2 * time.Second},
		{"capped by max_delay", Retry{MaxDelay: 3 * time.Second}, WithRetryAfter(base, time.Minute), time.Second, 3 * time.Second, time.Minute},
		{"found through wrapping", Retry{}, fmt.Errorf("call: %w", WithRetryAfter(base, 3*time.Second)), 0, 3 * time.Second, 3 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, asked := c.p.HonourRetryAfter(c.err, c.wait)
			if got != c.want || asked != c.asks {
				t.Errorf("HonourRetryAfter = %v, %v; want %v, %v", got, asked, c.want, c.asks)
			}
		})
	}
	if WithRetryAfter(base, 0) != base || WithRetryAfter(nil, time.Second) != nil {
		t.Error("a zero wait or a nil error should be returned unchanged")
	}
	if !errors.Is(WithRetryAfter(base, time.Second), base) {
		t.Error("WithRetryAfter hides the error it wraps")
	}
}

func TestRetryExceeds(t *testing.T) {
	cases := []struct {
		window, elapsed, next time.Duration
		want                  bool
	}{
		{0, time.Hour, time.Hour, false},
		{10 * time.Second, 3 * time.Second, 4 * time.Second, false},
		{10 * time.Second, 3 * time.Second, 7 * time.Second, false},
		{10 * time.Second, 3 * time.Second, 8 * time.Second, true},
	}
	for _, c := range cases {
		p := Retry{MaxDuration: c.window}
		if got := p.Exceeds(c.elapsed, c.next); got != c.want {
			t.Errorf("window %v: Exceeds(%v, %v) = %v, want %v", c.window, c.elapsed, c.next, got, c.want)
		}
	}
}
