package ionodes

import (
	"encoding/json"
	"testing"
)

// TestRedactParam: what the params trace shows of an http node's computed params.
func TestRedactParam(t *testing.T) {
	params := map[string]any{"secret_headers": []any{"x-api-key"}}
	for _, tc := range []struct {
		path  []any
		value any
		want  string
	}{
		{[]any{"headers", "Authorization"}, "Bearer t", `"[redacted]"`},
		{[]any{"headers", "authorization"}, "Bearer t", `"[redacted]"`},
		{[]any{"headers", "X-API-KEY"}, "k", `"[redacted]"`},
		{[]any{"headers", "Cookie"}, "c=1", `"[redacted]"`},
		{[]any{"headers", "X-Trace"}, "t1", `"t1"`},
		{[]any{"headers"}, map[string]any{"authorization": "Bearer t", "x-api-key": "k", "Accept": "a"}, `{"Accept":"a","authorization":"[redacted]","x-api-key":"[redacted]"}`},
		{[]any{"url"}, "http://u:secret@host/p", `"http://u:xxxxx@host/p"`},
		{[]any{"body", "token"}, "visible", `"visible"`},
	} {
		b, _ := json.Marshal(redactParam(tc.path, tc.value, params))
		if string(b) != tc.want {
			t.Errorf("%v: %s, want %s", tc.path, b, tc.want)
		}
	}
}
