package ionodes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/internal/golden"
)

// TestInvalidCorpus loads each file under testdata/invalid with the I/O types and compares
// all of its diagnostics with the golden file beside it (rewrite with -update).
func TestInvalidCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no invalid workflows")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			g, ds := engine.Load(path, data, testRegistry(t))
			if g != nil || !ds.HasErrors() {
				t.Fatalf("%s loaded without errors", path)
			}
			for _, d := range ds {
				if d.Pos.Line < 1 || d.Pos.Col < 1 {
					t.Errorf("diagnostic without a full position: %s", d)
				}
			}
			golden.Check(t, filepath.Join("testdata/invalid", name+".golden"), ds.Error()+"\n")
		})
	}
}
