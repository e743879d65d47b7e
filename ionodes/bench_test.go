package ionodes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// The I/O types' overhead, each beside the plain Go call doing the same work in the same
// run: an http node against net/http (a GET of a small text body from a loopback server,
// read to the end), and a command node against os/exec (/bin/true with its output
// captured). The node side is a whole run of a one-node workflow: compile once, then
// g.Run per call, with the trace off as in production.

func BenchmarkHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	b.Run("raw_net_http", func(b *testing.B) {
		client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
	})
	b.Run("node", func(b *testing.B) {
		g := load(b, oneNode(srv.URL, "", ""))
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			res, err := g.Run(ctx, engine.RunOptions{})
			if err != nil || res.Status != engine.StatusSuccess {
				b.Fatal(err, res.Failures)
			}
		}
	})
}

func BenchmarkCommand(b *testing.B) {
	b.Run("raw_os_exec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out, errb bytes.Buffer
			cmd := exec.Command("/bin/true")
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("node", func(b *testing.B) {
		g := load(b, commandWorkflow(fmt.Sprintf("argv: [%q]", "/bin/true"), ""))
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			res, err := g.Run(ctx, engine.RunOptions{})
			if err != nil || res.Status != engine.StatusSuccess {
				b.Fatal(err, res.Failures)
			}
		}
	})
}
