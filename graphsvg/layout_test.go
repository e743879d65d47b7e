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

// TestLayoutNests: in fan_out.yaml and in a map nested in a parallel branch, each frame
// holds its node and bodies apart, each body box holds its nodes below its label, and
// no two boxes of one graph, nor two bodies of one frame, overlap.
func TestLayoutNests(t *testing.T) {
	for _, file := range []string{"../workflows/fan_out.yaml", "../testdata/valid/nested_fanout.yaml"} {
		t.Run(file, func(t *testing.T) {
			g, ds := engine.LoadFile(file, registry())
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			boxes, _, width, height := layout(g.Spec())
			frames := 0
			checkGraph(t, boxes, rect{0, 0, width, height}, &frames)
			if frames == 0 {
				t.Error("no frame drawn")
			}
		})
	}
}

func checkGraph(t *testing.T, boxes []*box, in rect, frames *int) {
	t.Helper()
	for i, b := range boxes {
		r := rect{b.x, b.y, b.w, b.h}
		if !within(r, in) {
			t.Errorf("%s %v is not within %v", b.path, r, in)
		}
		for _, o := range boxes[i+1:] {
			if overlap(r, rect{o.x, o.y, o.w, o.h}) {
				t.Errorf("%s and %s overlap", b.path, o.path)
			}
		}
		if b.self == nil {
			continue
		}
		*frames++
		self := rect{b.self.x, b.self.y, b.self.w, b.self.h}
		if !within(self, r) {
			t.Errorf("%s: its node is outside its frame", b.path)
		}
		for j, bb := range b.bodies {
			br := rect{bb.x, bb.y, bb.w, bb.h}
			if !within(br, r) || overlap(br, self) {
				t.Errorf("%s: body %s is outside its frame or over its node", b.path, bb.scope)
			}
			for _, o := range b.bodies[j+1:] {
				if overlap(br, rect{o.x, o.y, o.w, o.h}) {
					t.Errorf("bodies %s and %s overlap", bb.scope, o.scope)
				}
			}
			checkGraph(t, bb.graph.boxes, rect{bb.x, bb.y + bodyTop, bb.w, bb.h - bodyTop}, frames)
		}
	}
}

func within(r, in rect) bool {
	return r.x >= in.x && r.y >= in.y && r.x+r.w <= in.x+in.w && r.y+r.h <= in.y+in.h
}

func overlap(a, b rect) bool {
	return a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h
}
