package engine

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// askingNode fails its first calls with a resource error that asks for a wait.
type askingNode struct {
	echoNode
	fails int
	after time.Duration
}

func (n *askingNode) Exec(ctx context.Context, a *Attempt, in any) (any, error) {
	if a.Call() <= n.fails {
		return nil, WithRetryAfter(Errorf(Resource, "busy"), n.after)
	}
	return n.echoNode.Exec(ctx, a, in)
}

func TestRetryAfterLengthensTheWait(t *testing.T) {
	cases := []struct {
		name   string
		retry  string
		after  time.Duration
		delays string
		asked  time.Duration
		status Status
	}{
		{"longer than backoff", "{attempts: 3, delay: 1s}", 4 * time.Second, "4s 4s", 4 * time.Second, StatusSuccess},
		{"shorter than backoff keeps backoff", "{attempts: 3, delay: 5s}", 2 * time.Second, "5s 5s", 2 * time.Second, StatusSuccess},
		{"capped by max_delay", "{attempts: 3, delay: 1s, max_delay: 3s}", time.Minute, "3s 3s", time.Minute, StatusSuccess},
		{"refused by max_duration", "{attempts: 3, delay: 1s, max_duration: 10s}", 30 * time.Second, "", 0, StatusFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := NewRegistry()
			err := reg.Register(NodeType{Name: "ask", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) {
				return &askingNode{echoNode: echoNode{action: "success"}, fails: 2, after: c.after}, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			src := fmt.Sprintf("version: 1\nname: ra\nstart: work\nnodes:\n  work: {type: ask, retry: %s}\n", c.retry)
			g, ds := Load("ra.yaml", []byte(src), reg)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			res, events := runVirtual(t, g, RunOptions{Seed: 1})
			if res.Status != c.status {
				t.Fatalf("status %s, want %s", res.Status, c.status)
			}
			if got := delays(events); got != c.delays {
				t.Errorf("waits %q, want %q", got, c.delays)
			}
			for _, e := range eventsOf(events, EventRetryScheduled) {
				if time.Duration(e.RetryAfter) != c.asked {
					t.Errorf("retry_after %s, want %s", e.RetryAfter, c.asked)
				}
			}
		})
	}
}

func TestRetryAfterOf(t *testing.T) {
	base := Errorf(Resource, "busy")
	if WithRetryAfter(base, 0) != base || WithRetryAfter(nil, time.Second) != nil {
		t.Error("a zero wait or a nil error should be returned unchanged")
	}
	err := fmt.Errorf("call: %w", WithRetryAfter(base, 2*time.Second))
	if d, ok := RetryAfter(err); !ok || d != 2*time.Second || KindOf(err) != Resource {
		t.Errorf("RetryAfter = %s, %v, kind %s", d, ok, KindOf(err))
	}
}
