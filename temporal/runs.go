package temporal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine"
)

// The memo a run carries on the cluster, so that listing runs reads no history: what
// it runs when it starts, how it ended when it ends.
const (
	memoWorkflow = "kgrun_workflow"
	memoFile     = "kgrun_file"
	memoScenario = "kgrun_scenario"
	memoSeed     = "kgrun_seed"
	memoStatus   = "kgrun_status"
	memoVisits   = "kgrun_visits"
)

// statusMemoChange names the change that made the run workflow record its status in its
// memo as it ends; histories recorded before it replay without that command.
const statusMemoChange = "kgrun-status-memo"

// The statuses of a run on the cluster, beyond a finished run's engine.Status.
const (
	// StatusRunning: the run workflow is running (a worker may be down; it goes on when
	// one polls again).
	StatusRunning = "running"
	// StatusCrashed: the run workflow ended without a result (terminated, timed out, or
	// failed in workflow code); Resume continues it after its last completed step.
	StatusCrashed = "crashed"
)

// RunInfo is one run on the cluster as kgrun lists it. ID is the workflow ID, the name
// kgrun gives the run; TemporalRunID is the execution it describes.
type RunInfo struct {
	ID            string    `json:"id"`
	TemporalRunID string    `json:"temporal_run_id"`
	Workflow      string    `json:"workflow"`
	File          string    `json:"file"`
	Scenario      string    `json:"scenario,omitempty"`
	Seed          int64     `json:"seed"`
	Status        string    `json:"status"`
	Execution     string    `json:"execution"`
	Started       time.Time `json:"started"`
	Closed        time.Time `json:"closed,omitzero"`
	Visits        int       `json:"visits"`
	// Resets counts the executions before this one under the same ID: the times the run
	// was resumed.
	Resets int `json:"resets"`
	// Pending lists the execs in flight (DescribeRun only).
	Pending []PendingExec `json:"pending,omitempty"`
}

