package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
)

// noopNode does nothing and emits "next": the engine's own cost per visit.
type noopNode struct{}

func (noopNode) Prep(*engine.Visit) (any, error)                         { return nil, nil }
func (noopNode) Exec(context.Context, *engine.Attempt, any) (any, error) { return nil, nil }
func (noopNode) Post(*engine.Visit, any, any) (string, error)            { return "next", nil }

// BenchmarkTransition: one visit of a no-op node in a two-node loop with no policies and
// no tracer, against the same node's methods called in a hand-written loop.
func BenchmarkTransition(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		nodes := [2]engine.Node{noopNode{}, noopNode{}}
		ctx := context.Background()
		var v engine.Visit
		var a engine.Attempt
		cur := 0
		b.ReportAllocs()
		for range b.N {
			n := nodes[cur]
			in, err := n.Prep(&v)
			if err != nil {
				b.Fatal(err)
			}
			out, err := n.Exec(ctx, &a, in)
			if err != nil {
				b.Fatal(err)
			}
			action, err := n.Post(&v, in, out)
			if err != nil {
				b.Fatal(err)
			}
			switch action {
			case "next":
				cur = 1 - cur
			default:
				b.Fatal(action)
			}
		}
	})
	reg := engine.NewRegistry()
	if err := reg.Register(engine.NodeType{Name: "noop", Actions: []string{"next"},
		New: func(engine.NodeSpec) (engine.Node, error) { return noopNode{}, nil }}); err != nil {
		b.Fatal(err)
	}
	g, ds := engine.Load("loop.yaml", []byte(`
version: 1
name: loop
start: a
nodes:
  a: {type: noop, on: {next: b}}
  b: {type: noop, on: {next: a}}
`), reg)
	if len(ds) > 0 {
		b.Fatal(ds)
	}
	for _, c := range clocks {
		b.Run("kgrun-visit-"+c.name, func(b *testing.B) { runVisits(b, g, c.new()) })
	}
}

// loopFile is the shipped looping workflow the CLI is measured on.
var loopFile = filepath.Join("..", "testdata", "valid", "loop.yaml")

// BenchmarkLoopFile: one transition of testdata/valid/loop.yaml on virtual time, through
// the Go API with the built-in node types ("api", the reference) and through the kgrun
// binary ("kgrun-cli", one process running b.N steps; its start-up of a few milliseconds
// is included and spread over the steps).
func BenchmarkLoopFile(b *testing.B) {
	b.Run("api", func(b *testing.B) {
		g, ds := engine.LoadFile(loopFile, builtin.Registry(builtin.Options{}))
		if g == nil {
			b.Fatal(ds)
		}
		runVisits(b, g, engine.NewVirtualClock(engine.Epoch))
	})
	b.Run("kgrun-cli", func(b *testing.B) {
		bin := kgrunBinary(b)
		b.ReportAllocs()
		b.ResetTimer()
		cmd := exec.Command(bin, "run", loopFile, "--virtual-time", "--state", "none", "--max-steps", strconv.Itoa(b.N))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		b.StopTimer()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			b.Fatalf("kgrun exited with %v, want 1 (max_steps reached): %s", err, stderr.Bytes())
		}
		var ping, pong int
		if i := bytes.Index(stdout.Bytes(), []byte("\nCalls\n")); i < 0 {
			b.Fatalf("no Calls section in the report:\n%s", stdout.Bytes())
		} else if _, err := fmt.Sscanf(string(stdout.Bytes()[i:]), "\nCalls\n  ping %d · pong %d", &ping, &pong); err != nil && b.N > 1 {
			b.Fatalf("reading the Calls section: %v\n%s", err, stdout.Bytes()[i:])
		}
		if b.N > 1 && ping+pong != b.N {
			b.Fatalf("the CLI ran %d steps, want %d", ping+pong, b.N)
		}
	})
}

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

// kgrunBinary builds cmd/kgrun once per test process and returns its path.
func kgrunBinary(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "kgrun-bench-"); binErr != nil {
			return
		}
		// Built in the product's own module, with its go.sum, as a user builds it.
		build := exec.Command("go", "build", "-o", binDir, "./cmd/kgrun")
		build.Dir = ".."
		out, err := build.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build cmd/kgrun: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	return filepath.Join(binDir, "kgrun")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
