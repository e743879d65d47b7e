// Package golden owns the project's golden-file comparisons: a test's output is compared
// with a file under testdata, and the -update flag rewrites the file instead (review the
// diff before committing it).
package golden

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Check compares got with the file at path, or writes got there when -update is set.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rerun the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update to accept):\n--- got ---\n%s--- want ---\n%s", path, got, want)
	}
}
