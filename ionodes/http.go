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

// httpCall is a request prepared from the params, ready for any number of attempts.
type httpCall struct {
	method   string
	url      *url.URL
	headers  [][2]string
	body     []byte
	bodyType string
	expect   []statusRange
	maxBytes int64
	secrets  secretSet
}

type statusRange struct{ lo, hi int }

func (n *httpNode) Prep(v *engine.Visit) (any, error) { return prepHTTP(v.Param) }

func prepHTTP(get getter) (*httpCall, error) {
	c := &httpCall{}
	var err error
	if c.method, err = str(get, "method", "GET"); err != nil {
		return nil, err
	}
	c.method = strings.ToUpper(c.method)
	raw, err := str(get, "url", "")
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, paramErr("param url is required")
	}
	c.url, err = url.Parse(raw)
	if err != nil || (c.url.Scheme != "http" && c.url.Scheme != "https") || c.url.Host == "" {
		return nil, paramErr("param url must be an http:// or https:// URL with a host, not %q", redactURL(raw))
	}
	query, err := stringMap(get, "query")
	if err != nil {
		return nil, err
	}
	if len(query) > 0 {
		q := c.url.Query()
		for _, kv := range query {
			q.Add(kv[0], kv[1])
		}
		c.url.RawQuery = q.Encode()
	}
	if c.headers, err = stringMap(get, "headers"); err != nil {
		return nil, err
	}
	secret, err := stringList(get, "secret_headers")
	if err != nil {
		return nil, err
	}
	c.secrets = newSecretSet(secret)
	if b, ok := get("body"); ok && b != nil {
		if s, isStr := b.(string); isStr {
			c.body, c.bodyType = []byte(s), "text/plain; charset=utf-8"
		} else {
			if c.body, err = json.Marshal(b); err != nil {
				return nil, paramErr("param body cannot be sent as JSON: %v", err)
			}
			c.bodyType = "application/json"
		}
	}
	if c.expect, err = expectStatus(get); err != nil {
		return nil, err
	}
	if c.maxBytes, err = integer(get, "max_response_bytes", DefaultMaxResponseBytes, 0, 1<<40); err != nil {
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

func (n *httpNode) Exec(ctx context.Context, a *engine.Attempt, in any) (any, error) {
	return n.do(ctx, a.Clock(), in.(*httpCall))
}

func (n *httpNode) do(ctx context.Context, clock engine.Clock, c *httpCall) (*HTTPResult, error) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url.String(), body)
	if err != nil {
		return nil, paramErr("build the request: %v", err)
	}
	if c.bodyType != "" {
		req.Header.Set("Content-Type", c.bodyType)
	}
	for _, kv := range c.headers {
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
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, classifyTransport(ctx, c, err)
	}
	if int64(len(data)) > c.maxBytes {
		return nil, engine.Errorf(engine.Data, "%s: response body is longer than max_response_bytes (%d)", c, c.maxBytes)
	}
	res := &HTTPResult{Status: resp.StatusCode, Headers: c.secrets.headers(resp.Header), Duration: engine.Duration(clock.Now().Sub(start))}
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
	for _, r := range c.expect {
		if status >= r.lo && status <= r.hi {
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

func (n *httpNode) Post(v *engine.Visit, _, out any) (string, error) {
	v.Set(v.Node(), out)
	return "success", nil
}

// String renders the call for messages without secrets.
func (c *httpCall) String() string {
	return fmt.Sprintf("%s %s", c.method, redactURL(c.url.String()))
}
