package main

import (
	"net"
	"strings"
	"testing"
)

// TestTemporalFlagsAreChecked: the worker needs a cluster, --temporal refuses what only
// the local engine does, and an address where nothing listens is a clear error, not a
// hang. (Runs on a real cluster are temporal/cluster_test.go's.)
func TestTemporalFlagsAreChecked(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"worker"}, exitUsage, "--temporal HOST:PORT is required"},
		{[]string{"worker", "--temporal", dead, "extra"}, exitUsage, "want no arguments"},
		{[]string{"workflows/fault_tolerant.yaml", "--temporal", dead, "--virtual-time"}, exitUsage, "leave out --virtual-time and --runs"},
		{[]string{"workflows/fault_tolerant.yaml", "--temporal", dead, "--shared-state", "everywhere"}, exitUsage, "--shared-state takes cluster or run"},
		{[]string{"workflows/fault_tolerant.yaml", "--temporal", dead, "--order", "random"}, exitUsage, "--order takes parallel or exact"},
		{[]string{"workflows/fault_tolerant.yaml", "--order", "exact"}, exitUsage, "--order orders a run on Temporal: add --temporal"},
		{[]string{"workflows/fault_tolerant.yaml", "--temporal", dead, "--state", "none"}, exitFailed, "connecting to Temporal at " + dead},
		{[]string{"workflows/fan_out.yaml", "--temporal", dead, "--order", "exact", "--state", "none"}, exitFailed, "connecting to Temporal at " + dead},
	} {
		_, stderr, code := kgrun(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("kgrun %s: exit %d (want %d), stderr %q (want %q)", strings.Join(c.args, " "), code, c.code, stderr, c.want)
		}
	}
}
