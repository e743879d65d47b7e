package builtin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/internal/golden"
)

// TestInvalidCorpus loads every file under testdata/invalid and compares all of its
// diagnostics (file:line:col, severity, message, hint) with the golden file beside it.
func TestInvalidCorpus(t *testing.T) {
	files, err := filepath.Glob("../testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("only %d invalid workflows; the corpus needs at least 25", len(files))
	}
	reg := Registry(Options{})
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			display := "testdata/invalid/" + name + ".yaml"
			g, ds := engine.Load(display, data, reg)
			if g != nil || !ds.HasErrors() {
				t.Fatalf("%s loaded without errors", display)
			}
			for _, d := range ds {
				if d.Pos.File != display || d.Pos.Line < 1 || d.Pos.Col < 1 {
					t.Errorf("diagnostic without a full position: %s", d)
				}
			}
			golden.Check(t, filepath.Join("../testdata/invalid", name+".golden"), ds.Error()+"\n")
		})
	}
}
