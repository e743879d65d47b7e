// Package bench measures kgrun against the Go resilience libraries a user might pick
// instead (failsafe-go, sony/gobreaker, avast/retry-go) and against hand-written code
// doing the same work, in one `go test -bench` run so that every ratio compares figures
// taken side by side on the same machine.
//
// It lives in its own module so that the peers it imports never become dependencies of
// kgrun itself. Each benchmark is named Benchmark<Case>/<implementation>; ratios.sh runs
// them and cmd/ratios turns the output into the table quoted in docs/PERFORMANCE.md.
// Implementations whose name starts with "kgrun" are the ones measured; every other one
// (the hand-written "baseline" and the peers) is a reference they are divided by.
//
// The work is the same on every side: a function returning a preallocated value, or a
// preallocated error of kind network. Retry delays are zero everywhere, so no side
// waits; kgrun's retry policy then never sleeps on either clock.
package bench
