package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/kgrun/kgrun/engine"
)

// runOnStderr runs the flagship's network scenario with stderr going to errFile and
// returns stdout.
func runOnStderr(t *testing.T, errFile *os.File, extra ...string) string {
	t.Helper()
	args := append([]string{flagship, "--scenario", "network", "--seed", "14", "--virtual-time", "--state", "none",
		"--set", "alternate_dir=" + t.TempDir()}, extra...)
	var out bytes.Buffer
	run(context.Background(), args, &out, errFile)
	return out.String()
}

// TestProgressOnTTY: with stderr a real terminal (a pty), a run draws its progress line
// (the current node, then the attempt and the retry's wait) and erases it at the end.
func TestProgressOnTTY(t *testing.T) {
	t.Setenv("CI", "")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty on this system: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once the tty side closes
		got <- string(b)
	}()
	stdout := runOnStderr(t, tty)
	tty.Close()
	var seen string
	select {
	case seen = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the pty never closed")
	}
	if !strings.HasPrefix(seen, "\r0s · collect") {
		t.Errorf("progress starts %q, want the collect node drawn at 0s", first(seen, 60))
	}
	if !strings.Contains(seen, "attempt 1") || !strings.Contains(seen, "waiting") {
		t.Errorf("no attempt or retry wait drawn in %q", seen)
	}
	if !strings.HasSuffix(seen, "\r\x1b[K") {
		t.Errorf("the line is not erased at the end: ends %q", seen[max(0, len(seen)-40):])
	}
	if !strings.Contains(stdout, "DEGRADED") {
		t.Errorf("report missing: %q", stdout)
	}
}

// TestNoProgressOffTTY: a pipe, CI, --format json and --no-progress get no progress.
func TestNoProgressOffTTY(t *testing.T) {
	cases := []struct {
		name  string
		ci    string
		extra []string
		pty   bool
	}{
		{name: "pipe"},
		{name: "ci", ci: "true", pty: true},
		{name: "json", extra: []string{"--format", "json"}, pty: true},
		{name: "no-progress", extra: []string{"--no-progress"}, pty: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("CI", c.ci)
			var r, w *os.File
			var err error
			if c.pty {
				r, w, err = pty.Open()
				if err != nil {
					t.Skipf("no pty: %v", err)
				}
			} else if r, w, err = os.Pipe(); err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := make(chan string)
			go func() {
				b, _ := io.ReadAll(r)
				got <- string(b)
			}()
			runOnStderr(t, w, c.extra...)
			w.Close()
			if s := <-got; strings.Contains(s, "\r") || strings.Contains(s, "collect") {
				t.Errorf("progress written: %q", s)
			}
		})
	}
}

// TestProgressThrottle: events closer together than progressEvery redraw once, a
// retry's wait is drawn at once, and a line is cut to the terminal's width.
func TestProgressThrottle(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &progress{w: &buf, width: 30, now: func() time.Time { return now }}
	p.Event(engine.Event{Kind: engine.EventNodeStart, Node: "collect", Visit: 1})
	p.Event(engine.Event{Kind: engine.EventAttempt, Node: "collect", Attempt: 1})
	if n := strings.Count(buf.String(), "\r"); n != 1 {
		t.Fatalf("%d draws within %s, want 1: %q", n, progressEvery, buf.String())
	}
	p.Event(engine.Event{Kind: engine.EventRetryScheduled, Node: "collect", Attempt: 2, Delay: engine.Duration(time.Second)})
	if !strings.HasSuffix(buf.String(), "\r0s · collect · attempt 1 · wa\x1b[K") {
		t.Fatalf("retry not drawn at once, cut to 29 columns: %q", buf.String())
	}
	now = now.Add(progressEvery)
	p.Event(engine.Event{Kind: engine.EventAttempt, Node: "collect", Attempt: 2, At: engine.Duration(time.Second)})
	if !strings.HasSuffix(buf.String(), "\r1s · collect · attempt 2\x1b[K") {
		t.Fatalf("after %s: %q", progressEvery, buf.String())
	}
	p.Event(engine.Event{Kind: engine.EventRunEnd})
	if !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Fatalf("not erased: %q", buf.String())
	}
}

func first(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
