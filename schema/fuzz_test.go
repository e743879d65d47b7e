package schema

import (
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds every workflow the repository ships, valid and invalid, as fuzz seeds.
func addSeeds(f *testing.F) {
	for _, pattern := range []string{"../testdata/valid/*.yaml", "../testdata/invalid/*.yaml", "../workflows/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, and every
// diagnostic must carry a position inside the file.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, ds := Decode("fuzz.yaml", data)
		if w == nil && !ds.HasErrors() {
			t.Fatalf("no workflow and no error")
		}
		for _, d := range ds {
			if d.Pos.File != "fuzz.yaml" || d.Pos.Line < 1 || d.Pos.Col < 1 {
				t.Fatalf("diagnostic without a position: %s", d)
			}
		}
	})
}