// HasResult says whether the run's execution completed, so that it holds the run's
// result (RunResult reads it).
func (r RunInfo) HasResult() bool {
	return r.Execution == executionName(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

// Elapsed is the run's wall time so far (until now while it runs).
func (r RunInfo) Elapsed(now time.Time) time.Duration {
	if r.Closed.IsZero() {
		return now.Sub(r.Started)
	}
	return r.Closed.Sub(r.Started)
}

// PendingExec is an exec activity in flight.
type PendingExec struct {
	// ActivityID holds the node path, visit and attempt: node/v<visit>/a<attempt>/<n>.
	ActivityID string    `json:"activity_id"`
	Type       string    `json:"type"`
	State      string    `json:"state"`
	Delivery   int       `json:"delivery"`
	Worker     string    `json:"worker,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
}

// RunFilter selects runs for ListRuns; its zero value selects every run.
type RunFilter struct {
	Workflow string // the workflow's name
	// Status: an engine.Status, StatusRunning or StatusCrashed.
	Status       string
	Since, Until time.Time // start time, Until excluded
	Limit        int       // the newest Limit runs selected; 0 for all
}

// requestMemo is what the request itself says of a run, set by Start so that a run no
// worker has taken up yet lists with its file, scenario and seed.
func requestMemo(req RunRequest) map[string]any {
	return map[string]any{memoFile: req.Bundle.File, memoScenario: req.Scenario, memoSeed: req.Seed}
}

// memoVersion returns the version of the run workflow's memo change this run follows:
// DefaultVersion for a history recorded before runs recorded their memo.
func memoVersion(wctx workflow.Context) workflow.Version {
	return workflow.GetVersion(wctx, statusMemoChange, workflow.DefaultVersion, 1)
}

// recordStart records, as the run starts, what it runs: the workflow's name as the
// worker compiled it, with what the request says.
func recordStart(wctx workflow.Context, v workflow.Version, name string, req RunRequest) error {
	if v == workflow.DefaultVersion {
		return nil
	}
	memo := requestMemo(req)
	memo[memoWorkflow] = name
	if err := workflow.UpsertMemo(wctx, memo); err != nil {
		return fmt.Errorf("recording the run's memo: %w", err)
	}
	return nil
}

// recordEnd records how the run ended, so that listing runs needs no history.
func recordEnd(wctx workflow.Context, v workflow.Version, res *engine.Result) error {
	if v == workflow.DefaultVersion {
		return nil
	}
	if err := workflow.UpsertMemo(wctx, map[string]any{memoStatus: string(res.Status), memoVisits: res.Steps()}); err != nil {
		return fmt.Errorf("recording the run's status in its memo: %w", err)
	}
	return nil
}

// ListRuns lists the runs on the cluster, newest first, one row per run ID (the latest
// execution, counting the others as resets).
func ListRuns(ctx context.Context, c client.Client, namespace string, f RunFilter) ([]RunInfo, error) {
	// Only the start time goes into the query: the status and the workflow are in the
	// memo, which visibility cannot search, and every execution of a run is read so that
	// its resets are counted.
	q := []string{fmt.Sprintf("WorkflowType = '%s'", RunWorkflow)}
	if !f.Since.IsZero() {
		q = append(q, fmt.Sprintf("StartTime >= '%s'", f.Since.UTC().Format(time.RFC3339Nano)))
	}
	if !f.Until.IsZero() {
		q = append(q, fmt.Sprintf("StartTime < '%s'", f.Until.UTC().Format(time.RFC3339Nano)))
	}
	req := &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: strings.Join(q, " AND ")}
	byID := map[string]int{}
	var runs []RunInfo
	for {
		resp, err := c.ListWorkflow(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("listing runs on Temporal: %w", err)
		}
		for _, e := range resp.Executions {
			r := runInfo(e)
			i, seen := byID[r.ID]
			if !seen {
				byID[r.ID] = len(runs)
				runs = append(runs, r)
				continue
			}
			if later(r, runs[i]) {
				r.Resets = runs[i].Resets
				runs[i] = r
			}
			runs[i].Resets++
		}
		if len(resp.NextPageToken) == 0 {
			break
		}
		req.NextPageToken = resp.NextPageToken
	}
	runs = slices.DeleteFunc(runs, func(r RunInfo) bool {
		return (f.Workflow != "" && r.Workflow != f.Workflow) || (f.Status != "" && r.Status != f.Status)
	})
	slices.SortStableFunc(runs, func(a, b RunInfo) int { return b.Started.Compare(a.Started) })
	if f.Limit > 0 && len(runs) > f.Limit {
		runs = runs[:f.Limit]
	}
	return runs, nil
}

// later says whether execution a of a run supersedes b: a running one, else the one
// that closed last.
func later(a, b RunInfo) bool {
	if (a.Status == StatusRunning) != (b.Status == StatusRunning) {
		return a.Status == StatusRunning
	}
	return a.Closed.After(b.Closed)
}

func runInfo(e *workflowpb.WorkflowExecutionInfo) RunInfo {
	r := RunInfo{ID: e.GetExecution().GetWorkflowId(), TemporalRunID: e.GetExecution().GetRunId(),
		Execution: executionName(e.GetStatus())}
	if t := e.GetStartTime(); t != nil {
		r.Started = t.AsTime()
	}
	if t := e.GetCloseTime(); t != nil {
		r.Closed = t.AsTime()
	}
	fields := e.GetMemo().GetFields()
	memoValue(fields, memoWorkflow, &r.Workflow)
	memoValue(fields, memoFile, &r.File)
	memoValue(fields, memoScenario, &r.Scenario)
	memoValue(fields, memoSeed, &r.Seed)
	memoValue(fields, memoVisits, &r.Visits)
	switch e.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		r.Status = StatusRunning
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		r.Status = "completed" // a run that ended before runs recorded their status
		memoValue(fields, memoStatus, &r.Status)
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		r.Status = string(engine.StatusCanceled)
	default:
		r.Status = StatusCrashed
	}
	return r
}

// memoValue decodes one memo field into v, leaving v as it is when the field is absent
// or does not decode (a memo is data another client may have written).
func memoValue(fields map[string]*commonpb.Payload, key string, v any) {
	if p, ok := fields[key]; ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, v)
	}
}

// executionName is Temporal's name for an execution status: Running, Completed, ...
func executionName(s enumspb.WorkflowExecutionStatus) string {
	name := s.String()
	if n, ok := strings.CutPrefix(name, "WorkflowExecutionStatus"); ok {
		return n
	}
	return strings.TrimPrefix(name, "WORKFLOW_EXECUTION_STATUS_")
}

// ErrNoRun is returned for a run ID the cluster does not know as a kgrun run.
var ErrNoRun = errors.New("no such run")

// DescribeRun returns the latest execution of the run named id, with the execs it has
// in flight.
func DescribeRun(ctx context.Context, c client.Client, id string) (RunInfo, error) {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return RunInfo{}, fmt.Errorf("run %s: %w on the cluster; kgrun runs --temporal lists them", id, ErrNoRun)
		}
		return RunInfo{}, fmt.Errorf("describing run %s on Temporal: %w", id, err)
	}
	info := d.GetWorkflowExecutionInfo()
	if info.GetType().GetName() != RunWorkflow {
		return RunInfo{}, fmt.Errorf("run %s: %w: workflow %s on the cluster is a %s, not a kgrun run", id, ErrNoRun, id, info.GetType().GetName())
	}
	r := runInfo(info)
	if r.Resets, err = resets(ctx, c, id); err != nil {
		return RunInfo{}, err
	}
	for _, a := range d.GetPendingActivities() {
		p := PendingExec{ActivityID: a.GetActivityId(), Type: a.GetActivityType().GetName(),
			State: strings.TrimPrefix(a.GetState().String(), "PendingActivityState"), Delivery: int(a.GetAttempt()),
			Worker: a.GetLastWorkerIdentity(), LastError: a.GetLastFailure().GetMessage()}
		if t := a.GetLastStartedTime(); t != nil {
			p.Started = t.AsTime()
		}
		r.Pending = append(r.Pending, p)
	}
	return r, nil
}

// resets counts the executions of the run named id before its latest: the times it was
// resumed. An ID visibility's query language cannot quote counts none.
func resets(ctx context.Context, c client.Client, id string) (int, error) {
	if strings.ContainsAny(id, `'"\`) {
		return 0, nil
	}
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s' AND WorkflowId = '%s'", RunWorkflow, id)})
	if err != nil {
		return 0, fmt.Errorf("counting the executions of run %s on Temporal: %w", id, err)
	}
	return max(int(resp.GetCount())-1, 0), nil
}

// RunRequestOf returns the request the run's execution started with (its bundle, seed
// and options), read from the first event of its history.
func RunRequestOf(ctx context.Context, c client.Client, id, runID string) (RunRequest, error) {
	var req RunRequest
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return req, fmt.Errorf("run %s: its history is empty", id)
	}
	first, err := it.Next()
	if err != nil {
		return req, fmt.Errorf("reading run %s's history: %w", id, err)
	}
	attrs := first.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil || len(attrs.GetInput().GetPayloads()) == 0 {
		return req, fmt.Errorf("run %s: its history does not start with a kgrun run request", id)
	}
	if err := converter.GetDefaultDataConverter().FromPayload(attrs.GetInput().GetPayloads()[0], &req); err != nil {
		return req, fmt.Errorf("run %s: decoding its run request: %w", id, err)
	}
	return req, nil
}

// RunResult returns the result and events of a run that completed (Status is an
// engine.Status).
func RunResult(ctx context.Context, c client.Client, r RunInfo) (*engine.Result, []engine.Event, error) {
	return Wait(ctx, c.GetWorkflow(ctx, r.ID, r.TemporalRunID))
}
