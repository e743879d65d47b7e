package schema

// Composition: the three node types that run other graphs. A map node runs its body once
// per item, a parallel node runs named branches at once, and a workflow node runs another
// workflow file. Bodies and branches are sub-graphs declared inside the node, with their
// own start and nodes; their node names are their own (an edge never leaves its body).

// Composition type names, as written in a node's type.
const (
	TypeMap      = "map"
	TypeParallel = "parallel"
	TypeWorkflow = "workflow"
)

// Body is a sub-graph: a start node, its nodes, and what one run of it returns.
type Body struct {
	Pos         Pos
	Description string
	Start       Ident
	Nodes       []*Node
	// Output is what a run of the body returns: one expression (Value), or named values
	// (Named) that make a map. When neither is given the body returns the shared keys
	// its visits wrote.
	Value *Expr
	Named []*Assignment
}

// Map runs its body once per item of a list, at most MaxConcurrency at a time.
type Map struct {
	Pos Pos
	// Items computes the list (a ${{ EXPR }} string); Literal is a list written out.
	Items    *ParamTemplate
	Literal  []any
	ItemsPos Pos
	// MaxConcurrency bounds the items running at once.
	MaxConcurrency int
	Tolerated      Tolerance
	Body           *Body
}

// DefaultMaxConcurrency is a map's max_concurrency when the file does not say.
const DefaultMaxConcurrency = 16

// Tolerance is how many failed items a map tolerates: a count, or a percentage of the
// items (Percent true, Value in 0..100).
type Tolerance struct {
	Pos     Pos
	Value   float64
	Percent bool
}

// Allowed returns how many of n items may fail.
func (t Tolerance) Allowed(n int) int {
	if !t.Percent {
		return int(t.Value)
	}
	// A percentage allows the failures that keep the share at or under it.
	return int(t.Value * float64(n) / 100)
}

// Parallel runs named branches at once and joins them.
type Parallel struct {
	Pos Pos
	// Join is "all" (wait for every branch) or "first" (the first success wins).
	Join    string
	JoinPos Pos
	// FailFast cancels the other branches at the first failure.
	FailFast bool
	Branches []*Branch
}

// Branch is one named sub-graph of a parallel node.
type Branch struct {
	Name string
	Body
}

// Call runs another workflow file.
type Call struct {
	Pos Pos
	// Path is the called file as written, relative to the calling file.
	Path    string
	PathPos Pos
	// Input is what the called workflow receives as its input; Templates are the
	// strings in it that hold ${{ EXPR }}.
	Input     map[string]any
	InputPos  map[string]Pos
	Templates []*ParamTemplate
}

// Bodies returns the node's sub-graphs with the path prefix that names their nodes in
// scenarios ("fan/" for a map's body, "both/left/" for a parallel node's branch).
func (n *Node) Bodies() []ScopedBody {
	switch {
	case n.Map != nil && n.Map.Body != nil:
		return []ScopedBody{{Prefix: n.Name + "/", Label: "body", Body: n.Map.Body}}
	case n.Parallel != nil:
		out := make([]ScopedBody, 0, len(n.Parallel.Branches))
		for _, b := range n.Parallel.Branches {
			out = append(out, ScopedBody{Prefix: n.Name + "/" + b.Name + "/", Label: "branch " + b.Name, Body: &b.Body})
		}
		return out
	}
	return nil
}

// ScopedBody is a sub-graph with the prefix of its nodes' paths.
type ScopedBody struct {
	Prefix string
	Label  string
	Body   *Body
}

// NodePaths lists every node of the workflow by path: top-level nodes by name, nodes in
// bodies and branches as "map/node" and "parallel/branch/node", in file order.
func (w *Workflow) NodePaths() []string {
	var out []string
	var walk func(prefix string, nodes []*Node)
	walk = func(prefix string, nodes []*Node) {
		for _, n := range nodes {
			out = append(out, prefix+n.Name)
			for _, b := range n.Bodies() {
				walk(prefix+b.Prefix, b.Body.Nodes)
			}
		}
	}
	walk("", w.Nodes)
	return out
}
