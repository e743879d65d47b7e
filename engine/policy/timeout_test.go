package policy

import (
	"testing"
	"time"
)

func TestTimeout(t *testing.T) {
	if Timeout(0).Set() || Timeout(-time.Second).Set() || !Timeout(time.Second).Set() {
		t.Error("only a positive timeout sets a deadline")
	}
	to := Timeout(1500 * time.Millisecond)
	for _, c := range []struct{ callerEnded, past, want bool }{
		{false, false, false},
		{false, true, true}, // past the deadline: timed out whatever exec returned
		{true, true, false}, // the caller gave up: canceled, not timed out
		{true, false, false},
	} {
		if got := to.TimedOut(c.callerEnded, c.past); got != c.want {
			t.Errorf("TimedOut(callerEnded=%v, past=%v) = %v, want %v", c.callerEnded, c.past, got, c.want)
		}
	}
	if got, want := to.Err(3).Error(), "attempt 3 exceeded the 1.5s timeout"; got != want {
		t.Errorf("Err(3) = %q, want %q", got, want)
	}
}
