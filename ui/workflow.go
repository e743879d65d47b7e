package ui

import (
	"bytes"
	"html/template"
	"net/http"
	"time"

	"github.com/kgrun/kgrun/graphsvg"
	"github.com/kgrun/kgrun/schema"
	"github.com/kgrun/kgrun/store"
)

// diagRow is one diagnostic of a workflow file, with its position.
type diagRow struct {
	Severity, Pos, Summary, Detail string
}

// workflowPage shows a workflow by name, as the file its newest run recorded holds it
// now: the graph, validate's diagnostics, the scenarios and tests, and recent runs.
func (s *Server) workflowPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	recent, err := s.opts.Store.Runs(store.RunFilter{Workflow: name, Limit: 20})
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Cannot read the store", err)
		return
	}
	file := ""
	for _, m := range recent {
		if m.File != "" {
			file = m.File
			break
		}
	}
	if file == "" {
		s.fail(w, http.StatusNotFound, "No such workflow", errNoWorkflow(name))
		return
	}
	rows := make([]runRow, len(recent))
	for i, m := range recent {
		rows[i] = runRow{ID: m.ID, Workflow: m.Workflow, Status: store.StatusOf(m), Scenario: m.Scenario,
			Started: m.Started.UTC().Format("2006-01-02 15:04:05"), Duration: time.Duration(m.Elapsed).Round(time.Millisecond),
			Visits: m.Visits, Resumes: m.Resumes, Simulated: m.Simulated(), Damage: m.Damage}
	}
	data := map[string]any{"Base": s.base(), "Title": "Workflow " + name, "Name": name, "File": file, "Rows": rows, "Live": true}
	g, ds := s.opts.Load(file)
	diags := make([]diagRow, 0, len(ds))
	for _, d := range ds.Sort() {
		diags = append(diags, diagRow{Severity: d.Severity.String(), Pos: d.Pos.String(), Summary: d.Summary, Detail: d.Detail})
	}
	data["Diagnostics"] = diags
	if g != nil {
		spec := g.Spec()
		var b bytes.Buffer
		if err := graphsvg.SVG(&b, spec, graphsvg.Options{}); err == nil {
			data["Graph"] = template.HTML(b.String()) // graphsvg escapes what it writes
		}
		data["Description"] = spec.Description
		data["Scenarios"] = scenarioRows(spec)
		data["Tests"] = testRows(spec)
	}
	s.render(w, http.StatusOK, "workflow", data)
}

type errNoWorkflow string

func (e errNoWorkflow) Error() string {
	return "the store holds no run of workflow " + string(e) + ", so its file is not known"
}

// scenarioRow and testRow are what the workflow page lists of each.
type scenarioRow struct {
	Name, Pos, Description string
	Faults                 int
}

type testRow struct {
	Name, Pos, Scenario string
	Seed                int64
}

func scenarioRows(w *schema.Workflow) []scenarioRow {
	out := make([]scenarioRow, len(w.Scenarios))
	for i, sc := range w.Scenarios {
		out[i] = scenarioRow{Name: sc.Name, Pos: sc.Pos.String(), Description: sc.Description, Faults: len(sc.Faults)}
	}
	return out
}

func testRows(w *schema.Workflow) []testRow {
	out := make([]testRow, len(w.Tests))
	for i, t := range w.Tests {
		out[i] = testRow{Name: t.Name, Pos: t.Pos.String(), Scenario: t.Scenario.Name, Seed: t.Seed}
	}
	return out
}
