package ionodes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgrun/kgrun/engine"
)

// How an http node's failures map to error kinds (README, "Doing real work"):
//
//	connection refused or reset, DNS failure, any other transport error → network
//	the attempt's timeout (the node's timeout: cuts the call)            → timeout
//	the run canceled                                                     → canceled
//	429 Too Many Requests, 503 Service Unavailable                       → resource (Retry-After honoured)
//	any other 5xx                                                        → network
//	any other status not in expect_status (4xx, unfollowed 3xx)          → data
//	a body over max_response_bytes, a JSON body that does not decode     → data
//	bad params (URL, method, body)                                       → data

// classifyTransport turns an error from sending the request or reading the response
// into an error with a kind. Messages name the call, never its headers or credentials.
func classifyTransport(ctx context.Context, c *httpCall, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return engine.Errorf(engine.Timeout, "%s: the attempt timed out: %v", c, err)
	case ctx.Err() != nil:
		return engine.WithKind(engine.Canceled, fmt.Errorf("%s: %w", c, context.Cause(ctx)))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return engine.Errorf(engine.Timeout, "%s: %v", c, err)
	}
	return engine.Errorf(engine.Network, "%s: %v", c, err)
}

// classifyStatus turns a status that is not expected into an error with a kind; 429 and
// 503 carry the Retry-After wait.
func classifyStatus(c *httpCall, resp *http.Response, body []byte) error {
	msg := fmt.Sprintf("%s: status %s", c, resp.Status)
	if s := c.scrub(snippet(body)); s != "" {
		msg += ": " + s
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		err := engine.Errorf(engine.Resource, "%s", msg)
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return engine.WithRetryAfter(fmt.Errorf("%w (Retry-After %s)", err, d), d)
		}
		return err
	case code >= 500:
		return engine.Errorf(engine.Network, "%s", msg)
	default:
		return engine.Errorf(engine.Data, "%s", msg)
	}
}

// maxRetryAfter bounds what a server may ask for; the retry's max_delay bounds it further.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After value: delay-seconds or an HTTP date (compared with the
// wall clock, which is the server's reference too).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0, false
	}
	return min(d.Round(time.Second), maxRetryAfter), true
}

// snippet is the start of a response body for an error message, on one line.
func snippet(body []byte) string {
	const n = 120
	s := string(body)
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return strings.Join(strings.Fields(s), " ")
}
