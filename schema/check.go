package schema

import (
	"fmt"
	"strings"
)

// check runs the semantic checks that need only the file: every reference resolves,
// every node is reachable, and nothing is declared in a way that can never take effect.
func check(w *Workflow, ds *Diagnostics) {
	usedBreakers := map[string]bool{}
	ref := checkGraph(w, graphOf(w), "", usedBreakers, ds)
	for _, b := range w.Breakers {
		if !usedBreakers[b.Name] {
			ds.Warnf(b.Pos, "name it in a node's breaker: key, or remove it", "breaker %q is declared but no node uses it", b.Name)
		}
	}
	paths := w.NodePaths()
	knownPaths := make(map[string]bool, len(paths))
	for _, p := range paths {
		knownPaths[p] = true
	}
	for _, s := range w.Scenarios {
		for _, f := range s.Faults {
			if strings.Contains(f.Node.Name, "/") || len(paths) == 0 {
				if len(paths) > 0 && !knownPaths[f.Node.Name] {
					detail := DidYouMean(f.Node.Name, paths)
					if detail == "" {
						detail = "name a node inside a body by its path: map/node or parallel/branch/node"
					}
					ds.Errorf(f.Node.Pos, detail, "scenario %q: fault names unknown node %q", s.Name, f.Node.Name)
				}
				continue
			}
			ref(f.Node, func() string { return fmt.Sprintf("scenario %q: fault", s.Name) })
		}
	}
	scenarioNames := make([]string, len(w.Scenarios))
	for i, s := range w.Scenarios {
		scenarioNames[i] = s.Name
	}
	for _, t := range w.Tests {
		if id := t.Scenario; id.Name != "" && w.Scenario(id.Name) == nil {
			detail := DidYouMean(id.Name, scenarioNames)
			if detail == "" {
				detail = "declare it under scenarios, or remove the scenario key"
			}
			ds.Errorf(id.Pos, detail, "test %q names unknown scenario %q", t.Name, id.Name)
		}
		for _, list := range [][]Ident{t.Expect.Path, t.Expect.Visited, t.Expect.NotVisited} {
			for _, id := range list {
				ref(id, func() string { return fmt.Sprintf("test %q: expect", t.Name) })
			}
		}
	}
}

// graph is what the checks need of a workflow or a body: a start, an error handler and
// nodes.
type graph struct {
	start, errorHandler Ident
	nodes               []*Node
}

func graphOf(w *Workflow) graph {
	return graph{start: w.Start, errorHandler: w.ErrorHandler, nodes: w.Nodes}
}

