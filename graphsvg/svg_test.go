package graphsvg

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/internal/golden"
	"github.com/kgrun/kgrun/ionodes"
)

func registry() *engine.Registry {
	reg := builtin.Registry(builtin.Options{})
	if err := ionodes.Register(reg, ionodes.Options{}); err != nil {
		panic(err)
	}
	return reg
}

func flagship(t *testing.T) *engine.Graph {
	t.Helper()
	g, ds := engine.LoadFile("../workflows/fault_tolerant.yaml", registry())
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g
}

// wellFormed fails the test unless doc parses as XML to its end.
func wellFormed(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

// elements returns the class attribute of every <g> with the given data-node or
// data-from/data-to, keyed "node" or "from>to" (the first of parallel edges wins).
func groups(t *testing.T, doc string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "g" {
			continue
		}
		a := map[string]string{}
		for _, at := range se.Attr {
			a[at.Name.Local] = at.Value
		}
		key := a["data-node"]
		if key == "" {
			key = a["data-from"] + ">" + a["data-to"]
		}
		out[key] = append(out[key], a["class"])
	}
}

func TestFlagshipSVG(t *testing.T) {
	var b bytes.Buffer
	if err := SVG(&b, flagship(t).Spec(), Options{}); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, b.String())
	golden.Check(t, "testdata/fault_tolerant.svg", b.String())
	g := groups(t, b.String())
	for _, want := range []struct{ key, class string }{
		{"collect>process", "edge"},
		{"collect>fallback_data", "edge"},
		{"collect>fallback_data", "edge fallback"},
		{"collect>error_handler", "edge error"},
	} {
		if !contains(g[want.key], want.class) {
			t.Errorf("%s: classes %v, want %q", want.key, g[want.key], want.class)
		}
	}
}

// TestDegradedRunOverlay draws the network scenario's degraded run (seed 14, through
// fallback_data) on the flagship: visited nodes by outcome, the edges taken.
func TestDegradedRunOverlay(t *testing.T) {
	gr := flagship(t)
	res, err := gr.Run(context.Background(), engine.RunOptions{Scenario: "network", Seed: 14, Clock: engine.NewVirtualClock(engine.Epoch),
		Params: map[string]any{"alternate_dir": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusDegraded {
		t.Fatalf("status %s", res.Status)
	}
	var b bytes.Buffer
	if err := SVG(&b, gr.Spec(), Options{Path: res.Path}); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, b.String())
	golden.Check(t, "testdata/fault_tolerant_network.svg", b.String())
	g := groups(t, b.String())
	cases := []struct{ key, class string }{
		{"collect", "node handled-failure"},
		{"fallback_data", "node ok"},
		{"process", "node ok"},
		{"partial_process", "node not-visited"},
		{"error_handler", "node not-visited"},
		{"collect>fallback_data", "edge fallback taken"},
		{"collect>fallback_data", "edge"}, // circuit_open: not taken
		{"fallback_data>process", "edge taken"},
		{"process>partial_process", "edge"},
	}
	for _, c := range cases {
		if !contains(g[c.key], c.class) {
			t.Errorf("%s: classes %v, want %q", c.key, g[c.key], c.class)
		}
	}
}

// TestHostileText: what a file says (descriptions, guards) is escaped, and characters
// XML cannot hold are replaced, so the picture always parses.
func TestHostileText(t *testing.T) {
	src := "version: 1\nname: \"a<b&c\"\ndescription: \"</svg><script>alert(1)</script>\\x01\"\nstart: s\nnodes:\n" +
		"  s: {type: fallback_data, on: {fallback_data: t}}\n" +
		"  t: {type: completion}\n"
	g, ds := engine.Load("hostile.yaml", []byte(src), registry())
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	for _, write := range []func(io.Writer, *engine.Graph) error{
		func(w io.Writer, g *engine.Graph) error { return SVG(w, g.Spec(), Options{}) },
		func(w io.Writer, g *engine.Graph) error { return HTML(w, g.Spec(), Options{}) },
	} {
		var b bytes.Buffer
		if err := write(&b, g); err != nil {
			t.Fatal(err)
		}
		s := b.String()
		if strings.Contains(s, "<script>") || !strings.Contains(s, "a&lt;b&amp;c") {
			t.Errorf("unescaped: %s", s)
		}
		if i := strings.Index(s, "<svg"); i >= 0 {
			wellFormed(t, s[i:strings.Index(s, "</svg>")+len("</svg>")])
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func load(t *testing.T, file string) *engine.Graph {
	t.Helper()
	g, ds := engine.LoadFile(file, registry())
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g
}

// TestFanOutSVG: a map's body and a parallel node's branches are drawn as labelled boxes
// in their node's frame, their nodes named by path and entered from the node; a workflow
// node names the file it calls.
func TestFanOutSVG(t *testing.T) {
	var b bytes.Buffer
	if err := SVG(&b, load(t, "../workflows/fan_out.yaml").Spec(), Options{}); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	wellFormed(t, doc)
	golden.Check(t, "testdata/fan_out.svg", doc)
	g := groups(t, doc)
	for _, want := range []struct{ key, class string }{
		{"regions", "node"},
		{"regions/collect", "node"},
		{"catalogue/primary/ask", "node"},
		{"catalogue/mirror/ask", "node"},
		{"regions>regions/collect", "edge entry"},
		{"regions/collect>regions/summarise", "edge"},
		{"catalogue>catalogue/mirror/ask", "edge entry"},
		{"regions>catalogue", "edge"},
	} {
		if !contains(g[want.key], want.class) {
			t.Errorf("%s: classes %v, want %q", want.key, g[want.key], want.class)
		}
	}
	for _, want := range []string{
		`<g class="frame" data-frame="regions">`,
		`<g class="body" data-scope="regions">`, `>regions: body</text>`,
		`<g class="branch" data-scope="catalogue/primary">`, `>catalogue: branch primary</text>`,
		`>each item</text>`, `>mirror</text>`, `>→ fan_out_publish.yaml</text>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("svg lacks %s", want)
		}
	}
}

// TestFanOutRunOverlay: a run's path names the top-level nodes it visited; the nodes in
// bodies, which it does not name, are drawn unvisited.
func TestFanOutRunOverlay(t *testing.T) {
	gr := load(t, "../workflows/fan_out.yaml")
	res, err := gr.Run(context.Background(), engine.RunOptions{Seed: 1, Clock: engine.NewVirtualClock(engine.Epoch)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := SVG(&b, gr.Spec(), Options{Path: res.Path}); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, b.String())
	g := groups(t, b.String())
	for _, c := range []struct{ key, class string }{
		{"regions", "node ok"},
		{"catalogue", "node ok"},
		{"publish", "node ok"},
		{"error_handler", "node not-visited"},
		{"regions/collect", "node not-visited"},
		{"catalogue/primary/ask", "node not-visited"},
		{"regions>catalogue", "edge taken"},
		{"catalogue>publish", "edge taken"},
		{"regions>regions/collect", "edge entry"},
	} {
		if !contains(g[c.key], c.class) {
			t.Errorf("%s: classes %v, want %q", c.key, g[c.key], c.class)
		}
	}
}
