package temporal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/kgrun/kgrun/engine"
)

// The histories in testdata/histories were recorded on a Temporal dev server
// (TestClusterRecordHistories, KGRUN_TEMPORAL=1 KGRUN_RECORD=1). Replaying them guards
// that this build's run workflow makes the same commands as the build that recorded
// them: a change to kgrun that breaks that would break every run in flight.

func recordedHistories(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = data
	}
	return out
}

// recordedBundle is the bundle a recorded run was started with.
func recordedBundle(t *testing.T, history []byte) engine.Bundle {
	t.Helper()
	h, err := client.HistoryFromJSON(bytes.NewReader(history), client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var req RunRequest
	p := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	if err := converter.GetDefaultDataConverter().FromPayload(p, &req); err != nil {
		t.Fatal(err)
	}
	return req.Bundle
}

// edited returns b with its main file changed by replacing old with new.
func edited(t *testing.T, b engine.Bundle, old, new string) engine.Bundle {
	t.Helper()
	src := string(b.Files[b.File])
	if !strings.Contains(src, old) {
		t.Fatalf("%s has no %q", b.File, old)
	}
	files := map[string][]byte{}
	for k, v := range b.Files {
		files[k] = v
	}
	files[b.File] = []byte(strings.Replace(src, old, new, 1))
	return engine.Bundle{File: b.File, Files: files}
}

func TestRecordedHistoriesReplay(t *testing.T) {
	for name, data := range recordedHistories(t) {
		t.Run(name, func(t *testing.T) {
			if err := Replay(data, newRegistry, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReplayAfterAWorkflowChange replays the recorded flagship run as if it had been
// started with an edited file: a change that keeps the run's commands (a description, a
// test's name) replays; one that changes them (collect allowed a
// single attempt, so no retry wait) fails with ErrIncompatible, naming the mismatch.
func TestReplayAfterAWorkflowChange(t *testing.T) {
	data := recordedHistories(t)["fault_tolerant_network_14.json"]
	if data == nil {
		t.Fatal("no recorded flagship run")
	}
	b := recordedBundle(t, data)
	compatible := edited(t, b, "Collects, processes and delivers a batch", "Collects, processes and ships a batch")
	compatible = edited(t, compatible, "name: a clean run delivers everything", "name: a clean run delivers it all")
	if err := Replay(data, newRegistry, &compatible); err != nil {
		t.Errorf("a compatible change does not replay: %v", err)
	}
	incompatible := edited(t, b, "retry: {attempts: 3, delay: 1s", "retry: {attempts: 1, delay: 1s")
	err := Replay(data, newRegistry, &incompatible)
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("an incompatible change replays (err %v); want ErrIncompatible", err)
	}
	if !strings.Contains(err.Error(), "nondeterministic") && !strings.Contains(err.Error(), "non-deterministic") && !strings.Contains(err.Error(), "nondeterminism") {
		t.Errorf("the error does not say what broke: %v", err)
	}
	t.Logf("incompatible change: %v", err)
}
