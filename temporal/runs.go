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

// ListRuns lists the runs on the cluster, newest first, one row per run ID: its latest
// execution, started when its first execution started, counting the others as resets.
// Every execution is read, and filtered here: the status and the workflow are in the
// memo, which visibility cannot search, and a run's start is its first execution's.
func ListRuns(ctx context.Context, c client.Client, namespace string, f RunFilter) ([]RunInfo, error) {
	runs, err := listRuns(ctx, c, namespace, fmt.Sprintf("WorkflowType = '%s'", RunWorkflow))
	if err != nil {
		return nil, err
	}
	runs = slices.DeleteFunc(runs, func(r RunInfo) bool {
		return (f.Workflow != "" && r.Workflow != f.Workflow) || (f.Status != "" && r.Status != f.Status) ||
			(!f.Since.IsZero() && r.Started.Before(f.Since)) || (!f.Until.IsZero() && !r.Started.Before(f.Until))
	})
	slices.SortStableFunc(runs, func(a, b RunInfo) int { return b.Started.Compare(a.Started) })
	if f.Limit > 0 && len(runs) > f.Limit {
		runs = runs[:f.Limit]
	}
	return runs, nil
}

// listRuns lists the executions the visibility query selects, merged into one row per
// run ID.
func listRuns(ctx context.Context, c client.Client, namespace, query string) ([]RunInfo, error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: query}
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
			runs[i] = merge(runs[i], r)
		}
		if len(resp.NextPageToken) == 0 {
			break
		}
		req.NextPageToken = resp.NextPageToken
	}
	return runs, nil
}

// merge folds execution b of a run into the row a: the later execution stands for the
// run, which started when its first execution did and was reset once more.
func merge(a, b RunInfo) RunInfo {
	first := a.Started
	if b.Started.Before(first) {
		first = b.Started
	}
	resets := a.Resets + b.Resets + 1
	if later(b, a) {
		a = b
	}
	a.Started, a.Resets = first, resets
	return a
}

// later says whether execution a of a run supersedes b: an open one, else the one that
// closed last.
func later(a, b RunInfo) bool {
	if a.Closed.IsZero() != b.Closed.IsZero() {
		return a.Closed.IsZero()
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
	first, resets, err := firstExecution(ctx, c, id)
	if err != nil {
		return RunInfo{}, err
	}
	if !first.IsZero() && first.Before(r.Started) {
		r.Started, r.Resets = first, resets
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

// firstExecution returns when the run named id first started and how many times it
// was reset since, from visibility; zero values for an ID visibility's query language
// cannot quote, or one visibility does not list yet.
func firstExecution(ctx context.Context, c client.Client, id string) (time.Time, int, error) {
	if strings.ContainsAny(id, `'"\`) {
		return time.Time{}, 0, nil
	}
	runs, err := listRuns(ctx, c, "", fmt.Sprintf("WorkflowType = '%s' AND WorkflowId = '%s'", RunWorkflow, id))
	if err != nil || len(runs) == 0 {
		return time.Time{}, 0, err
	}
	return runs[0].Started, runs[0].Resets, nil
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
