package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/graphsvg"
	"github.com/kgrun/kgrun/store"
)

// eventRow is one line of a run's timeline.
type eventRow struct {
	Seq             int
	At              time.Duration
	Kind, Class     string
	Node            string
	Visit, Attempt  int
	Detail, Message string
}

// visitBar is one visit drawn on the timeline's bars, in percent of the run's length.
type visitBar struct {
	Label       string
	Left, Width float64
	Class       string
	Attempts    int
	Title       string
}

// runPage shows one run: its graph with the path taken, timeline, report, values and
// failures. A run in progress updates live.
func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	db := s.opts.Store
	meta, err := db.Run(r.PathValue("id"))
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, store.ErrNoRun) {
			status = http.StatusNotFound
		}
		s.fail(w, status, "No such run", err)
		return
	}
	state := engine.NewRunState()
	if err := db.Checkpoints(meta.ID, 0, state.Apply); err != nil {
		s.fail(w, http.StatusInternalServerError, "Cannot read run "+meta.ID, err)
		return
	}
	var events []engine.Event
	if err := db.Events(meta.ID, func(e engine.Event) error { events = append(events, e); return nil }); err != nil {
		s.fail(w, http.StatusInternalServerError, "Cannot read run "+meta.ID+"'s trace", err)
		return
	}
	res := state.Result()
	status := store.StatusOf(meta)
	data := map[string]any{"Base": s.base(), "Title": "Run " + meta.ID, "Meta": meta, "Status": status,
		"Live": status == store.StatusRunning, "Started": meta.Started.UTC().Format("2006-01-02 15:04:05 MST"),
		"Elapsed": time.Duration(meta.Elapsed).Round(time.Millisecond), "Steps": res.Path,
		"Input": pretty(state.Input()), "Output": pretty(meta.Output), "Shared": pretty(res.Shared),
		"Failures": failures(res.Failures), "Degradations": res.Degradations, "Breakers": meta.Breakers}
	switch status {
	case store.StatusCrashed, "failed", "canceled":
		data["ResumeCmd"] = fmt.Sprintf("kgrun resume %s %s --state %s", meta.ID, shellQuote(meta.File), shellQuote(db.Path()))
		data["Resumable"] = s.opts.Actions != nil && s.opts.Actions.Resume != nil
	}
	graph, note := s.runGraph(meta, res.Path)
	data["Graph"], data["GraphNote"] = graph, note
	data["Events"], data["Bars"] = timeline(events)
	var report bytes.Buffer
	if err := s.opts.Report(&report, meta); err != nil {
		fmt.Fprintf(&report, "the report cannot be built: %v\n", err)
	}
	data["Report"] = report.String()
	s.render(w, http.StatusOK, "run", data)
}

// runGraph draws the run's workflow with its path, from the file the run recorded; the
// note says when that file is gone, broken or changed since.
func (s *Server) runGraph(meta *store.RunMeta, path []engine.Step) (template.HTML, string) {
	g, ds := s.opts.Load(meta.File)
	if g == nil {
		return "", fmt.Sprintf("The workflow file %s cannot be loaded now, so the graph is not drawn: %s", meta.File, firstLine(ds.Error()))
	}
	note := ""
	if g.Fingerprint().Hash != meta.GraphHash {
		note = fmt.Sprintf("The workflow file %s has changed since this run; the graph is drawn as the file is now.", meta.File)
	}
	var b bytes.Buffer
	if err := graphsvg.SVG(&b, g.Spec(), graphsvg.Options{Path: path}); err != nil {
		return "", "The graph cannot be drawn: " + err.Error()
	}
	// graphsvg escapes every name and label it writes, so its SVG is safe to embed.
	return template.HTML(b.String()), note
}

