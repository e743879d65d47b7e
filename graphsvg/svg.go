package graphsvg

import (
	"fmt"
	"html"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
)

// edgeKind tells how an edge is drawn.
type edgeKind uint8

const (
	actionEdge   edgeKind = iota // solid, labelled with its action (and guard)
	fallbackEdge                 // dashed, "fallback"
	errorEdge                    // dashed and light, to the workflow's error handler
)

type edge struct {
	from, to *box
	kind     edgeKind
	action   string // the action (actionEdge) that takes it
	label    string
	taken    int // how many of the run's steps took it
}

// outcome is how a node's visits went, worst first.
type outcome uint8

const (
	notVisited outcome = iota
	visitedOK
	visitedHandled // failed, and a fallback, handler or failure edge took over
	visitedFailed  // failed with nowhere to go, or canceled
)

var outcomeStyle = [...]struct{ fill, stroke, name string }{
	notVisited:     {"#ffffff", "#57606a", ""},
	visitedOK:      {"#dafbe1", "#1a7f37", "ok"},
	visitedHandled: {"#fff8c5", "#9a6700", "handled failure"},
	visitedFailed:  {"#ffebe9", "#cf222e", "failed"},
}

// Options say what to draw besides the workflow.
type Options struct {
	// Path, when set, is a run's steps in order (engine.Result.Path, or the steps of a
	// stored run's checkpoints): visited nodes are coloured by outcome and counted, and
	// the edges the run took are drawn thick with their counts.
	Path []engine.Step
}

// SVG writes w's picture as a standalone SVG document.
func SVG(out io.Writer, w *schema.Workflow, opts Options) error {
	boxes, byName, width, height := layout(w)
	edges := collectEdges(w, byName)
	outcomes, visits := overlay(opts.Path, edges)
	if len(opts.Path) > 0 {
		height += 20 // the legend's second line
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="%d">`+"\n",
		num(width), num(height+20), num(width), num(height+20), fontSize)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(w.Name))
	b.WriteString(`<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker>
<marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#0969da"/></marker>
</defs>
<rect width="100%" height="100%" fill="#ffffff"/>
`)
	pairs := map[[2]*box]int{}
	for _, e := range edges {
		k := [2]*box{e.from, e.to}
		writeEdge(&b, e, pairs[k])
		pairs[k]++
	}
	for _, bx := range boxes {
		writeBox(&b, bx, bx.node.Name == w.Start.Name, outcomes[bx.node.Name], visits[bx.node.Name], len(opts.Path) > 0)
	}
	writeLegend(&b, height, len(opts.Path) > 0)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(out, b.String())
	return err
}

// HTML writes a standalone page holding w's picture, its name and description.
func HTML(out io.Writer, w *schema.Workflow, opts Options) error {
	var svg strings.Builder
	if err := SVG(&svg, w, opts); err != nil {
		return err
	}
	title := esc(w.Name)
	desc := ""
	if w.Description != "" {
		desc = "<p>" + esc(w.Description) + "</p>\n"
	}
	_, err := fmt.Fprintf(out, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%s</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}svg{max-width:100%%;height:auto}</style>
</head>
<body>
<h1>%s</h1>
%s%s</body>
</html>
`, title, title, desc, svg.String())
	return err
}

func collectEdges(w *schema.Workflow, byName map[string]*box) []*edge {
	var edges []*edge
	for _, n := range w.Nodes {
		from := byName[n.Name]
		for _, e := range n.Edges {
			label := e.Action
			if e.When != nil {
				label += " when " + e.When.Source
			}
			if to := byName[e.To.Name]; to != nil {
				edges = append(edges, &edge{from: from, to: to, kind: actionEdge, action: e.Action, label: label})
			}
		}
		if to := byName[n.Fallback.Name]; to != nil {
			edges = append(edges, &edge{from: from, to: to, kind: fallbackEdge, label: "fallback"})
		}
	}
	if h := byName[w.ErrorHandler.Name]; h != nil {
		for _, n := range w.Nodes {
			if n.Name != h.node.Name {
				edges = append(edges, &edge{from: byName[n.Name], to: h, kind: errorEdge})
			}
		}
	}
	return edges
}

// overlay counts each node's visits and worst outcome along path, and the steps that
// took each edge.
func overlay(path []engine.Step, edges []*edge) (map[string]outcome, map[string]int) {
	outcomes := map[string]outcome{}
	visits := map[string]int{}
	for _, st := range path {
		visits[st.Node]++
		o := visitedOK
		switch {
		case st.Route == "canceled" || (st.Failure != nil && st.To == ""):
			o = visitedFailed
		case st.Failure != nil:
			o = visitedHandled
		}
		outcomes[st.Node] = max(outcomes[st.Node], o)
		if e := takenEdge(st, edges); e != nil {
			e.taken++
		}
	}
	return outcomes, visits
}

// takenEdge is the drawn edge a step followed, if any.
func takenEdge(st engine.Step, edges []*edge) *edge {
	if st.To == "" {
		return nil
	}
	want := actionEdge
	switch st.Route {
	case "fallback":
		want = fallbackEdge
	case "error_handler":
		want = errorEdge
	}
	for _, e := range edges {
		if e.kind == want && e.from.node.Name == st.Node && e.to.node.Name == st.To && (want != actionEdge || e.action == st.Action) {
			return e
		}
	}
	return nil
}

