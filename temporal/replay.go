package temporal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	enums "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/kgrun/kgrun/engine"
)

// ErrIncompatible wraps the replayer's error for a recorded run that does not replay:
// the workflow (or kgrun) changed in a way that changes what the run does.
var ErrIncompatible = errors.New("the recorded run does not replay")

// Replay replays a run's recorded history (as HistoryJSON writes it, or `temporal
// workflow show --output json` prints it) with this build's run workflow. With bundle
// set, the run is replayed as if it had been started with that bundle instead of its
// own: a changed workflow file could take over the run when it keeps the graph's
// commands (the same nodes, types and order of attempts and waits).
func Replay(historyJSON []byte, newRegistry func() *engine.Registry, bundle *engine.Bundle) error {
	h, err := client.HistoryFromJSON(bytes.NewReader(historyJSON), client.HistoryJSONOptions{})
	if err != nil {
		return fmt.Errorf("reading the history: %w", err)
	}
	if bundle != nil {
		if err := swapBundle(h, *bundle); err != nil {
			return err
		}
	}
	r := worker.NewWorkflowReplayer()
	NewWorker(newRegistry, nil, Options{}).RegisterWorkflows(r)
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := r.ReplayWorkflowHistory(logger, h); err != nil {
		return fmt.Errorf("%w: %w", ErrIncompatible, err)
	}
	return nil
}

// swapBundle replaces the run's bundle in the history's first event, its start.
func swapBundle(h *historypb.History, b engine.Bundle) error {
	if len(h.Events) == 0 {
		return errors.New("the history is empty")
	}
	attrs := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil || len(attrs.GetInput().GetPayloads()) == 0 {
		return errors.New("the history does not start with a run's start")
	}
	dc := converter.GetDefaultDataConverter()
	var req RunRequest
	if err := dc.FromPayload(attrs.Input.Payloads[0], &req); err != nil {
		return fmt.Errorf("decoding the run's request: %w", err)
	}
	req.Bundle, req.Hash = b, b.Hash()
	p, err := dc.ToPayload(req)
	if err != nil {
		return err
	}
	attrs.Input.Payloads[0] = p
	return nil
}

// HistoryJSON returns a workflow run's history as JSON, as Replay reads it.
func HistoryJSON(h *historypb.History) ([]byte, error) {
	return temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
}

// FetchHistory reads the whole history of a workflow run from the cluster.
func FetchHistory(ctx context.Context, c client.Client, workflowID, runID string) (*historypb.History, error) {
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("reading the history of %s: %w", workflowID, err)
		}
		h.Events = append(h.Events, e)
	}
	return h, nil
}
