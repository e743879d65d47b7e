package ionodes

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/kgrun/kgrun/engine"
)

// Redacted replaces secret values wherever they would be printed or journaled: the
// engine's own marker, so a reader sees one word for every kind of secret.
const Redacted = engine.RedactedValue

// alwaysSecret are the headers redacted whatever secret_headers says.
var alwaysSecret = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// secretSet holds canonical header names whose values must not be shown.
type secretSet map[string]bool

func newSecretSet(extra []string) secretSet {
	s := secretSet{}
	for _, h := range alwaysSecret {
		s[h] = true
	}
	for _, h := range extra {
		s[http.CanonicalHeaderKey(h)] = true
	}
	return s
}

// headers flattens response headers for the result, redacting secret ones.
func (s secretSet) headers(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if s[http.CanonicalHeaderKey(k)] {
			out[k] = Redacted
			continue
		}
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// redactURL hides a password in a URL's user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable URL)"
	}
	return u.Redacted()
}

// scrub replaces the values of the request's secret headers in s, so that a server
// echoing them in an error body cannot put them into a message.
func (c *httpCall) scrub(s string) string {
	for _, kv := range c.Headers {
		if c.Secrets[http.CanonicalHeaderKey(kv[0])] && len(kv[1]) >= 4 {
			s = strings.ReplaceAll(s, kv[1], Redacted)
		}
	}
	return s
}

// redactParam is the http type's engine.NodeType.Redact: what the trace shows of a
// param computed by a ${{ }} template. Secret headers (Authorization, cookies and
// secret_headers) show as Redacted, and a URL's password is masked.
func redactParam(path []any, value any, params map[string]any) any {
	if len(path) == 0 {
		return value
	}
	var extra []string
	if list, ok := params["secret_headers"].([]any); ok {
		for _, h := range list {
			if s, ok := h.(string); ok {
				extra = append(extra, s)
			}
		}
	}
	secrets := newSecretSet(extra)
	switch path[0] {
	case "url":
		if s, ok := value.(string); ok {
			return redactURL(s)
		}
	case "headers":
		if len(path) >= 2 {
			if k, ok := path[1].(string); ok && secrets[http.CanonicalHeaderKey(k)] {
				return Redacted
			}
			return value
		}
		m, ok := value.(map[string]any)
		if !ok {
			return value
		}
		shown := make(map[string]any, len(m))
		for k, v := range m {
			if secrets[http.CanonicalHeaderKey(k)] {
				v = Redacted
			}
			shown[k] = v
		}
		return shown
	}
	return value
}
