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
	entryEdge                    // purple, from a composite node into a body's start node
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
	// the edges the run took are drawn thick with their counts. A path names top-level
	// nodes only, so the nodes in bodies and branches are drawn unvisited.
	Path []engine.Step
}

// SVG writes w's picture as a standalone SVG document.
func SVG(out io.Writer, w *schema.Workflow, opts Options) error {
	boxes, byName, width, height := layout(w)
	edges := collectEdges(w, byName)
	outcomes, visits := overlay(opts.Path, edges)
	// Frames: their edges (never taken: a run's path names top-level nodes only), and
	// their borders and their bodies', which edge labels keep off.
	var frames []*box
	var inner []*edge
	var borders []rect
	walk(boxes, w.Start.Name, func(bx *box, _ bool) {
		if bx.self != nil {
			frames = append(frames, bx)
			inner = append(inner, frameEdges(bx)...)
			borders = append(borders, rect{bx.x, bx.y, bx.w, bx.h})
			for _, bb := range bx.bodies {
				borders = append(borders, rect{bb.x, bb.y, bb.w, bb.h})
			}
		}
	})
	composed := len(frames) > 0
	overlaid := len(opts.Path) > 0
	legendY, lines := height, 0 // the legend's lines after the first
	if overlaid {
		lines++
	}
	if composed {
		lines++
	}
	if lines > 0 {
		legendY += 20
	}
	height += 20 * float64(lines)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="%d">`+"\n",
		num(width), num(height+20), num(width), num(height+20), fontSize)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(w.Name))
	b.WriteString(`<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker>
<marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#0969da"/></marker>
`)
	if composed {
		b.WriteString(`<marker id="arrow-entry" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="` + entryColour + `"/></marker>
`)
	}
	b.WriteString(`</defs>
<rect width="100%" height="100%" fill="#ffffff"/>
`)
	// Frames and bodies first, outer before inner; then edges; then the nodes on top.
	for _, bx := range frames {
		writeFrame(&b, bx)
	}
	pairs := map[[2]*box]int{}
	for _, e := range append(edges, inner...) {
		k := [2]*box{e.from, e.to}
		writeEdge(&b, e, pairs[k], borders)
		pairs[k]++
	}
	walk(boxes, w.Start.Name, func(bx *box, start bool) {
		drawn := bx
		if bx.self != nil {
			drawn = bx.self
		}
		writeBox(&b, drawn, start, outcomes[bx.path], visits[bx.path], overlaid)
	})
	writeLegend(&b, legendY, overlaid, composed)
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

// walk calls f on each box of a graph whose start node is start, in layout order, and
// on the boxes of each frame's bodies after the frame; start says which are start nodes.
func walk(boxes []*box, start string, f func(bx *box, start bool)) {
	for _, bx := range boxes {
		f(bx, bx.node.Name == start)
		for _, bb := range bx.bodies {
			walk(bb.graph.boxes, bb.graph.start, f)
		}
	}
}

// frameEdges are the edges a frame holds: from the node into each body's start node,
// and each body's own edges.
func frameEdges(bx *box) []*edge {
	var edges []*edge
	for _, bb := range bx.bodies {
		if to := bb.graph.byName[bb.graph.start]; to != nil {
			edges = append(edges, &edge{from: bx.self, to: to, kind: entryEdge, label: bb.entry})
		}
		edges = append(edges, graphEdges(bb.graph.nodes, bb.graph.byName)...)
	}
	return edges
}

func collectEdges(w *schema.Workflow, byName map[string]*box) []*edge {
	edges := graphEdges(w.Nodes, byName)
	if h := byName[w.ErrorHandler.Name]; h != nil {
		for _, n := range w.Nodes {
			if n.Name != h.node.Name {
				edges = append(edges, &edge{from: byName[n.Name], to: h, kind: errorEdge})
			}
		}
	}
	return edges
}

// graphEdges are the action and fallback edges of a graph's nodes, in file order.
func graphEdges(nodes []*schema.Node, byName map[string]*box) []*edge {
	var edges []*edge
	for _, n := range nodes {
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
		if e.kind == want && e.from.path == st.Node && e.to.path == st.To && (want != actionEdge || e.action == st.Action) {
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
	fmt.Fprintf(b, `<g class="%s" data-node="%s"%s>`, class, esc(bx.path), opacity)
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="8" fill="%s" stroke="%s" stroke-width="%s"/>`,
		num(bx.x), num(bx.y), num(bx.w), num(bx.h), st.fill, st.stroke, strokeWidth)
	cx := bx.x + bx.w/2
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-weight="bold" fill="#1f2328">%s</text>`, num(cx), num(bx.y+19), esc(bx.node.Name))
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="11" fill="#57606a">%s</text>`, num(cx), num(bx.y+35), esc(bx.node.Type.Name))
	if c := bx.node.Call; c != nil {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="10" fill="#57606a">%s</text>`, num(cx), num(bx.y+50), esc(calleeLabel(c)))
	}
	if visits > 0 {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" font-size="10" fill="%s">×%d</text>`, num(bx.x+bx.w-5), num(bx.y-4), st.stroke, visits)
	}
	b.WriteString("</g>\n")
}

