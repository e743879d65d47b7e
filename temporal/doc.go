// Package temporal runs kgrun workflows on a Temporal cluster: the way out of one
// machine. It owns the run workflow (the engine's run loop as deterministic workflow
// code), the exec activities (one per node type), the breaker and bulkhead workflows
// that share policy state across every worker and run, the worker's setup, and the
// client side that starts a run and turns its reply back into an engine.Result.
//
// The engine does not know Temporal: a run reaches it through engine.Backend. Here,
//
//   - the clock is workflow time: waits are workflow timers, so retry delays, backoff,
//     jitter and max_duration follow the engine's formulas exactly;
//   - each attempt's exec is an activity named kgrun.exec.<type> whose ID holds the node
//     path, visit and attempt; the node's timeout is the activity's schedule-to-close
//     timeout. An exec's failure is never retried by Temporal (the workflow's retry
//     policy decides, on workflow timers); only the loss of a worker, seen by a missed
//     heartbeat, is redelivered, within the attempt's timeout, since it is not a failure
//     of the node;
//   - fault injection, prep, post, hooks, guards and routing run in workflow code, with
//     every random draw derived from the run's seed, so a seed takes the same path here
//     as on the local engine;
//   - named breakers live in one long-lived workflow per breaker (BreakersCluster), asked
//     through updates, or in the run itself (BreakersRun, as the local engine's tests
//     use a fresh graph per test); bulkheads likewise.
package temporal
