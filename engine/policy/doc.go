// Package policy owns the semantics of kgrun's resilience policies: the retry schedule,
// the circuit breaker and the bulkhead, with the per-attempt timeout's place among them
// documented here. They know nothing of workflows; package engine wraps them around node
// executions and supplies what needs run state (the clock, the trace, error kinds, the
// seeded random streams). Imports go one way: engine imports policy, never the reverse.
//
// A visit passes through them from the outside in:
//
//  1. fallback routing: when the policies below give up (retry_exhausted, circuit_open,
//     bulkhead_full, timeout, error), the node's on: map sends the run to another node.
//     That is routing, so it lives in package engine (route.go).
//  2. retry: Retry here gives the delay formula (delay × multiplier^(n−1), capped by
//     max_delay), full jitter, the bounding of a service's Retry-After request
//     (WithRetryAfter, HonourRetryAfter) and the max_duration window (Exceeds). The loop
//     that makes the attempts, sleeps on the run's clock and emits retry events is
//     engine/retry.go.
//  3. breaker: Breaker here, consulted once per attempt; a rejected attempt is not
//     retried. Which error kinds count is decided in package engine (attempt.go).
//  4. bulkhead: Bulkhead here, one slot per attempt, a bounded wait on the caller's clock.
//  5. timeout: one deadline per attempt, set on the attempt's context in package engine
//     (attempt.go), because it needs the run's clock; on the real clock the attempt's
//     exec runs in its own goroutine so the timeout can cut an exec that ignores ctx.
//  6. fault injection: a scenario's scripted or random faults replace the exec's result
//     (engine/fault.go, applied where attempt.go calls exec), inside every policy, so policies see injected faults as real ones.
//  7. exec: the node's own work.
//
// Breaker and Bulkhead are safe for use by many goroutines at once, because one instance
// is shared by every run of a graph (and, for breakers, by every node that names it);
// Retry holds no state.
//
// Time is always passed in by the caller, so the same policy works on a real or a virtual
// clock and its behaviour can be tested without sleeping.
package policy
