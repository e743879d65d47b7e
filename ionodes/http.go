package ionodes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/kgrun/kgrun/engine"
)

// DefaultMaxResponseBytes bounds a response body unless max_response_bytes says otherwise.
const DefaultMaxResponseBytes = 10 << 20

// HTTPResult is what an http node's Exec returns and its Post stores under the node's
// name in the shared store.
type HTTPResult struct {
	Status int `json:"status" expr:"status"`
	// Headers are the response's, one value per name (repeated ones joined by ", "),
	// with Authorization, cookies and the node's secret_headers redacted.
	Headers map[string]string `json:"headers" expr:"headers"`
	// Body is the decoded value when the response is JSON, else the text.
	Body any `json:"body" expr:"body"`
	// Duration is the time the call took on the run's clock (zero on virtual time).
	Duration engine.Duration `json:"duration" expr:"duration"`
}

var httpParams = []engine.Param{
	{Name: "method", Type: engine.ParamString, Default: "GET", Doc: "the HTTP method",
		Allowed: []any{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}},
	{Name: "url", Type: engine.ParamString, Required: true, Doc: "an http:// or https:// URL; may come from the workflow's params (--set url=...)"},
	{Name: "headers", Type: engine.ParamMap, Items: engine.ParamScalar, Doc: "request headers, name to value"},
	{Name: "query", Type: engine.ParamMap, Items: engine.ParamScalar, Doc: "query parameters added to the URL, name to value"},
	{Name: "body", Type: engine.ParamAny, Doc: "a string sent as is, or any other value sent as JSON"},
	{Name: "expect_status", Type: engine.ParamList, Doc: `statuses that succeed: codes (204) or classes ("2xx"); default ["2xx"]`},
	{Name: "max_response_bytes", Type: engine.ParamInt, Default: DefaultMaxResponseBytes, Doc: "a longer response body fails with kind data"},
	{Name: "secret_headers", Type: engine.ParamList, Items: engine.ParamString, Doc: "headers redacted wherever printed or journaled, besides Authorization"},
}

func httpType(client *http.Client) engine.NodeType {
	return engine.NodeType{
		Name:    "http",
		Doc:     "calls an HTTP endpoint; classifies failures into error kinds and honours Retry-After",
		Actions: []string{"success"},
		Result:  HTTPResult{},
		Input:   (*httpCall)(nil),
		Params:  httpParams,
		Redact:  redactParam,
		New: func(engine.NodeSpec) (engine.Node, error) {
			return &httpNode{client: client}, nil
		},
	}
}

type httpNode struct{ client *http.Client }

// httpCall is a request prepared from the params, ready for any number of attempts. Its
// fields are exported so a backend can carry it as JSON to the process that sends it.
type httpCall struct {
	Method string `json:"method"`
	// URL is the parsed and checked url param with the query param added.
	URL      string        `json:"url"`
	Headers  [][2]string   `json:"headers"`
	Body     []byte        `json:"body"`
	BodyType string        `json:"body_type"`
	Expect   []statusRange `json:"expect"`
	MaxBytes int64         `json:"max_bytes"`
	Secrets  secretSet     `json:"secrets"`
}

type statusRange struct {
	Lo int `json:"lo"`
	Hi int `json:"hi"`
}

func (n *httpNode) Prep(v *engine.Visit) (any, error) { return prepHTTP(v.Param) }

