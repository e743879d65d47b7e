package store

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// copyFixture copies a file from testdata into a temporary directory.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "state.db")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	return path
}

// TestMigratesFormat1: testdata/format1.db was written by kgrun's format 1 (bbolt) code:
// three runs of the flagship and durable workflows (event counts as format 1 showed them). Opening it migrates every run, its
// journal, trace and the breaker and cache state, and keeps the original beside it.
func TestMigratesFormat1(t *testing.T) {
	path := copyFixture(t, "format1.db")
	for _, ro := range []bool{true, false} { // the second open finds it migrated already
		s, err := Open(path, Options{ReadOnly: ro})
		if err != nil {
			t.Fatal(err)
		}
		runs, err := s.Runs(RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range runs {
			n := 0
			if err := s.Checkpoints(m.ID, 0, func(*engine.Checkpoint) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			ev, err := s.EventCount(m.ID)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.Join([]string{m.ID, m.Workflow, StatusOf(m), m.Scenario, itoa(n), itoa(m.Visits), itoa(ev)}, ":"))
		}
		want := "3:durable:success::4:4:17 2:fault-tolerant:degraded:storage:5:5:27 1:fault-tolerant:success::4:4:19"
		if strings.Join(got, " ") != want {
			t.Errorf("runs after migration:\n got %s\nwant %s", strings.Join(got, " "), want)
		}
		var breaker map[string]any
		if ok, err := s.State("breaker/virtual/fault-tolerant/primary_api", &breaker); !ok || err != nil {
			t.Errorf("breaker state: ok %v, err %v", ok, err)
		}
		s.Close()
	}
	if head, _ := readHead(path + ".bbolt"); !isBolt(head) {
		t.Errorf("the format 1 original was not kept as %s.bbolt", path)
	}
	if _, err := os.Stat(path + ".migrating"); !os.IsNotExist(err) {
		t.Errorf("the migration left its temporary file: %v", err)
	}
}
