package store

import (
	"context"
	"testing"
	"time"
)

// TestWatchSeesOtherWriters: a watcher on one handle is told of commits made through
// another handle (as by another process), once per look that finds any, and stops with
// its context.
func TestWatchSeesOtherWriters(t *testing.T) {
	reader, path := openTemp(t)
	writer, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	changes := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reader.Watch(ctx, time.Millisecond, func() { changes <- struct{}{} }) }()
	for i := range 3 {
		newRun(t, writer, "w", StatusRunning, time.Now())
		select {
		case <-changes:
		case <-time.After(10 * time.Second):
			t.Fatalf("no change seen after commit %d", i+1)
		}
	}
	select {
	case <-changes:
		t.Fatal("a change was reported with no commit")
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watch returned %v after its context ended", err)
	}
}
