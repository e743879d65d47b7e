// Package ionodes owns the node types that do real work: http calls a service, command
// runs a program, file reads and writes files under a declared root. They do their I/O
// in Exec under the attempt's context, so a node's retry, breaker, timeout, bulkhead and
// a scenario's injected faults (innermost, before Exec) apply to real calls, and they
// classify what goes wrong into the engine's error kinds so policies know what to retry
// and what to count.
//
// Register them explicitly: ionodes.Register(reg, ionodes.Options{}).
package ionodes
