package graphsvg

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// FuzzSVG: any workflow that loads draws as well-formed XML, the same twice.
func FuzzSVG(f *testing.F) {
	for _, file := range []string{"../workflows/fault_tolerant.yaml", "../workflows/http_pipeline.yaml", "../testdata/valid/nested_fanout.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\nname: \"x\\x01<&\"\nstart: a\nnodes:\n  a: {type: fallback_data, on: {fallback_data: a}}\n"))
	reg := registry()
	f.Fuzz(func(t *testing.T, src []byte) {
		g, ds := engine.Load("fuzz.yaml", src, reg)
		if ds.HasErrors() {
			return
		}
		var a, b bytes.Buffer
		if err := SVG(&a, g.Spec(), Options{}); err != nil {
			t.Fatal(err)
		}
		if err := SVG(&b, g.Spec(), Options{}); err != nil || a.String() != b.String() {
			t.Fatal("two drawings differ")
		}
		d := xml.NewDecoder(&a)
		for {
			_, err := d.Token()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
		}
	})
}