// timeline turns the trace into rows and a bar per visit.
func timeline(events []engine.Event) ([]eventRow, []visitBar) {
	rows := make([]eventRow, 0, len(events))
	type key struct {
		node  string
		visit int
	}
	type span struct {
		start, end time.Duration
		attempts   int
		failed     bool
		fallback   bool
		order      int
	}
	spans := map[key]*span{}
	var end time.Duration
	for _, e := range events {
		at := time.Duration(e.At)
		end = max(end, at)
		node := e.Node // a child run's node is named with its item or branch: fan[3]/call
		if e.Scope != "" {
			node = e.Scope + "/" + e.Node
		}
		rows = append(rows, eventRow{Seq: e.Seq, At: at.Round(time.Microsecond), Kind: e.Kind.String(), Class: eventClass(e.Kind),
			Node: node, Visit: e.Visit, Attempt: e.Attempt, Detail: eventDetail(e), Message: e.Message})
		if e.Node == "" || e.Visit == 0 || e.Kind == engine.EventRunResumed || e.Kind == engine.EventScopeStart || e.Kind == engine.EventScopeEnd {
			continue
		}
		k := key{node, e.Visit}
		sp := spans[k]
		if sp == nil {
			sp = &span{start: at, order: len(spans)}
			spans[k] = sp
		}
		sp.end = max(sp.end, at)
		switch e.Kind {
		case engine.EventAttempt:
			sp.attempts++
		case engine.EventNodeEnd:
			sp.failed = sp.failed || e.ErrKind != ""
		case engine.EventFallback:
			sp.fallback = true
		}
	}
	bars := make([]visitBar, len(spans))
	for k, sp := range spans {
		b := visitBar{Label: fmt.Sprintf("%s #%d", k.node, k.visit), Attempts: sp.attempts, Class: "ok",
			Title: fmt.Sprintf("%s visit %d: %s to %s, %d attempt(s)", k.node, k.visit, sp.start.Round(time.Microsecond), sp.end.Round(time.Microsecond), sp.attempts)}
		switch {
		case sp.fallback:
			b.Class = "fallback"
		case sp.failed:
			b.Class = "failed"
		}
		if end > 0 {
			b.Left = 100 * float64(sp.start) / float64(end)
			b.Width = max(100*float64(sp.end-sp.start)/float64(end), 0.5)
			b.Left = min(b.Left, 99.5)
		}
		bars[sp.order] = b
	}
	return rows, bars
}

// eventClass groups event kinds for colour: retries and waits, breakers, faults,
// fallbacks, failures.
func eventClass(k engine.EventKind) string {
	switch k {
	case engine.EventRetryScheduled:
		return "retry"
	case engine.EventBreakerState, engine.EventBreakerRejected:
		return "breaker"
	case engine.EventFaultInjected:
		return "fault"
	case engine.EventFallback:
		return "fallback"
	case engine.EventAttemptFailed:
		return "failed"
	case engine.EventRunStart, engine.EventRunEnd, engine.EventRunResumed:
		return "run"
	}
	return ""
}

// eventDetail says in a few words what an event adds to its kind and node.
func eventDetail(e engine.Event) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	if e.Hook != "" {
		add("hook %s", e.Hook)
	}
	if e.Action != "" {
		add("action %s", e.Action)
	}
	if e.To != "" {
		add("→ %s", e.To)
	}
	if e.Guard != "" {
		add("when %s", e.Guard)
	}
	if e.Breaker != "" {
		if e.From != "" || e.State != "" {
			add("breaker %s %s → %s", e.Breaker, e.From, e.State)
		} else {
			add("breaker %s", e.Breaker)
		}
	}
	if e.Delay > 0 {
		if e.Kind == engine.EventRetryScheduled {
			add("waits %s", time.Duration(e.Delay))
		} else {
			add("delay %s", time.Duration(e.Delay))
		}
	}
	if e.Status != "" {
		add("%s", e.Status)
	}
	if e.ErrKind != "" {
		add("%s", e.ErrKind)
	}
	return strings.Join(parts, " · ")
}

// failureRow is one node failure of the run.
type failureRow struct {
	Node, Kind, Phase, Message string
	Attempts                   int
}

func failures(errs []*engine.NodeError) []failureRow {
	out := make([]failureRow, len(errs))
	for i, e := range errs {
		out[i] = failureRow{Node: e.Node, Kind: string(e.Kind), Phase: e.Phase, Attempts: e.Attempts, Message: engine.ShortMessage(e.Err)}
	}
	return out
}

// secretKey matches the names of values that are not shown: what a credential is
// usually called.
var secretKey = regexp.MustCompile(`(?i)(secret|token|passw(or)?d|api[_-]?key|authori[sz]ation|credential|private[_-]?key|cookie)`)

// redacted replaces, at any depth, the values of keys named like credentials.
func redacted(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if secretKey.MatchString(k) {
				out[k] = engine.RedactedValue
			} else {
				out[k] = redacted(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = redacted(val)
		}
		return out
	}
	return v
}

// pretty writes v as indented JSON with credentials redacted, or "" when there is none.
func pretty[V any](m map[string]V) string {
	if len(m) == 0 {
		return ""
	}
	generic := map[string]any{}
	raw, err := json.Marshal(m)
	if err == nil {
		err = json.Unmarshal(raw, &generic)
	}
	if err != nil {
		return "(cannot be shown: " + err.Error() + ")"
	}
	b, _ := json.MarshalIndent(redacted(generic), "", "  ")
	return string(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:=,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
