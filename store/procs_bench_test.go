package store

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestHelperCommitter is not a test: BenchmarkProcessesCommitting starts the test binary
// as separate processes that run it, each journaling a run of $KGRUN_COMMITTER_VISITS
// visits into the store at $KGRUN_COMMITTER_STORE, every visit fsynced.
func TestHelperCommitter(t *testing.T) {
	path := os.Getenv("KGRUN_COMMITTER_STORE")
	if path == "" {
		t.Skip("run by BenchmarkProcessesCommitting")
	}
	visits, _ := strconv.Atoi(os.Getenv("KGRUN_COMMITTER_VISITS"))
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j := NewRunJournal(s, &RunMeta{RunInfo: RunInfo{Workflow: "bench"}}, 1)
	if err := j.Start(); err != nil {
		t.Fatal(err)
	}
	cp, events := benchCheckpoint()
	for i := range visits {
		for _, e := range events {
			j.Event(e)
		}
		cp.Seq = i + 1
		if err := j.Commit(cp); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkProcessesCommitting measures the store's throughput when 1 and 8 processes
// each journal a run at once, every visit durable (fsync) before the next: visits/s over
// all processes, process start-up included.
func BenchmarkProcessesCommitting(b *testing.B) {
	const visits = 200
	for _, procs := range []int{1, 8} {
		b.Run(fmt.Sprintf("procs=%d", procs), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "state.db")
			s, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
			b.ResetTimer()
			for range b.N {
				cmds := make([]*exec.Cmd, procs)
				for i := range cmds {
					cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperCommitter$", "-test.count=1")
					cmds[i].Env = append(os.Environ(), "KGRUN_COMMITTER_STORE="+path, "KGRUN_COMMITTER_VISITS="+strconv.Itoa(visits))
					if err := cmds[i].Start(); err != nil {
						b.Fatal(err)
					}
				}
				for _, c := range cmds {
					if err := c.Wait(); err != nil {
						b.Fatalf("committer: %v", err)
					}
				}
			}
			b.StopTimer()
			total := float64(b.N * procs * visits)
			b.ReportMetric(total/b.Elapsed().Seconds(), "visits/s")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/total, "µs/visit")
		})
	}
}
