package temporal

import (
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/kgrun/kgrun/engine"
)

// TestRunRecordsItsMemo runs the flagship in the SDK's test environment and checks the
// memo the run workflow records: what it runs as it starts, then the status and visits
// the local engine gives the same seed as it ends.
func TestRunRecordsItsMemo(t *testing.T) {
	const file = "../workflows/fault_tolerant.yaml"
	dir := t.TempDir()
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatal(ds.Error())
	}
	req := NewRunRequest(g, engine.RunOptions{Scenario: "network", Seed: 14, Params: map[string]any{"alternate_dir": dir}})
	req.SharedState = SharedRun

	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartTime(engine.Epoch)
	NewWorker(newRegistry, nil, Options{}).Register(env)
	var memos []map[string]any
	env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) { memos = append(memos, args.Get(0).(map[string]any)) }).Return(nil)
	env.ExecuteWorkflow(RunWorkflow, req)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the run workflow failed: %v", err)
	}
	want := localRun(t, file, "network", 14, dir)
	wantMemos := []map[string]any{
		{memoWorkflow: "fault-tolerant", memoFile: req.Bundle.File, memoScenario: "network", memoSeed: int64(14)},
		{memoStatus: string(want.Status), memoVisits: want.Steps()},
	}
	if !reflect.DeepEqual(memos, wantMemos) {
		t.Errorf("the run recorded memos %v; want %v", memos, wantMemos)
	}
}

// execution builds a run's execution as visibility lists it, with a memo.
func execution(t *testing.T, id, runID string, status enumspb.WorkflowExecutionStatus, start, closed time.Time, memo map[string]any) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	fields := map[string]*commonpb.Payload{}
	for k, v := range memo {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		fields[k] = p
	}
	e := &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: runID},
		Type: &commonpb.WorkflowType{Name: RunWorkflow}, Status: status, StartTime: timestamppb.New(start),
		Memo: &commonpb.Memo{Fields: fields}}
	if !closed.IsZero() {
		e.CloseTime = timestamppb.New(closed)
	}
	return e
}

// TestRunInfoReadsTheMemo: a run's row comes from its execution's status and memo alone;
// what the memo lacks (a run recorded before runs kept one) or holds in another shape
// stays empty rather than failing the listing.
func TestRunInfoReadsTheMemo(t *testing.T) {
	t0 := engine.Epoch
	start := map[string]any{memoWorkflow: "fault-tolerant", memoFile: "fault_tolerant.yaml", memoScenario: "network", memoSeed: 14}
	ended := map[string]any{memoStatus: "degraded", memoVisits: 7}
	for k, v := range start {
		ended[k] = v
	}
	for _, c := range []struct {
		name   string
		status enumspb.WorkflowExecutionStatus
		memo   map[string]any
		want   RunInfo
	}{
		{"completed", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, ended,
			RunInfo{Workflow: "fault-tolerant", File: "fault_tolerant.yaml", Scenario: "network", Seed: 14, Status: "degraded", Execution: "Completed", Visits: 7}},
		{"running", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, start,
			RunInfo{Workflow: "fault-tolerant", File: "fault_tolerant.yaml", Scenario: "network", Seed: 14, Status: StatusRunning, Execution: "Running"}},
		{"terminated", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, start,
			RunInfo{Workflow: "fault-tolerant", File: "fault_tolerant.yaml", Scenario: "network", Seed: 14, Status: StatusCrashed, Execution: "Terminated"}},
		{"timed out", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, nil, RunInfo{Status: StatusCrashed, Execution: "TimedOut"}},
		{"canceled", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, nil, RunInfo{Status: "canceled", Execution: "Canceled"}},
		{"completed without a memo", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, nil, RunInfo{Status: "completed", Execution: "Completed"}},
		{"a memo of another shape", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, map[string]any{memoSeed: "fourteen", memoStatus: 3},
			RunInfo{Status: "completed", Execution: "Completed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			closed := t0.Add(3 * time.Second)
			if c.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				closed = time.Time{}
			}
			got := runInfo(execution(t, "kgrun-x", "r1", c.status, t0, closed, c.memo))
			want := c.want
			want.ID, want.TemporalRunID, want.Started, want.Closed = "kgrun-x", "r1", t0.UTC(), closed.UTC()
			if closed.IsZero() {
				want.Closed = time.Time{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("runInfo = %+v\nwant       %+v", got, want)
			}
		})
	}
}

// TestLaterExecutionWins: of a run's executions (a resumed run has one per resume), the
// running one, else the one that closed last, stands for the run, which started when
// its first execution did; the others count as resets, in whatever order they come.
func TestLaterExecutionWins(t *testing.T) {
	t0 := engine.Epoch
	old := RunInfo{Status: StatusCrashed, Closed: t0.Add(time.Second)}
	newer := RunInfo{Status: "success", Closed: t0.Add(2 * time.Second)}
	running := RunInfo{Status: StatusRunning}
	if !later(newer, old) || later(old, newer) {
		t.Error("the execution that closed last does not win")
	}
	if !later(running, newer) || later(newer, running) {
		t.Error("the running execution does not win")
	}
	first := RunInfo{ID: "r", Status: StatusCrashed, Started: t0, Closed: t0.Add(time.Second)}
	second := RunInfo{ID: "r", Status: StatusCrashed, Started: t0.Add(2 * time.Second), Closed: t0.Add(3 * time.Second)}
	third := RunInfo{ID: "r", Status: StatusRunning, Started: t0.Add(4 * time.Second)}
	want := third
	want.Started, want.Resets = t0, 2
	for _, order := range [][]RunInfo{{first, second, third}, {third, second, first}, {second, third, first}} {
		got := order[0]
		for _, e := range order[1:] {
			got = merge(got, e)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("merged %+v\nwant  %+v", got, want)
		}
	}
}
