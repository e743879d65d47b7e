package graphsvg

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// TestLayoutRanks: ranks are BFS distances from start over action and fallback edges,
// rows follow discovery order, and nodes only the error handler path reaches go last.
func TestLayoutRanks(t *testing.T) {
	cases := []struct {
		name  string
		nodes string
		want  string // node:rank/row in layout order
	}{
		{"chain", `
  a: {type: fallback_data, on: {fallback_data: b}}
  b: {type: fallback_data, on: {fallback_data: c}}
  c: {type: completion}
  h: {type: error_handler}`, "a:0/0 b:1/0 c:2/0 h:3/0"},
		{"back edge keeps the first rank", `
  a: {type: fallback_data, on: {fallback_data: b}}
  b: {type: processor, on: {success: a, retry_exhausted: c}}
  c: {type: completion}
  h: {type: error_handler}`, "a:0/0 b:1/0 c:2/0 h:3/0"},
		{"fallback counts as an edge, rows in discovery order", `
  a: {type: data_collector, fallback: f, on: {success: b}}
  b: {type: completion}
  f: {type: fallback_data, on: {fallback_data: b}}
  h: {type: error_handler}`, "a:0/0 b:1/0 f:1/1 h:2/0"},
		{"the error handler last", `
  a: {type: fallback_data, on: {fallback_data: b}}
  h: {type: error_handler}
  b: {type: completion}`, "a:0/0 b:1/0 h:2/0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "version: 1\nname: t\nstart: a\nerror_handler: h\nnodes:" + c.nodes + "\n"
			g, ds := engine.Load("t.yaml", []byte(src), registry())
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			boxes, _, _, _ := layout(g.Spec())
			var got []string
			for _, b := range boxes {
				got = append(got, fmt.Sprintf("%s:%d/%d", b.node.Name, b.rank, b.row))
			}
			if s := strings.Join(got, " "); s != c.want {
				t.Errorf("got %s, want %s", s, c.want)
			}
			for i, b := range boxes { // no two boxes overlap
				for _, o := range boxes[i+1:] {
					if b.x < o.x+o.w && o.x < b.x+b.w && b.y < o.y+o.h && o.y < b.y+b.h {
						t.Errorf("%s and %s overlap", b.node.Name, o.node.Name)
					}
				}
			}
		})
	}
}
