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
		{[]string{"runs", "--temporal", dead, "--state", "runs.db"}, exitUsage, "--state names a local store: leave one out"},
		{[]string{"runs", "--temporal", dead, "--status", "damaged"}, exitUsage, "--status damaged applies to the local store"},
		{[]string{"runs", "--temporal", dead, "--status", "lost"}, exitUsage, "--status takes success"},
		{[]string{"runs", "--temporal", dead, "--format", "xml"}, exitUsage, "--format takes text or json"},
		{[]string{"runs", "--temporal", dead, "--since", "yesterday"}, exitUsage, "--since takes"},
		{[]string{"runs", "--temporal", dead, "--task-queue", "q"}, exitUsage, "task-queue"},
		{[]string{"runs", "--temporal", dead}, exitFailed, "connecting to Temporal at " + dead},
		{[]string{"show", "--temporal", dead}, exitUsage, "name one run"},
		{[]string{"show", "r1", "--temporal", dead, "--state-wait", "1s"}, exitUsage, "--state-wait names a local store"},
		{[]string{"show", "r1", "--temporal", dead, "--format", "yaml"}, exitUsage, "--format takes text or json"},
		{[]string{"show", "r1", "--temporal", dead}, exitFailed, "connecting to Temporal at " + dead},
		{[]string{"resume", "--temporal", dead}, exitUsage, "usage: kgrun resume RUN_ID [FILE] --temporal"},
		{[]string{"resume", "r1", "workflows/fault_tolerant.yaml", "extra", "--temporal", dead}, exitUsage, "usage: kgrun resume RUN_ID [FILE] --temporal"},
		{[]string{"resume", "r1", "--temporal", dead, "--scenario", "network"}, exitUsage, "leave out --scenario"},
		{[]string{"resume", "r1", "--temporal", dead, "--set", "batch_size=3"}, exitUsage, "leave out --set"},
		{[]string{"resume", "r1", "--temporal", dead, "--from", "2"}, exitUsage, "leave out --from"},
		{[]string{"resume", "r1", "--temporal", dead, "--format", "xml"}, exitUsage, "--format takes text or json"},
		{[]string{"resume", "r1", "testdata/no_such.yaml", "--temporal", dead}, exitUsage, "no_such.yaml"},
		{[]string{"resume", "r1", "--temporal", dead}, exitFailed, "connecting to Temporal at " + dead},
		{[]string{"workflows/fan_out.yaml", "--temporal", dead, "--order", "exact", "--state", "none"}, exitFailed, "connecting to Temporal at " + dead},
	} {
		_, stderr, code := kgrun(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("kgrun %s: exit %d (want %d), stderr %q (want %q)", strings.Join(c.args, " "), code, c.code, stderr, c.want)
		}
	}
}
