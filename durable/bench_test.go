package durable_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
)

// passer is the cheapest node type: it moves on, writing one shared key per visit.
type passer struct{}

func (passer) Prep(v *engine.Visit) (any, error)                       { return v.Number(), nil }
func (passer) Exec(context.Context, *engine.Attempt, any) (any, error) { return nil, nil }
func (passer) Post(v *engine.Visit, in, _ any) (string, error) {
	v.Set("at", in)
	return "next", nil
}

// keeper writes a key of its own per node, so the shared store grows with the run: a
// commit must not cost more as it grows.
type keeper struct{ passer }

func (keeper) Post(v *engine.Visit, in, _ any) (string, error) {
	v.Set(v.Node(), in)
	return "next", nil
}

// chain compiles a workflow of n nodes in a line, of type pass (one shared key in all)
// or keep (one shared key per node).
func chain(b *testing.B, n int, typ string) *engine.Graph {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("version: 1\nname: chain\nstart: n0\nmax_steps: 1000000\nnodes:\n")
	for i := range n {
		if i == n-1 {
			fmt.Fprintf(&sb, "  n%d: {type: %s}\n", i, typ)
		} else {
			fmt.Fprintf(&sb, "  n%d: {type: %s, on: {next: n%d}}\n", i, typ, i+1)
		}
	}
	reg := engine.NewRegistry()
	if err := reg.Register(engine.NodeType{Name: "pass", Actions: []string{"next"},
		New: func(engine.NodeSpec) (engine.Node, error) { return passer{}, nil }}); err != nil {
		b.Fatal(err)
	}
	if err := reg.Register(engine.NodeType{Name: "keep", Actions: []string{"next"},
		New: func(engine.NodeSpec) (engine.Node, error) { return keeper{}, nil }}); err != nil {
		b.Fatal(err)
	}
	g, ds := engine.Load("chain.yaml", []byte(sb.String()), reg)
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	return g
}

// benchChain runs the chain of n nodes journaled (without fsync, so the figure is
// kgrun's own cost) or not, and reports the time per visit. Each iteration makes about
// 10,000 visits (10000/n runs), so chains of every size are measured alike.
func benchChain(b *testing.B, n int, typ string, journaled bool) {
	g := chain(b, n, typ)
	var runner *durable.Runner
	if journaled {
		db, err := store.Open(filepath.Join(b.TempDir(), "state.db"), store.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		runner = &durable.Runner{Store: db}
	}
	runs := max(1, 10_000/n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N * runs {
		var res *engine.Result
		if journaled {
			run, err := runner.Start(context.Background(), g, engine.RunOptions{}, durable.Spec{File: "chain.yaml", VirtualTime: true})
			if err != nil {
				b.Fatal(err)
			}
			res = run.Result
		} else {
			var err error
			if res, err = g.Run(context.Background(), engine.RunOptions{Clock: engine.NewVirtualClock(engine.Epoch)}); err != nil {
				b.Fatal(err)
			}
		}
		if res.Status != engine.StatusSuccess || res.Steps() != n {
			b.Fatalf("%s after %d steps: %v", res.Status, res.Steps(), res.Err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*runs*n), "ns/visit")
}

// BenchmarkJournaledVisit: the cost per journaled visit does not depend on the
// workflow's size, since the run's description is written once, not per commit, nor on
// the shared store's size (type keep adds a key per visit), since a commit encodes only
// the keys its visit touched.
func BenchmarkJournaledVisit(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		for _, typ := range []string{"pass", "keep"} {
			b.Run(fmt.Sprintf("nodes=%d/%s/journaled", n, typ), func(b *testing.B) { benchChain(b, n, typ, true) })
			b.Run(fmt.Sprintf("nodes=%d/%s/none", n, typ), func(b *testing.B) { benchChain(b, n, typ, false) })
		}
	}
}

// BenchmarkChain50k runs a 50,000-node chain once per iteration, journaled and not.
func BenchmarkChain50k(b *testing.B) {
	for _, typ := range []string{"pass", "keep"} {
		b.Run(typ+"/journaled", func(b *testing.B) { benchChain(b, 50_000, typ, true) })
		b.Run(typ+"/none", func(b *testing.B) { benchChain(b, 50_000, typ, false) })
	}
}