func prepHTTP(get getter) (*httpCall, error) {
	c := &httpCall{}
	var err error
	if c.Method, err = str(get, "method", "GET"); err != nil {
		return nil, err
	}
	c.Method = strings.ToUpper(c.Method)
	raw, err := str(get, "url", "")
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, paramErr("param url is required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, paramErr("param url must be an http:// or https:// URL with a host, not %q", redactURL(raw))
	}
	query, err := stringMap(get, "query")
	if err != nil {
		return nil, err
	}
	if len(query) > 0 {
		q := u.Query()
		for _, kv := range query {
			q.Add(kv[0], kv[1])
		}
		u.RawQuery = q.Encode()
	}
	c.URL = u.String()
	if c.Headers, err = stringMap(get, "headers"); err != nil {
		return nil, err
	}
	secret, err := stringList(get, "secret_headers")
	if err != nil {
		return nil, err
	}
	c.Secrets = newSecretSet(secret)
	if b, ok := get("body"); ok && b != nil {
		if s, isStr := b.(string); isStr {
			c.Body, c.BodyType = []byte(s), "text/plain; charset=utf-8"
		} else {
			if c.Body, err = json.Marshal(b); err != nil {
				return nil, paramErr("param body cannot be sent as JSON: %v", err)
			}
			c.BodyType = "application/json"
		}
	}
	if c.Expect, err = expectStatus(get); err != nil {
		return nil, err
	}
	if c.MaxBytes, err = integer(get, "max_response_bytes", DefaultMaxResponseBytes, 0, 1<<40); err != nil {
		return nil, err
	}
	return c, nil
}

func expectStatus(get getter) ([]statusRange, error) {
	v, ok := get("expect_status")
	if !ok || v == nil {
		return []statusRange{{200, 299}}, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []statusRange
	for _, x := range list {
		switch s := x.(type) {
		case int:
			out = append(out, statusRange{s, s})
		case string:
			if len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.EqualFold(s[1:], "xx") {
				lo := int(s[0]-'0') * 100
				out = append(out, statusRange{lo, lo + 99})
				continue
			}
			code, err := strconv.Atoi(s)
			if err != nil {
				return nil, paramErr("param expect_status: %q is neither a status code nor a class such as 2xx", s)
			}
			out = append(out, statusRange{code, code})
		default:
			return nil, paramErr("param expect_status: %v is neither a status code nor a class such as 2xx", x)
		}
	}
	return out, nil
}

// Exec returns an HTTPResult, the declared Result, so a backend decodes the same type.
func (n *httpNode) Exec(ctx context.Context, a *engine.Attempt, in any) (any, error) {
	res, err := n.do(ctx, a.Clock(), in.(*httpCall))
	if err != nil {
		return nil, err
	}
	return *res, nil
}

func (n *httpNode) do(ctx context.Context, clock engine.Clock, c *httpCall) (*HTTPResult, error) {
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, body)
	if err != nil {
		return nil, paramErr("build the request: %v", err)
	}
	if c.BodyType != "" {
		req.Header.Set("Content-Type", c.BodyType)
	}
	for _, kv := range c.Headers {
		req.Header.Set(kv[0], kv[1])
	}
	// Continue the run's trace, if any (W3C traceparent; the propagator is a no-op unless set).
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	start := clock.Now()
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, classifyTransport(ctx, c, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxBytes+1))
	if err != nil {
		return nil, classifyTransport(ctx, c, err)
	}
	if int64(len(data)) > c.MaxBytes {
		return nil, engine.Errorf(engine.Data, "%s: response body is longer than max_response_bytes (%d)", c, c.MaxBytes)
	}
	res := &HTTPResult{Status: resp.StatusCode, Headers: c.Secrets.headers(resp.Header), Duration: engine.Duration(clock.Now().Sub(start))}
	if !c.expected(resp.StatusCode) {
		return nil, classifyStatus(c, resp, data)
	}
	res.Body = string(data)
	if isJSON(resp.Header.Get("Content-Type")) && len(data) > 0 {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, engine.Errorf(engine.Data, "%s: the response says JSON but does not decode: %v", c, err)
		}
		res.Body = v
	}
	return res, nil
}

func (c *httpCall) expected(status int) bool {
	for _, r := range c.Expect {
		if status >= r.Lo && status <= r.Hi {
			return true
		}
	}
	return false
}

func isJSON(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

// Post stores an *HTTPResult, as the shared store has always held.
func (n *httpNode) Post(v *engine.Visit, _, out any) (string, error) {
	res := out.(HTTPResult)
	v.Set(v.Node(), &res)
	return "success", nil
}

// String renders the call for messages without secrets.
func (c *httpCall) String() string {
	return fmt.Sprintf("%s %s", c.Method, redactURL(c.URL))
}
