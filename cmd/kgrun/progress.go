package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/kgrun/kgrun/engine"
)

// progressEvery is the least time between two redraws of the progress line.
const progressEvery = 100 * time.Millisecond

// progress is a Tracer that shows where a run is on one terminal line, redrawn in place
// at most ten times a second: the current node and visit, the attempt, and the wait
// before a retry. It erases the line when the run ends, before the report is printed.
// It is safe for concurrent use.
type progress struct {
	w     io.Writer
	width int              // the terminal's columns; the line is cut to fit, so \r erases it
	now   func() time.Time // real time, for throttling

	mu      sync.Mutex
	last    time.Time
	shown   bool
	node    string
	visit   int
	attempt int
	wait    string
	at      engine.Duration
}

// progressFor returns a progress tracer writing to w when w is a terminal and a person
// is watching: not with --no-progress or --format json, and not in CI (the CI variable
// set). It returns nil otherwise.
func progressFor(w io.Writer, noProgress bool, format string) *progress {
	if noProgress || format != "text" || os.Getenv("CI") != "" {
		return nil
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width <= 0 {
		width = 80
	}
	return &progress{w: w, width: width, now: time.Now}
}

// Event updates the line's state and redraws it when the last redraw is old enough; the
// run's end erases it.
func (p *progress) Event(e engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case engine.EventRunEnd:
		if p.shown {
			io.WriteString(p.w, "\r\x1b[K")
			p.shown = false
		}
		p.node, p.wait = "", ""
		return
	case engine.EventNodeStart:
		p.node, p.visit, p.attempt, p.wait = e.Node, e.Visit, 0, ""
	case engine.EventAttempt:
		p.attempt, p.wait = e.Attempt, ""
	case engine.EventRetryScheduled:
		p.wait = fmt.Sprintf("waiting %s before attempt %d", e.Delay, e.Attempt)
	case engine.EventBreakerRejected:
		p.wait = fmt.Sprintf("breaker %s open", e.Breaker)
	default:
		return
	}
	p.at = e.At
	now := p.now()
	if p.shown && now.Sub(p.last) < progressEvery && e.Kind != engine.EventRetryScheduled {
		return // a retry's wait is drawn at once: the line then stays up while the run waits
	}
	p.last = now
	p.shown = true
	io.WriteString(p.w, "\r"+p.line()+"\x1b[K")
}

// line is the progress text, cut to the terminal's width less one column.
func (p *progress) line() string {
	parts := []string{fmt.Sprintf("%s · %s", p.at, termText(p.node))}
	if p.visit > 1 {
		parts[0] += fmt.Sprintf(" (visit %d)", p.visit)
	}
	if p.attempt > 0 {
		parts = append(parts, fmt.Sprintf("attempt %d", p.attempt))
	}
	if p.wait != "" {
		parts = append(parts, termText(p.wait))
	}
	s := strings.Join(parts, " · ")
	if r := []rune(s); len(r) > p.width-1 && p.width > 1 {
		s = string(r[:p.width-1])
	}
	return s
}
