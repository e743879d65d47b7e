package engine

// EmitsPolicyEvents reports whether a run of g can emit retry_scheduled or breaker_state
// events: whether any node may retry or names a breaker. A caller that wants only those
// events (a report's retry and breaker statistics) can run without a tracer when it is
// false, and so spare every visit the building of events nobody reads. A graph with a
// map, parallel or workflow node emits the scope events of its children.
func (g *Graph) EmitsPolicyEvents() bool {
	for _, n := range g.nodes {
		if (n.retry != nil && n.retry.Attempts > 1) || n.breaker != nil || n.compose != nil {
			return true
		}
	}
	return false
}
