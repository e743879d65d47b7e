package ionodes

import (
	"net/http"
	"net/url"
	"strings"
)

// Redacted replaces secret values wherever they would be printed or journaled.
const Redacted = "[redacted]"

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
	for _, kv := range c.headers {
		if c.secrets[http.CanonicalHeaderKey(kv[0])] && len(kv[1]) >= 4 {
			s = strings.ReplaceAll(s, kv[1], Redacted)
		}
	}
	return s
}