func writeBox(b *strings.Builder, bx *box, start bool, o outcome, visits int, overlaid bool) {
	st := outcomeStyle[o]
	strokeWidth := "1.5"
	if start {
		strokeWidth = "3"
	}
	class := "node"
	opacity := ""
	if overlaid && o == notVisited {
		opacity = ` opacity="0.55"`
		class += " not-visited"
	} else if o != notVisited {
		class += " " + strings.ReplaceAll(st.name, " ", "-")
	}
	fmt.Fprintf(b, `<g class="%s" data-node="%s"%s>`, class, esc(bx.node.Name), opacity)
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="8" fill="%s" stroke="%s" stroke-width="%s"/>`,
		num(bx.x), num(bx.y), num(bx.w), num(bx.h), st.fill, st.stroke, strokeWidth)
	cx := bx.x + bx.w/2
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-weight="bold" fill="#1f2328">%s</text>`, num(cx), num(bx.y+19), esc(bx.node.Name))
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="11" fill="#57606a">%s</text>`, num(cx), num(bx.y+35), esc(bx.node.Type.Name))
	if visits > 0 {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" font-size="10" fill="%s">×%d</text>`, num(bx.x+bx.w-5), num(bx.y-4), st.stroke, visits)
	}
	b.WriteString("</g>\n")
}

// writeEdge draws e as a cubic curve: forward edges from the source's right side to the
// target's left, other edges looping below both boxes; nth separates parallel edges.
func writeEdge(b *strings.Builder, e *edge, nth int) {
	spread := float64(nth) * 14
	var p [4][2]float64
	switch {
	case e.from == e.to:
		x, y := e.from.x+e.from.w, e.from.y+e.from.h/2
		p = [4][2]float64{{x, y - 8}, {x + 50 + spread, y - 40}, {x + 50 + spread, y + 40}, {x, y + 8}}
	case e.to.rank > e.from.rank:
		sx, sy := e.from.x+e.from.w, e.from.y+e.from.h/2+spread/2
		tx, ty := e.to.x, e.to.y+e.to.h/2+spread/2
		dx := (tx - sx) / 2
		p = [4][2]float64{{sx, sy}, {sx + dx, sy + spread}, {tx - dx, ty + spread}, {tx, ty}}
	default:
		sx, sy := e.from.x+e.from.w/2+spread/2, e.from.y+e.from.h
		tx, ty := e.to.x+e.to.w/2-spread/2, e.to.y+e.to.h
		dip := rowGap*1.2 + float64(abs(e.from.rank-e.to.rank))*6 + spread
		p = [4][2]float64{{sx, sy}, {sx, sy + dip}, {tx, ty + dip}, {tx, ty}}
	}
	stroke, width, marker, dash := "#57606a", "1.3", "arrow", ""
	switch e.kind {
	case fallbackEdge:
		dash = ` stroke-dasharray="6 4"`
	case errorEdge:
		stroke, width, dash = "#afb8c1", "1", ` stroke-dasharray="3 4"`
	}
	class := [...]string{actionEdge: "edge", fallbackEdge: "edge fallback", errorEdge: "edge error"}[e.kind]
	if e.taken > 0 {
		stroke, width, marker, class = "#0969da", "3", "arrow-taken", class+" taken"
	}
	fmt.Fprintf(b, `<g class="%s" data-from="%s" data-to="%s">`, class, esc(e.from.node.Name), esc(e.to.node.Name))
	fmt.Fprintf(b, `<path d="M%s,%s C%s,%s %s,%s %s,%s" fill="none" stroke="%s" stroke-width="%s"%s marker-end="url(#%s)"/>`,
		num(p[0][0]), num(p[0][1]), num(p[1][0]), num(p[1][1]), num(p[2][0]), num(p[2][1]), num(p[3][0]), num(p[3][1]), stroke, width, dash, marker)
	label := e.label
	if e.taken > 0 {
		label = strings.TrimSpace(fmt.Sprintf("%s ×%d", label, e.taken))
	}
	if label != "" {
		// The curve's midpoint: (P0 + 3 P1 + 3 P2 + P3) / 8.
		mx := (p[0][0] + 3*p[1][0] + 3*p[2][0] + p[3][0]) / 8
		my := (p[0][1] + 3*p[1][1] + 3*p[2][1] + p[3][1]) / 8
		tw := float64(len([]rune(label)))*charWidth*10/12 + 6
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="14" rx="3" fill="#ffffff" opacity="0.85"/>`, num(mx-tw/2), num(my-10), num(tw))
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="10" fill="%s">%s</text>`, num(mx), num(my), stroke, esc(label))
	}
	b.WriteString("</g>\n")
}

func writeLegend(b *strings.Builder, y float64, overlaid bool) {
	fmt.Fprintf(b, `<text x="%d" y="%s" font-size="10" fill="#57606a">bold border: start · solid: action edge · dashed: fallback · light dotted: to the error handler</text>`+"\n", margin, num(y))
	if overlaid {
		fmt.Fprintf(b, `<text x="%d" y="%s" font-size="10" fill="#57606a"><tspan fill="#1a7f37">green: ok</tspan> · <tspan fill="#9a6700">amber: failed, handled</tspan> · <tspan fill="#cf222e">red: failed</tspan> · <tspan fill="#0969da">blue: edges taken</tspan> · ×N: visits</text>`+"\n", margin, num(y+18))
	}
}

// num formats a coordinate with at most one decimal, so output is stable and short.
func num(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}

// esc escapes s for XML text and attributes, replacing what XML cannot hold at all
// (control characters other than tab and newline, invalid UTF-8) with U+FFFD.
func esc(s string) string {
	clean := strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n') || r == utf8.RuneError || (r >= 0xFFFE && r <= 0xFFFF) {
			return utf8.RuneError
		}
		return r
	}, s)
	return html.EscapeString(clean)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
