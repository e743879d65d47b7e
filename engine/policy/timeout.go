package policy

import (
	"fmt"
	"time"
)

// Timeout is a node's per-attempt timeout; 0 or less means none. Each attempt gets its
// own deadline, Timeout after it begins, on the caller's clock; how the deadline is set
// and enforced (a context on that clock, a worker goroutine that can cut an exec ignoring
// ctx, a watchdog on a virtual clock) is the caller's, because it needs run state.
type Timeout time.Duration

// Set reports whether attempts have a deadline at all.
func (t Timeout) Set() bool { return t > 0 }

// TimedOut decides, once an attempt's exec has returned, whether the attempt counts as
// timed out: past its deadline it does, whatever exec returned, so a late result is
// discarded rather than racing the timeout; but when the caller's own context has ended
// the attempt was canceled, not timed out.
func (t Timeout) TimedOut(callerEnded, pastDeadline bool) bool {
	return !callerEnded && pastDeadline
}

// Err is the error of attempt n when it timed out.
func (t Timeout) Err(n int) error {
	return fmt.Errorf("attempt %d exceeded the %s timeout", n, time.Duration(t))
}
