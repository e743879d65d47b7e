// Package policy owns the state machines behind kgrun's shared resilience policies: the
// circuit breaker and the bulkhead. They know nothing of workflows; package engine wraps
// them around node executions in its documented order. Both types are safe for use by
// many goroutines at once, because one instance is shared by every run of a graph (and,
// for breakers, by every node that names it).
//
// Time is always passed in by the caller, so the same breaker works on a real or a
// virtual clock and its behaviour can be tested without sleeping.
package policy
