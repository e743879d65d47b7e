// Package graphsvg draws a workflow as a standalone SVG picture (or an HTML page holding
// one), laid out without external tools, and optionally overlays the path a run took.
//
// The layout is layered and deterministic: a node's rank is its distance from the start
// node by breadth-first search over action and fallback edges (nodes reached only
// through the error handler go in a last rank), and nodes keep their discovery order
// within a rank, so the same file always gives the same picture.
//
// A map or parallel node is drawn as a frame holding the node itself and, to its right,
// a labelled box for each body or branch, laid out the same way inside (nested bodies
// nest); the node's edges leave and reach the frame, and an edge from the node enters
// each body's start node.
package graphsvg

import (
	"unicode/utf8"

	"github.com/kgrun/kgrun/schema"
)

// Geometry, in SVG user units.
const (
	charWidth  = 7.4 // an advance of the monospace font at fontSize
	fontSize   = 12
	boxHeight  = 46
	boxPadding = 14
	columnGap  = 150
	rowGap     = 44
	margin     = 24
	minBox     = 96
	// A workflow node's box has a third line, the file it calls.
	calleeLine = 14
	// Inside a composite node's frame: the padding around what it holds, the least room
	// between the node and its bodies (the entry edges' labels widen it), and the gap
	// between two bodies.
	framePad    = 12
	minEntryGap = 56
	bodyGap     = 14
	// Inside a body's box: the room for its label above its nodes, the padding around
	// them, and the gap between its columns.
	bodyTop       = 26
	bodyPad       = 14
	bodyColumnGap = 110
)

// box is a node's place in the picture. A composite node's box is its frame: self is
// where the node itself is drawn, bodies are its bodies' boxes. Other nodes are drawn in
// the box itself (self is nil).
type box struct {
	node       *schema.Node
	path       string // the node's path: its name, or fan/fetch inside fan's body
	rank, row  int
	x, y, w, h float64
	self       *box
	bodies     []*bodyBox
}

// bodyBox is a body's or branch's place in its composite node's frame.
type bodyBox struct {
	scope      string // the body's path: the map node's, or parallel/branch
	label      string // "regions: body", "catalogue: branch primary"
	entry      string // the entry edge's label: "each item", or the branch's name
	x, y, w, h float64
	graph      *graph
}

// graph is the layout of one graph, the workflow's or a body's: boxes in layout order,
// by node name (names are local to their graph), and the size they take.
type graph struct {
	start  string
	nodes  []*schema.Node // in file order
	boxes  []*box
	byName map[string]*box
	w, h   float64
}

// layout places every node of w: ranks by BFS from the start, rows in discovery order,
// bodies inside their nodes' frames. It returns the top-level boxes.
func layout(w *schema.Workflow) (boxes []*box, byName map[string]*box, width, height float64) {
	g := layoutGraph("", w.Start.Name, w.Nodes, columnGap, false)
	g.place(margin, margin)
	width = g.w + 2*margin
	// Back edges and error edges loop below the boxes; leave them room.
	height = float64(margin) + g.h + 3*rowGap + margin
	return g.boxes, g.byName, width, height
}

// layoutGraph lays out the nodes of one graph (their paths start with prefix) relative
// to its top-left corner, with gap between columns. A body's graph (inBody) gets room
// below for back edges and on the right for self-loops only when it has them.
func layoutGraph(prefix, start string, nodes []*schema.Node, gap float64, inBody bool) *graph {
	g := &graph{start: start, nodes: nodes, byName: map[string]*box{}}
	named := map[string]*schema.Node{}
	for _, n := range nodes {
		named[n.Name] = n
	}
	visit := func(name string, rank int) {
		n := named[name]
		if n == nil || g.byName[name] != nil {
			return
		}
		b := &box{node: n, path: prefix + name, rank: rank}
		g.byName[name] = b
		g.boxes = append(g.boxes, b)
	}
	visit(start, 0)
	for i := 0; i < len(g.boxes); i++ { // boxes grow as the search discovers nodes
		b := g.boxes[i]
		for _, e := range b.node.Edges {
			visit(e.To.Name, b.rank+1)
		}
		if b.node.Fallback.Name != "" {
			visit(b.node.Fallback.Name, b.rank+1)
		}
	}
	last := 0
	for _, b := range g.boxes {
		last = max(last, b.rank)
	}
	unreached := false
	for _, n := range nodes { // the error handler and anything only it reaches
		if g.byName[n.Name] == nil {
			unreached = true
			visit(n.Name, last+1)
		}
	}
	if unreached {
		last++
	}
	if len(g.boxes) == 0 {
		return g
	}
	// Sizes, column widths and heights, then positions.
	colWidth := make([]float64, last+1)
	colHeight := make([]float64, last+1)
	rows := make([]int, last+1)
	for _, b := range g.boxes {
		b.measure()
		b.row = rows[b.rank]
		rows[b.rank]++
		colWidth[b.rank] = max(colWidth[b.rank], b.w)
		if b.row > 0 {
			colHeight[b.rank] += rowGap
		}
		colHeight[b.rank] += b.h
	}
	tallest := 0.0
	for _, h := range colHeight {
		tallest = max(tallest, h)
	}
	colX := make([]float64, last+1)
	x := 0.0
	for i, cw := range colWidth {
		colX[i] = x
		x += cw + gap
	}
	g.w, g.h = x-gap, tallest
	next := make([]float64, last+1) // the top of each column's next box
	for _, b := range g.boxes {
		// Centre a short column against the tallest one.
		if b.row == 0 {
			next[b.rank] = (tallest - colHeight[b.rank]) / 2
		}
		b.x = colX[b.rank] + (colWidth[b.rank]-b.w)/2
		b.y = next[b.rank]
		next[b.rank] += b.h + rowGap
	}
	if inBody {
		loops, selfLoop := false, false
		for _, b := range g.boxes {
			for _, to := range b.targets() {
				if t := g.byName[to]; t != nil && t.rank <= b.rank {
					loops = true
					selfLoop = selfLoop || t == b
				}
			}
		}
		if loops {
			g.h += 2 * rowGap
		}
		if selfLoop {
			g.w += 64
		}
	}
	return g
}

