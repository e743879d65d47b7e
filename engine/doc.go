// Package engine owns compiling a decoded workflow into an executable Graph and running
// it: node types and their registry, guards and hooks (expr-lang, compiled once), the
// policy stack around each node's exec, fault injection, routing of failures, the run
// loop, clocks, seeded randomness and the trace.
//
// A Graph is immutable and safe for concurrent runs; everything that belongs to one run
// (shared store, clock position, random streams, trace) lives in per-run state, as with
// text/template's compiled template and its executions. Circuit breakers and bulkheads
// are the deliberate exception: they are shared by every run of a Graph, because that is
// what makes them useful.
//
// The policy stack around one node's exec, outermost first:
//
//	fallback routing → retry → circuit breaker → bulkhead → per-attempt timeout → fault injection → exec
//
// so a breaker sees every attempt, a retry never hammers an open breaker (circuit_open is
// not retried), each attempt has its own timeout, and injected faults look exactly like
// real ones to every policy above them. The four policies' semantics, the retry loop
// included, live in package policy (see its doc); retry.go and attempt.go here only wire
// them to the run's clock, trace, error kinds and random streams.
package engine
