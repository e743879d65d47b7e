package temporal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/kgrun/kgrun/engine"
)

// ErrNothingToResume is returned by Resume for a run that ended with a result.
var ErrNothingToResume = errors.New("nothing to resume")

// Resume continues a run: one still running is followed as it is (the cluster has kept
// it going); one that ended without a result (terminated, timed out, or failed in
// workflow code) is reset to its last workflow task completed before it was asked to
// stop, so that it continues after its last recorded step with its own options and
// bundle. It returns the execution to follow and how the run was resumed.
func Resume(ctx context.Context, c client.Client, namespace string, r RunInfo) (client.WorkflowRun, string, error) {
	switch r.Status {
	case StatusRunning:
		return c.GetWorkflow(ctx, r.ID, r.TemporalRunID), "followed on the cluster, where it was still running", nil
	case StatusCrashed, string(engine.StatusCanceled):
	default:
		return nil, "", fmt.Errorf("run %s ended with status %s on the cluster: %w (start it again to run it again)", r.ID, r.Status, ErrNothingToResume)
	}
	point, err := resetPoint(ctx, c, r.ID, r.TemporalRunID)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 namespace,
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: r.ID, RunId: r.TemporalRunID},
		Reason:                    "kgrun resume",
		WorkflowTaskFinishEventId: point,
		// The same execution reset at the same point is one request: a retried resume
		// does not make two runs.
		RequestId: fmt.Sprintf("kgrun-resume-%s-%d", r.TemporalRunID, point),
	})
	if err != nil {
		return nil, "", fmt.Errorf("resetting run %s on Temporal: %w", r.ID, err)
	}
	how := fmt.Sprintf("reset on the cluster after event %d of its %s execution", point, strings.ToLower(r.Execution))
	return c.GetWorkflow(ctx, r.ID, resp.GetRunId()), how, nil
}

// resetPoint finds the last workflow task the execution completed before it was asked
// to cancel: the reset point where it continues as if never stopped.
func resetPoint(ctx context.Context, c client.Client, id, runID string) (int64, error) {
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var point int64
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, fmt.Errorf("reading run %s's history: %w", id, err)
		}
		if stopRequested(e) {
			break
		}
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			point = e.GetEventId()
		}
	}
	if point == 0 {
		return 0, fmt.Errorf("run %s never completed a workflow task: no worker took it up; start a worker (kgrun worker --temporal ...)", id)
	}
	return point, nil
}

func stopRequested(e *historypb.HistoryEvent) bool {
	return e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
}
