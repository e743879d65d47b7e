package ui_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/kgrun/kgrun/store"
)

// BenchmarkRunsPage10k serves the runs page over a store of 10,000 flagship runs
// (each with the flagship's full description, as kgrun records it): the first page, a
// page deep in the list, a status filter, and a scenario filter that only the oldest run
// matches, so every record is read.
func BenchmarkRunsPage10k(b *testing.B) {
	f := newFixture(b, nil, 0)
	id := f.record(flagship, "network", 14)
	tmpl, err := f.db.Run(id)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour)
	for i := range 10_000 - 1 {
		m := *tmpl
		m.ID, m.Scenario = "", []string{"", "network", "storage"}[i%3]
		m.Started = t0.Add(time.Duration(i) * time.Millisecond)
		m.Status = []string{"success", "degraded", "failed"}[i%3]
		if err := f.db.CreateRun(&m); err != nil {
			b.Fatal(err)
		}
		if err := f.db.Write(&store.Batch{RunID: m.ID, Progress: &m.RunProgress}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct{ name, path string }{
		{"first_page", "/runs"},
		{"page_100", "/runs?page=100"},
		{"status_degraded", "/runs?status=degraded"},
		{"scenario_page_30", "/runs?scenario=network&page=30"},
		{"scenario_matching_none", "/runs?scenario=absent"},
		{"crashed_full_scan", "/runs?status=crashed"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if code, _ := f.get(c.path); code != http.StatusOK {
					b.Fatalf("GET %s: %d", c.path, code)
				}
			}
		})
	}
}
