package store

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// benchCheckpoint is a visit like the flagship's collect: a step, a 50-record batch
// written to the shared store and four trace events.
func benchCheckpoint() (*engine.Checkpoint, []engine.Event) {
	type record struct {
		ID    int    `json:"id"`
		Value int    `json:"value"`
		Src   string `json:"source"`
	}
	recs := make([]record, 50)
	for i := range recs {
		recs[i] = record{ID: i + 1, Value: i * 37 % 1000, Src: "primary_api"}
	}
	batch, _ := json.Marshal(recs)
	cp := &engine.Checkpoint{Step: engine.Step{Node: "collect", Visit: 1, Attempts: 1, Action: "success", To: "process", Route: "edge"},
		Next: "process", Calls: 1, Set: map[string]json.RawMessage{"records": batch, "data_source": json.RawMessage(`"primary_api"`)}}
	events := []engine.Event{{Kind: engine.EventNodeStart, Node: "collect", Visit: 1}, {Kind: engine.EventAttempt, Node: "collect", Visit: 1, Attempt: 1},
		{Kind: engine.EventNodeEnd, Node: "collect", Visit: 1, Action: "success"}, {Kind: engine.EventTransition, Node: "collect", Visit: 1, To: "process"}}
	return cp, events
}

// BenchmarkJournalCommit measures what the journal adds to each visit: encoding the
// checkpoint and its events and writing them to the store. "fsync" commits every visit
// durably; "every64" writes 64 visits per transaction (--commit-every 64); "nosync"
// skips fsync (safe against a process crash, not a machine crash).
func BenchmarkJournalCommit(b *testing.B) {
	for _, c := range []struct {
		name   string
		every  int
		noSync bool
	}{{"fsync", 1, false}, {"every64", 64, false}, {"nosync", 1, true}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{NoSync: c.noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			j := NewRunJournal(s, &RunMeta{RunInfo: RunInfo{Workflow: "bench"}}, c.every)
			if err := j.Start(); err != nil {
				b.Fatal(err)
			}
			cp, events := benchCheckpoint()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for _, e := range events {
					j.Event(e)
				}
				cp.Seq = i + 1
				if err := j.Commit(cp); err != nil {
					b.Fatal(err)
				}
			}
			if err := j.flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/visit")
		})
	}
}

// BenchmarkResumeLoad measures rebuilding a 1,000-visit run from its journal.
func BenchmarkResumeLoad(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	j := NewRunJournal(s, &RunMeta{RunInfo: RunInfo{Workflow: "bench"}}, 100)
	if err := j.Start(); err != nil {
		b.Fatal(err)
	}
	cp, _ := benchCheckpoint()
	for i := range 1000 {
		cp.Seq = i + 1
		cp.Step.Visit = i + 1
		cp.Set["n"] = json.RawMessage(strconv.Itoa(i))
		if err := j.Commit(cp); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadResumePoint(s, j.meta); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommitByWorkflowSize measures a commit for runs of workflows with 100 and
// 10,000 nodes: the run's description (node list, graph lines) is written once, so the
// cost per visit must not depend on the size.
func BenchmarkCommitByWorkflowSize(b *testing.B) {
	for _, nodes := range []int{100, 10_000} {
		b.Run(strconv.Itoa(nodes)+"nodes", func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			info := RunInfo{Workflow: "chain"}
			for i := range nodes {
				info.Nodes = append(info.Nodes, "n"+strconv.Itoa(i))
				info.GraphLines = append(info.GraphLines, "n"+strconv.Itoa(i)+" success -> n"+strconv.Itoa(i+1))
			}
			j := NewRunJournal(s, &RunMeta{RunInfo: info}, 1)
			if err := j.Start(); err != nil {
				b.Fatal(err)
			}
			cp := &engine.Checkpoint{Step: engine.Step{Node: "n1", Visit: 1, Attempts: 1, Action: "success", To: "n2", Route: "edge"}, Next: "n2", Calls: 1}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				cp.Seq = i + 1
				if err := j.Commit(cp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
