package schema

import "fmt"

// check runs the semantic checks that need only the file: every reference resolves,
// every node is reachable, and nothing is declared in a way that can never take effect.
func check(w *Workflow, ds *Diagnostics) {
	names := w.NodeNames()
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
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
	// ref reports a reference to a node that is not declared; what names the reference,
	// and is only formatted then.
	ref := func(id Ident, what func() string) {
		if len(names) == 0 {
			return // no nodes decoded: the missing or broken nodes key is the error
		}
		if id.Name == "" || known[id.Name] {
			return
		}
		detail := "declare it under nodes, or name one of the declared nodes"
		if s := suggest(id.Name); s != "" {
			detail = fmt.Sprintf("did you mean %q?", s)
		}
		ds.Errorf(id.Pos, detail, "%s names unknown node %q", what(), id.Name)
	}
	ref(w.Start, func() string { return "start" })
	ref(w.ErrorHandler, func() string { return "error_handler" })

	breakerNames := make([]string, len(w.Breakers))
	usedBreakers := map[string]bool{}
	for i, b := range w.Breakers {
		breakerNames[i] = b.Name
	}
	for _, n := range w.Nodes {
		for _, e := range n.Edges {
			ref(e.To, func() string { return fmt.Sprintf("node %q: edge %q", n.Name, e.Action) })
		}
		ref(n.Fallback, func() string { return fmt.Sprintf("node %q: fallback", n.Name) })
		if n.Fallback.Name == n.Name {
			ds.Errorf(n.Fallback.Pos, "name another node that can stand in for this one", "node %q falls back to itself", n.Name)
		}
		if b := n.Breaker; b.Name != "" {
			usedBreakers[b.Name] = true
			if w.Breaker(b.Name) == nil {
				detail := DidYouMean(b.Name, breakerNames)
				if detail == "" {
					detail = "declare it under breakers: with failure_threshold and open_timeout"
				}
				ds.Errorf(b.Pos, detail, "node %q uses breaker %q, which is not declared", n.Name, b.Name)
			}
		}
		checkShadowedEdges(n, ds)
		if r := n.Retry; r != nil && r.MaxDelay > 0 && r.MaxDelay < r.Delay {
			ds.Warnf(r.Pos, "raise max_delay or lower delay", "node %q: retry max_delay %s is below delay %s, so every wait is max_delay",
				n.Name, r.MaxDelay, r.Delay)
		}
	}
	for _, b := range w.Breakers {
		if !usedBreakers[b.Name] {
			ds.Warnf(b.Pos, "name it in a node's breaker: key, or remove it", "breaker %q is declared but no node uses it", b.Name)
		}
	}
	for _, s := range w.Scenarios {
		for _, f := range s.Faults {
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
	checkReachable(w, known, suggest, ds)
}

// checkShadowedEdges warns about edges listed after an unguarded edge for the same
// action: the unguarded one always matches first, so they are never taken.
func checkShadowedEdges(n *Node, ds *Diagnostics) {
	unguarded := map[string]*Edge{}
	for _, e := range n.Edges {
		if first, ok := unguarded[e.Action]; ok {
			ds.Warnf(e.To.Pos, "put guarded edges first and the unguarded one last",
				"node %q: this %q edge is never taken; the unguarded edge to %q at line %d always matches first",
				n.Name, e.Action, first.To.Name, first.To.Pos.Line)
			continue
		}
		if e.When == nil {
			unguarded[e.Action] = e
		}
	}
}

// checkReachable reports nodes that no path from start (or from the error handler, which
// any failure can reach) leads to.
func checkReachable(w *Workflow, known map[string]bool, suggest func(string) string, ds *Diagnostics) {
	if !known[w.Start.Name] {
		return
	}
	index := make(map[string]int, len(w.Nodes))
	for i, n := range w.Nodes {
		index[n.Name] = i
	}
	seen := make([]bool, len(w.Nodes))
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
	push(w.Start.Name)
	push(w.ErrorHandler.Name)
	for len(stack) > 0 {
		n := w.Nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		for _, e := range n.Edges {
			push(e.To.Name)
		}
		push(n.Fallback.Name)
	}
	for i, n := range w.Nodes {
		if !seen[i] {
			ds.Errorf(n.Pos, fmt.Sprintf("route to it from another node's on: or fallback:, or remove it (start is %q)", w.Start.Name),
				"node %q is unreachable", n.Name)
		}
	}
}
