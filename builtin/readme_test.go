package builtin_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeShowsTheEmbeddingExample checks that the README's embedding snippet is
// exactly the code of Example_embedding, so the snippet compiles and runs as shown.
func TestReadmeShowsTheEmbeddingExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("embed_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Embedding kgrun and writing a node type\n")
	_, block, ok2 := strings.Cut(section, "```go\n")
	block, _, ok3 := strings.Cut(block, "```\n")
	_, code, ok4 := strings.Cut(string(example), "// README:begin\n")
	code, _, ok5 := strings.Cut(code, "// README:end")
	if !ok || !ok2 || !ok3 || !ok4 || !ok5 {
		t.Fatal("README section, its go block or the example's README markers not found")
	}
	if got, want := strings.TrimSpace(block), strings.TrimSpace(code); got != want {
		t.Errorf("README's embedding snippet differs from embed_example_test.go; copy the code between the README markers into README.md:\n--- README ---\n%s\n--- example ---\n%s", got, want)
	}
}