// checkGraph checks one graph's references and reachability, then those of every body
// and branch inside it; scope is the path prefix of its nodes in messages ("" at the
// top, "fan/" in a map's body). It returns the graph's reference checker, whose label
// (what names the reference) is only formatted when the reference is broken.
func checkGraph(w *Workflow, g graph, scope string, usedBreakers map[string]bool, ds *Diagnostics) func(Ident, func() string) {
	names := make([]string, len(g.nodes))
	known := make(map[string]bool, len(names))
	for i, n := range g.nodes {
		names[i] = n.Name
		known[n.Name] = true
	}
	// suggest is Suggest among the node names, each typo looked up once: the reference
	// is reported with it, then followed to it by checkReachable.
	suggestions := map[string]string{}
	suggest := func(name string) string {
		s, ok := suggestions[name]
		if !ok {
			s = Suggest(name, names)
			suggestions[name] = s
		}
		return s
	}
	ref := func(id Ident, what func() string) {
		if len(names) == 0 {
			return // no nodes decoded: the missing or broken nodes key is the error
		}
		if id.Name == "" || known[id.Name] {
			return
		}
		detail := "declare it under nodes, or name one of the declared nodes"
		if scope != "" {
			detail = "an edge stays inside its body: name one of the body's nodes"
		}
		if s := suggest(id.Name); s != "" {
			detail = fmt.Sprintf("did you mean %q?", s)
		}
		where := ""
		if scope != "" {
			where = " in " + strings.TrimSuffix(scope, "/")
		}
		ds.Errorf(id.Pos, detail, "%s names unknown node %q%s", what(), id.Name, where)
	}
	if scope == "" {
		ref(g.start, func() string { return "start" })
	} else {
		ref(g.start, func() string { return scopedName(scope, "start") })
	}
	ref(g.errorHandler, func() string { return "error_handler" })

	var breakerNames []string
	for _, n := range g.nodes {
		for _, e := range n.Edges {
			ref(e.To, func() string { return fmt.Sprintf("node %q: edge %q", scope+n.Name, e.Action) })
		}
		ref(n.Fallback, func() string { return fmt.Sprintf("node %q: fallback", scope+n.Name) })
		if n.Fallback.Name == n.Name {
			ds.Errorf(n.Fallback.Pos, "name another node that can stand in for this one", "node %q falls back to itself", scope+n.Name)
		}
		if b := n.Breaker; b.Name != "" {
			usedBreakers[b.Name] = true
			if w.Breaker(b.Name) == nil {
				if breakerNames == nil {
					for _, b := range w.Breakers {
						breakerNames = append(breakerNames, b.Name)
					}
				}
				detail := DidYouMean(b.Name, breakerNames)
				if detail == "" {
					detail = "declare it under breakers: with failure_threshold and open_timeout"
				}
				ds.Errorf(b.Pos, detail, "node %q uses breaker %q, which is not declared", scope+n.Name, b.Name)
			}
		}
		checkShadowedEdges(n, scope, ds)
		if r := n.Retry; r != nil && r.MaxDelay > 0 && r.MaxDelay < r.Delay {
			ds.Warnf(r.Pos, "raise max_delay or lower delay", "node %q: retry max_delay %s is below delay %s, so every wait is max_delay",
				scope+n.Name, r.MaxDelay, r.Delay)
		}
		for _, b := range n.Bodies() {
			checkGraph(w, graph{start: b.Body.Start, nodes: b.Body.Nodes}, scope+b.Prefix, usedBreakers, ds)
		}
	}
	checkReachable(g, scope, known, suggest, ds)
	return ref
}

// scopedName names a key of a body in messages: "body of fan: start".
func scopedName(scope, key string) string {
	return fmt.Sprintf("%s: %s", strings.TrimSuffix(scope, "/"), key)
}

// checkShadowedEdges warns about edges listed after an unguarded edge for the same
// action: the unguarded one always matches first, so they are never taken.
func checkShadowedEdges(n *Node, scope string, ds *Diagnostics) {
	unguarded := map[string]*Edge{}
	for _, e := range n.Edges {
		if first, ok := unguarded[e.Action]; ok {
			ds.Warnf(e.To.Pos, "put guarded edges first and the unguarded one last",
				"node %q: this %q edge is never taken; the unguarded edge to %q at line %d always matches first",
				scope+n.Name, e.Action, first.To.Name, first.To.Pos.Line)
			continue
		}
		if e.When == nil {
			unguarded[e.Action] = e
		}
	}
}

// checkReachable reports nodes that no path from start (or from the error handler, which
// any failure can reach) leads to.
func checkReachable(g graph, scope string, known map[string]bool, suggest func(string) string, ds *Diagnostics) {
	if !known[g.start.Name] {
		return
	}
	index := make(map[string]int, len(g.nodes))
	for i, n := range g.nodes {
		index[n.Name] = i
	}
	seen := make([]bool, len(g.nodes))
	var stack []int
	push := func(name string) {
		if name == "" {
			return
		}
		i, ok := index[name]
		if !ok {
			// A reference with a typo is reported where it is written; follow the
			// suggested node so that its successors are not reported unreachable too.
			i, ok = index[suggest(name)]
		}
		if ok && !seen[i] {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	push(g.start.Name)
	push(g.errorHandler.Name)
	for len(stack) > 0 {
		n := g.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		for _, e := range n.Edges {
			push(e.To.Name)
		}
		push(n.Fallback.Name)
	}
	for i, n := range g.nodes {
		if !seen[i] {
			ds.Errorf(n.Pos, fmt.Sprintf("route to it from another node's on: or fallback:, or remove it (start is %q)", g.start.Name),
				"node %q is unreachable", scope+n.Name)
		}
	}
}
