package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kgrun/kgrun/internal/when"
	"github.com/kgrun/kgrun/store"
)

// runRow is one line of the runs list.
type runRow struct {
	ID, Workflow, Status, Scenario, Started string
	Duration                                time.Duration
	Visits, Resumes                         int
	Simulated                               bool
	Damage                                  string
}

// statuses are the values of the status filter, as kgrun runs --status takes them.
var statuses = []string{"success", "degraded", "failed", "canceled", store.StatusRunning, store.StatusCrashed, "damaged"}

// runsPage lists the runs the query's filters select, newest first, a page at a time.
func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := s.filter(q)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "Bad filter", err)
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	f.Offset, f.Limit = (page-1)*s.opts.PageSize, s.opts.PageSize+1 // one more says whether a next page exists
	metas, err := s.opts.Store.Runs(f)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "Cannot read the store", err)
		return
	}
	more := len(metas) > s.opts.PageSize
	if more {
		metas = metas[:s.opts.PageSize]
	}
	rows := make([]runRow, len(metas))
	for i, m := range metas {
		rows[i] = runRow{ID: m.ID, Workflow: m.Workflow, Status: store.StatusOf(m), Scenario: m.Scenario,
			Started: m.Started.UTC().Format("2006-01-02 15:04:05"), Duration: time.Duration(m.Elapsed).Round(time.Millisecond),
			Visits: m.Visits, Resumes: m.Resumes, Simulated: m.Simulated(), Damage: m.Damage}
	}
	pageURL := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"workflow", "status", "scenario", "since", "until"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return "/runs"
		}
		return "/runs?" + v.Encode()
	}
	data := map[string]any{"Base": s.base(), "Title": "Runs", "Rows": rows, "Page": page,
		"Filter": map[string]string{"workflow": q.Get("workflow"), "status": q.Get("status"), "scenario": q.Get("scenario"),
			"since": q.Get("since"), "until": q.Get("until")},
		"Statuses": statuses, "Live": true, "Pruned": q.Get("pruned")}
	if page > 1 {
		data["Prev"] = pageURL(page - 1)
	}
	if more {
		data["Next"] = pageURL(page + 1)
	}
	s.render(w, http.StatusOK, "runs", data)
}

// filter reads the list's filters from the query.
func (s *Server) filter(q url.Values) (store.RunFilter, error) {
	f := store.RunFilter{Workflow: q.Get("workflow"), Status: q.Get("status"), Scenario: q.Get("scenario")}
	if f.Status != "" {
		known := false
		for _, st := range statuses {
			known = known || st == f.Status
		}
		if !known {
			return f, errors.New("status takes success, degraded, failed, canceled, running, crashed or damaged")
		}
	}
	now := s.opts.Now()
	var err error
	if f.Since, err = when.Parse(q.Get("since"), now); err != nil {
		return f, errors.New("since: " + err.Error())
	}
	if f.Until, err = when.Parse(q.Get("until"), now); err != nil {
		return f, errors.New("until: " + err.Error())
	}
	return f, nil
}
