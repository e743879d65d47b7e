package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/ionodes"
	"github.com/kgrun/kgrun/schema"
	"github.com/kgrun/kgrun/store"
	"github.com/kgrun/kgrun/ui"
)

const flagship = "../workflows/fault_tolerant.yaml"

// registry is the command line's node types plus "evil", whose exec fails with a
// message full of markup and terminal escapes, as a hostile service might answer.
func registry(t testing.TB) *engine.Registry {
	t.Helper()
	reg := builtin.Registry(builtin.Options{})
	if err := ionodes.Register(reg, ionodes.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(engine.NodeType{Name: "evil", Actions: []string{"success"},
		New: func(engine.NodeSpec) (engine.Node, error) { return evil{}, nil }}); err != nil {
		t.Fatal(err)
	}
	return reg
}

type evil struct{}

func (evil) Prep(*engine.Visit) (any, error) { return nil, nil }
func (evil) Exec(context.Context, *engine.Attempt, any) (any, error) {
	return nil, engine.Errorf(engine.Network, `<script>alert("x")</script> \x1b[31mred\x1b[0m`)
}
func (evil) Post(*engine.Visit, any, any) (string, error) { return "success", nil }

// fixture is a store with recorded runs and a server over it.
type fixture struct {
	t      testing.TB
	db     *store.SQLite
	dir    string
	reg    *engine.Registry
	srv    *ui.Server
	report int
}

func newFixture(t testing.TB, actions *ui.Actions, pageSize int) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, dir: dir, reg: registry(t)}
	f.srv, err = ui.New(ui.Options{Store: db, Actions: actions, PageSize: pageSize,
		Load: func(file string) (*engine.Graph, schema.Diagnostics) { return engine.LoadFile(file, f.reg) },
		Report: func(w io.Writer, meta *store.RunMeta) error {
			f.report++
			_, err := fmt.Fprintf(w, "report of run %s: %s <b>bold</b>\n", meta.ID, meta.Status)
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// record runs file on virtual time into the store and returns the run's ID.
func (f *fixture) record(file, scenario string, seed int64) string {
	f.t.Helper()
	g, ds := engine.LoadFile(file, f.reg)
	if g == nil {
		f.t.Fatal(ds)
	}
	runner := &durable.Runner{Store: f.db}
	run, err := runner.Start(context.Background(), g, engine.RunOptions{Scenario: scenario, Seed: seed,
		Params: map[string]any{"alternate_dir": f.dir}}, durable.Spec{File: file, Scenario: scenario, Seed: seed, VirtualTime: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return run.Meta.ID
}

// get serves a GET and returns the status and body.
func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// writeFile writes a workflow file into the fixture's directory.
func (f *fixture) writeFile(name, src string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func mustContain(t testing.TB, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

func mustNotContain(t testing.TB, what, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s contains %q", what, w)
		}
	}
}

// rows counts the run rows of a runs table.
func rows(body string) int { return bytes.Count([]byte(body), []byte(`<tr data-run=`)) }