// targets are the names of the nodes b's edges and fallback lead to.
func (b *box) targets() []string {
	var out []string
	for _, e := range b.node.Edges {
		out = append(out, e.To.Name)
	}
	if b.node.Fallback.Name != "" {
		out = append(out, b.node.Fallback.Name)
	}
	return out
}

// measure sizes b: a node's box fits its name, type and (for a workflow node) the file
// it calls; a composite node's frame fits the node and its bodies, laid out here.
func (b *box) measure() {
	n := b.node
	b.w = max(minBox, float64(max(utf8.RuneCountInString(n.Name), utf8.RuneCountInString(n.Type.Name)))*charWidth+2*boxPadding)
	b.h = boxHeight
	if n.Call != nil {
		b.w = max(b.w, smallWidth(calleeLabel(n.Call))+2*boxPadding)
		b.h += calleeLine
	}
	scoped := n.Bodies()
	if len(scoped) == 0 {
		return
	}
	b.self = &box{node: n, path: b.path, rank: b.rank, w: b.w, h: b.h}
	prefix := b.path[:len(b.path)-len(n.Name)]
	entryGap, bodiesW, bodiesH := float64(minEntryGap), 0.0, 0.0
	for i, sb := range scoped {
		bb := &bodyBox{
			scope: prefix + sb.Prefix[:len(sb.Prefix)-1],
			label: prefix + n.Name + ": " + sb.Label,
			entry: "each item",
		}
		if n.Parallel != nil {
			bb.entry = n.Parallel.Branches[i].Name
		}
		bb.graph = layoutGraph(prefix+sb.Prefix, sb.Body.Start.Name, sb.Body.Nodes, bodyColumnGap, true)
		bb.w = max(bb.graph.w, smallWidth(bb.label)) + 2*bodyPad
		bb.h = bodyTop + bb.graph.h + bodyPad
		entryGap = max(entryGap, smallWidth(bb.entry)+28)
		bodiesW = max(bodiesW, bb.w)
		if i > 0 {
			bodiesH += bodyGap
		}
		bodiesH += bb.h
		b.bodies = append(b.bodies, bb)
	}
	for _, bb := range b.bodies { // the bodies of one node line up, as wide as the widest
		bb.w = bodiesW
	}
	b.w = framePad + b.self.w + entryGap + bodiesW + framePad
	b.h = max(b.self.h, bodiesH) + 2*framePad
}

// place moves g's boxes, laid out relative to its corner, to (x, y), and lays out what
// each frame holds: the node centred on the left, the bodies stacked on the right.
func (g *graph) place(x, y float64) {
	for _, b := range g.boxes {
		b.x += x
		b.y += y
		if b.self == nil {
			continue
		}
		b.self.x = b.x + framePad
		b.self.y = b.y + (b.h-b.self.h)/2
		top := b.y + framePad
		for _, bb := range b.bodies {
			bb.x = b.x + b.w - framePad - bb.w
			bb.y = top
			top += bb.h + bodyGap
			bb.graph.place(bb.x+bodyPad, bb.y+bodyTop)
		}
	}
}

// smallWidth is the width of s in the labels' font (10, against fontSize's 12).
func smallWidth(s string) float64 {
	return float64(utf8.RuneCountInString(s)) * charWidth * 10 / 12
}

// calleeLabel names the file a workflow node calls, as the calling file writes it.
func calleeLabel(c *schema.Call) string { return "→ " + c.Path }
