// Package policy owns the semantics of kgrun's four resilience policies, retry, circuit
// breaker, bulkhead and per-attempt timeout, and the order they wrap a node's exec in.
// They know nothing of workflows; package engine wraps them around node executions and
// supplies what needs run state (the clock, the trace, error kinds, the seeded random
// streams) through small interfaces such as RetryCall. Imports go one way: engine imports
// policy, never the reverse.
//
// A visit passes through them from the outside in:
//
//  1. fallback routing: when the policies below give up (retry_exhausted, circuit_open,
//     bulkhead_full, timeout, error), the node's on: map sends the run to another node.
//     That is routing, so it lives in package engine (route.go).
//  2. retry (retry.go, retryloop.go): Retry is the schedule: the delay formula
//     (delay × multiplier^(n−1), capped by max_delay), full jitter, the bounding of a
//     service's Retry-After request (WithRetryAfter, HonourRetryAfter) and the
//     max_duration window (Exceeds). DoRetry is the loop: it makes the attempts (the
//     first directly, retry-go after a retryable failure), waits on the caller's clock,
//     stops on a non-retryable error or when max_duration would be exceeded, and reports
//     whether the attempts were exhausted; canceled during a wait, it reports the
//     cancellation and keeps the last attempt's error. Which error kinds are retryable
//     (on:) is package engine's, given through RetryCall.Retryable.
//  3. breaker (breaker.go): Breaker, consulted once per attempt; a rejected attempt is
//     not retried. Which error kinds count (count:) is decided in package engine.
//  4. bulkhead (bulkhead.go): Bulkhead, one slot per attempt, a bounded wait on the
//     caller's clock.
//  5. timeout (timeout.go): Timeout, one deadline per attempt; past it the attempt counts
//     as timed out whatever exec returned, unless the caller's own context ended first.
//     Setting and enforcing the deadline needs run state, so it is package engine's
//     (attempt.go): a context on the run's clock, on the real clock a goroutine per
//     attempt so the timeout can cut an exec that ignores ctx, on a virtual clock a
//     watchdog, and for a durable backend the dispatcher's own timeout.
//  6. fault injection: a scenario's scripted or random faults replace the exec's result
//     (engine/fault.go, applied where engine/attempt.go calls exec), inside every policy,
//     so policies see injected faults as real ones.
//  7. exec: the node's own work.
//
// Package engine composes them in two places: engine/retry.go hands a visit's exec to
// DoRetry, and engine/attempt.go runs each attempt through breaker, bulkhead and timeout.
//
// Breaker and Bulkhead are safe for use by many goroutines at once, because one instance
// is shared by every run of a graph (and, for breakers, by every node that names it);
// Retry and Timeout hold no state.
//
// Time is always passed in by the caller, so the same policy works on a real or a virtual
// clock and its behaviour can be tested without sleeping.
package policy
