package store

import (
	"encoding/json"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// FuzzDecodeRecord feeds arbitrary bytes, keys and sums to the decoding every record read
// from a store goes through: it must never panic, and it accepts only records whose sum
// matches, decoding them to what they say.
func FuzzDecodeRecord(f *testing.F) {
	cp, _ := json.Marshal(&engine.Checkpoint{Seq: 3, Step: engine.Step{Node: "a"}, Next: "b", Set: map[string]json.RawMessage{"k": []byte(`[1,2]`)}})
	info, _ := json.Marshal(&RunInfo{ID: "1", Workflow: "w", Nodes: []string{"a"}})
	prog, _ := json.Marshal(&RunProgress{Status: "success", Checkpoints: 3})
	ev, _ := json.Marshal(engine.Event{Kind: engine.EventNodeStart, Node: "a"})
	for _, s := range []struct {
		table, key string
		data       []byte
	}{{"checkpoint", "1/3", cp}, {"run_info", "1", info}, {"run_progress", "1", prog}, {"event", "1/1", ev}, {"state", "breaker/real/w/a", []byte(`{"state":"open"}`)}} {
		f.Add(s.table, s.key, s.data, checksum(s.table, s.key, s.data))
		f.Add(s.table, s.key, s.data, checksum(s.table, s.key, s.data)+1)
	}
	f.Add("checkpoint", "1/3", []byte(`{"seq":`), int64(0))
	f.Fuzz(func(t *testing.T, table, key string, data []byte, sum int64) {
		targets := map[string]func() any{
			"checkpoint":   func() any { return new(engine.Checkpoint) },
			"run_info":     func() any { return new(RunInfo) },
			"run_progress": func() any { return new(RunProgress) },
			"event":        func() any { return new(engine.Event) },
			"state":        func() any { return new(any) },
		}
		for name, newV := range targets {
			err := decodeRecord(table, key, data, sum, newV())
			if err == nil && (checksum(table, key, data) != sum || !json.Valid(data)) {
				t.Fatalf("%s: accepted a record whose sum or bytes are wrong", name)
			}
		}
		if cp, err := decodeCheckpoint("1", 3, data, sum); err == nil && cp.Seq != 3 {
			t.Fatalf("checkpoint 3 decoded as visit %d", cp.Seq)
		}
	})
}
