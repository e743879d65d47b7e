package ui

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
	"github.com/kgrun/kgrun/store"
)

//go:embed assets
var assets embed.FS

// Options configure a Server.
type Options struct {
	// Store is read for every page; it may be opened read-only.
	Store *store.SQLite
	// Load compiles a workflow file, for its graph and diagnostics (the CLI passes its
	// own loader, with its node types).
	Load func(file string) (*engine.Graph, schema.Diagnostics)
	// Report writes a stored run's report as kgrun show prints it, without colour.
	Report func(w io.Writer, meta *store.RunMeta) error
	// Actions, when set, offers the actions that change state.
	Actions *Actions
	// Poll is how often the store is asked for commits, for live pages; 0 is 250ms.
	Poll time.Duration
	// PageSize is how many runs a page of the list shows; 0 is 50.
	PageSize int
	// Now reads the wall clock, for the list's "since" filter; nil is time.Now.
	Now func() time.Time
}

// Actions change state; each is offered only when set.
type Actions struct {
	// Resume starts kgrun resume for a crashed or failed run, in the background.
	Resume func(meta *store.RunMeta) error
	// Prune keeps the newest keep runs and says what it removed.
	Prune func(keep int) (string, error)
}

// Server serves the UI. It is safe for concurrent use; Watch must run for live pages
// to update.
type Server struct {
	opts  Options
	pages map[string]*template.Template
	token string
	mux   *http.ServeMux

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// New builds a server over opts.Store.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Load == nil || opts.Report == nil {
		return nil, fmt.Errorf("ui: Store, Load and Report are required")
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, pages: map[string]*template.Template{}, subs: map[chan struct{}]struct{}{}}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("ui: csrf token: %w", err)
	}
	s.token = hex.EncodeToString(tok[:])
	for _, page := range []string{"runs", "run", "workflow", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", page, err)
		}
		s.pages[page] = t
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/runs", http.StatusFound) })
	mux.HandleFunc("GET /runs", s.runsPage)
	mux.HandleFunc("GET /runs/{id}", s.runPage)
	mux.HandleFunc("GET /workflows/{name}", s.workflowPage)
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("POST /runs/{id}/resume", s.resume)
	mux.HandleFunc("POST /prune", s.prune)
	s.mux = mux
	return s, nil
}

// ServeHTTP serves a request, with headers that keep the page to its own origin: no
// script, style or frame from anywhere else, and no embedding in other sites.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// Watch follows the store until ctx ends and tells the live pages of each commit.
func (s *Server) Watch(ctx context.Context) error {
	return s.opts.Store.Watch(ctx, s.opts.Poll, s.broadcast)
}

func (s *Server) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.subs {
		select {
		case c <- struct{}{}:
		default: // the page has a change to fetch already
		}
	}
}

// events streams a "change" server-sent event each time the store changes; the page
// then fetches itself again and swaps in what changed.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported", http.StatusInternalServerError)
		return
	}
	c := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, c)
		s.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	io.WriteString(w, "retry: 1000\n: connected\n\n")
	flusher.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c:
			io.WriteString(w, "event: change\ndata: {}\n\n")
		case <-keepAlive.C:
			io.WriteString(w, ": keep-alive\n\n")
		}
		flusher.Flush()
	}
}

// render writes a page, or a 500 naming what failed.
func (s *Server) render(w http.ResponseWriter, status int, page string, data any) {
	var b strings.Builder
	if err := s.pages[page].Execute(&b, data); err != nil {
		http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// fail renders the error page.
func (s *Server) fail(w http.ResponseWriter, status int, title string, err error) {
	s.render(w, status, "error", map[string]any{"Title": title, "Message": err.Error(), "Base": s.base()})
}

// base is what every page's layout needs.
func (s *Server) base() map[string]any {
	return map[string]any{"Store": s.opts.Store.Path(), "Actions": s.opts.Actions != nil, "Token": s.token}
}

// IsLoopback reports whether addr (host:port) names a loopback address, which is what
// kgrun ui binds to unless told otherwise.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