// writeEdge draws e as a cubic curve: forward edges (and edges into bodies) from the
// source's right side to the target's left, an edge between a frame and a box in its
// column straight between them, other edges looping below both boxes; nth separates
// parallel edges.
func writeEdge(b *strings.Builder, e *edge, nth int, borders []rect) {
	spread := float64(nth) * 14
	var p [4][2]float64
	switch {
	case e.from == e.to:
		x, y := e.from.x+e.from.w, e.from.y+e.from.h/2
		p = [4][2]float64{{x, y - 8}, {x + 50 + spread, y - 40}, {x + 50 + spread, y + 40}, {x, y + 8}}
	case e.kind == entryEdge || e.to.rank > e.from.rank:
		sx, sy := e.from.x+e.from.w, e.from.y+e.from.h/2+spread/2
		tx, ty := e.to.x, e.to.y+e.to.h/2+spread/2
		dx := (tx - sx) / 2
		p = [4][2]float64{{sx, sy}, {sx + dx, sy + spread}, {tx - dx, ty + spread}, {tx, ty}}
	case e.to.rank == e.from.rank && (e.from.self != nil || e.to.self != nil):
		// A frame and a box in its column: a tall frame would hide a loop below, so the
		// edge goes straight between the sides that face.
		sx, tx := e.from.x+e.from.w/2+spread, e.to.x+e.to.w/2+spread
		sy, ty := e.from.y+e.from.h, e.to.y
		if e.to.y < e.from.y {
			sy, ty = e.from.y, e.to.y+e.to.h
		}
		mid := (sy + ty) / 2
		p = [4][2]float64{{sx, sy}, {sx, mid}, {tx, mid}, {tx, ty}}
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
	case entryEdge:
		stroke, marker = entryColour, "arrow-entry"
	}
	class := [...]string{actionEdge: "edge", fallbackEdge: "edge fallback", errorEdge: "edge error", entryEdge: "edge entry"}[e.kind]
	if e.taken > 0 {
		stroke, width, marker, class = "#0969da", "3", "arrow-taken", class+" taken"
	}
	fmt.Fprintf(b, `<g class="%s" data-from="%s" data-to="%s">`, class, esc(e.from.path), esc(e.to.path))
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
		// A label must not lie across the border of a frame or body box: slide it along
		// the curve until it is wholly inside or outside each.
		for _, t := range labelSlides {
			if !straddles(mx-tw/2, my-10, tw, 14, borders) {
				break
			}
			mx, my = bezier(p, t)
		}
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="14" rx="3" fill="#ffffff" opacity="0.85"/>`, num(mx-tw/2), num(my-10), num(tw))
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="10" fill="%s">%s</text>`, num(mx), num(my), stroke, esc(label))
	}
	b.WriteString("</g>\n")
}

// entryColour draws the edges into bodies and branches.
const entryColour = "#8250df"

// writeFrame draws a composite node's frame and its bodies' labelled boxes (the nodes in
// them are drawn with the others).
func writeFrame(b *strings.Builder, bx *box) {
	fmt.Fprintf(b, `<g class="frame" data-frame="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="10" fill="#f6f8fa" stroke="#d0d7de"/></g>`+"\n",
		esc(bx.path), num(bx.x), num(bx.y), num(bx.w), num(bx.h))
	class := "body"
	if bx.node.Parallel != nil {
		class = "branch"
	}
	for _, bb := range bx.bodies {
		fmt.Fprintf(b, `<g class="%s" data-scope="%s">`, class, esc(bb.scope))
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="8" fill="#ffffff" stroke="#8c959f" stroke-dasharray="5 3"/>`,
			num(bb.x), num(bb.y), num(bb.w), num(bb.h))
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="10" fill="#57606a">%s</text>`, num(bb.x+bodyPad), num(bb.y+17), esc(bb.label))
		b.WriteString("</g>\n")
	}
}

// labelSlides are the places along an edge (0 its start, 1 its end) a label tries after
// the midpoint, nearest first.
var labelSlides = []float64{0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.5}

// rect is an area: x, y, width, height.
type rect struct{ x, y, w, h float64 }

// straddles says whether the area (x, y, w, h) lies across the border of any of rs:
// overlapping it without being inside it.
func straddles(x, y, w, h float64, rs []rect) bool {
	for _, r := range rs {
		overlaps := x < r.x+r.w && r.x < x+w && y < r.y+r.h && r.y < y+h
		inside := x >= r.x && y >= r.y && x+w <= r.x+r.w && y+h <= r.y+r.h
		if overlaps && !inside {
			return true
		}
	}
	return false
}

// bezier is the point at t of the cubic curve p.
func bezier(p [4][2]float64, t float64) (x, y float64) {
	u := 1 - t
	a, b, c, d := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	return a*p[0][0] + b*p[1][0] + c*p[2][0] + d*p[3][0], a*p[0][1] + b*p[1][1] + c*p[2][1] + d*p[3][1]
}

func writeLegend(b *strings.Builder, y float64, overlaid, composed bool) {
	fmt.Fprintf(b, `<text x="%d" y="%s" font-size="10" fill="#57606a">bold border: start · solid: action edge · dashed: fallback · light dotted: to the error handler</text>`+"\n", margin, num(y))
	if composed {
		y += 18
		fmt.Fprintf(b, `<text x="%d" y="%s" font-size="10" fill="#57606a">grey frame: a map or parallel node with its body or branches (dashed boxes) · <tspan fill="%s">purple: into a body or branch</tspan></text>`+"\n", margin, num(y), entryColour)
	}
	if overlaid {
		y += 18
		inside := ""
		if composed {
			inside = " · a run's path holds no visits inside bodies"
		}
		fmt.Fprintf(b, `<text x="%d" y="%s" font-size="10" fill="#57606a"><tspan fill="#1a7f37">green: ok</tspan> · <tspan fill="#9a6700">amber: failed, handled</tspan> · <tspan fill="#cf222e">red: failed</tspan> · <tspan fill="#0969da">blue: edges taken</tspan> · ×N: visits%s</text>`+"\n", margin, num(y), inside)
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
