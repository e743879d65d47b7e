// Package graphsvg draws a workflow as a standalone SVG picture (or an HTML page holding
// one), laid out without external tools, and optionally overlays the path a run took.
//
// The layout is layered and deterministic: a node's rank is its distance from the start
// node by breadth-first search over action and fallback edges (nodes reached only
// through the error handler go in a last rank), and nodes keep their discovery order
// within a rank, so the same file always gives the same picture.
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
)

// box is a node's place in the picture.
type box struct {
	node       *schema.Node
	rank, row  int
	x, y, w, h float64
}

// layout places every node of w: ranks by BFS from the start, rows in discovery order.
func layout(w *schema.Workflow) (boxes []*box, byName map[string]*box, width, height float64) {
	byName = map[string]*box{}
	nodes := map[string]*schema.Node{}
	for _, n := range w.Nodes {
		nodes[n.Name] = n
	}
	var order []*box
	visit := func(name string, rank int) {
		n := nodes[name]
		if n == nil || byName[name] != nil {
			return
		}
		b := &box{node: n, rank: rank}
		byName[name] = b
		order = append(order, b)
	}
	visit(w.Start.Name, 0)
	for i := 0; i < len(order); i++ { // order grows as the search discovers nodes
		b := order[i]
		for _, e := range b.node.Edges {
			visit(e.To.Name, b.rank+1)
		}
		if b.node.Fallback.Name != "" {
			visit(b.node.Fallback.Name, b.rank+1)
		}
	}
	last := 0
	for _, b := range order {
		last = max(last, b.rank)
	}
	unreached := false
	for _, n := range w.Nodes { // the error handler and anything only it reaches
		if byName[n.Name] == nil {
			unreached = true
			visit(n.Name, last+1)
		}
	}
	if unreached {
		last++
	}
	// Column widths, then positions.
	colWidth := make([]float64, last+1)
	rows := make([]int, last+1)
	for _, b := range order {
		b.w = max(minBox, float64(max(utf8.RuneCountInString(b.node.Name), utf8.RuneCountInString(b.node.Type.Name)))*charWidth+2*boxPadding)
		b.h = boxHeight
		b.row = rows[b.rank]
		rows[b.rank]++
		colWidth[b.rank] = max(colWidth[b.rank], b.w)
	}
	maxRows := 0
	for _, r := range rows {
		maxRows = max(maxRows, r)
	}
	colX := make([]float64, last+1)
	x := float64(margin)
	for i, cw := range colWidth {
		colX[i] = x
		x += cw + columnGap
	}
	width = x - columnGap + margin
	// Back edges and error edges loop below the boxes; leave them room.
	height = float64(margin) + float64(maxRows)*(boxHeight+rowGap) - rowGap + 3*rowGap + margin
	for _, b := range order {
		// Centre a short column against the tallest one.
		offset := float64(maxRows-rows[b.rank]) * (boxHeight + rowGap) / 2
		b.x = colX[b.rank] + (colWidth[b.rank]-b.w)/2
		b.y = float64(margin) + offset + float64(b.row)*(boxHeight+rowGap)
	}
	return order, byName, width, height
}
