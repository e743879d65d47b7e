package ionodes

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// A backend that runs exec in another process carries prep's input and exec's result as
// JSON, decoding them into new values of the types NodeType.Input and Result declare.
// These tests hold every I/O type to that: the declared types have nothing JSON cannot
// carry, real and hand-built values come back deeply equal, and a workflow run through
// such a backend ends as it does in this process. (The helpers are those of builtin's
// codec_test.go.)

// codec is the backend's trip: encode v, decode it into a new value of zero's type.
func codec(v, zero any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	p := reflect.New(reflect.TypeOf(zero))
	if err := json.Unmarshal(data, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}

// checkCodec fails t unless v, of zero's type, survives codec unchanged. Values held in
// interfaces (any fields, map[string]any) are arbitrary JSON, where only JSON's own values
// can come back as they were, so v is compared in that form.
func checkCodec(t *testing.T, what string, v, zero any) bool {
	t.Helper()
	if reflect.TypeOf(v) != reflect.TypeOf(zero) {
		t.Errorf("%s is a %T, but the type declares %T", what, v, zero)
		return false
	}
	got, err := codec(v, zero)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return false
	}
	if want := jsonNative(reflect.ValueOf(v)).Interface(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s does not survive JSON: %s", what, firstDiff(fmt.Sprintf("%#v", want), fmt.Sprintf("%#v", got)))
		return false
	}
	return true
}

// firstDiff shows where a and b part.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-60, 0)
	return fmt.Sprintf("\n  want …%.160s\n  got  …%.160s", a[from:], b[from:])
}

// jsonNative copies v with every value held in an interface replaced by what
// encoding/json decodes it to.
func jsonNative(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Interface:
		out := reflect.New(v.Type()).Elem()
		if v.IsNil() {
			return out
		}
		var x any
		if data, err := json.Marshal(v.Interface()); err == nil && json.Unmarshal(data, &x) == nil && x != nil {
			out.Set(reflect.ValueOf(x))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(jsonNative(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(jsonNative(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(jsonNative(v.Index(i)))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(jsonNative(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), jsonNative(it.Value()))
		}
		return out
	}
	return v
}

var (
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// encodesItself says t has its own JSON or text form; the samples' round trip checks it.
func encodesItself(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// blindSpots lists what encoding/json drops or cannot carry in t: unexported fields,
// fields tagged "-", funcs and channels, types that encode but do not decode themselves.
func blindSpots(t reflect.Type, at string, seen map[reflect.Type]bool) []string {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if encodesItself(t) {
		enc := t.Implements(jsonMarshaler) || t.Implements(textMarshaler)
		dec := reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
		if enc != dec {
			return []string{at + " (" + t.String() + ") encodes or decodes itself, not both"}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return []string{at + " is a " + t.String()}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return blindSpots(t.Elem(), at+"[]", seen)
	case reflect.Map:
		return append(blindSpots(t.Key(), at+" key", seen), blindSpots(t.Elem(), at+"[k]", seen)...)
	case reflect.Struct:
		var out []string
		for i := range t.NumField() {
			f := t.Field(i)
			where := at + "." + f.Name
			switch {
			case !f.IsExported():
				out = append(out, where+" is unexported")
			case f.Tag.Get("json") == "-":
				out = append(out, where+` is tagged json:"-"`)
			default:
				out = append(out, blindSpots(f.Type, where, seen)...)
			}
		}
		return out
	}
	return nil
}

// fieldsOf lists the struct fields reachable from t, as "Type.Field".
func fieldsOf(t reflect.Type, seen map[reflect.Type]bool, out map[string]bool) {
	if seen[t] || encodesItself(t) {
		return
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		fieldsOf(t.Elem(), seen, out)
	case reflect.Map:
		fieldsOf(t.Elem(), seen, out)
	case reflect.Struct:
		for i := range t.NumField() {
			out[t.String()+"."+t.Field(i).Name] = false
			fieldsOf(t.Field(i).Type, seen, out)
		}
	}
}

// markSet marks the fields v sets (non-zero) in set.
func markSet(v reflect.Value, set map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			markSet(v.Elem(), set)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			markSet(v.Index(i), set)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			markSet(it.Value(), set)
		}
	case reflect.Struct:
		if encodesItself(v.Type()) {
			return
		}
		for i := range v.NumField() {
			if !v.Field(i).IsZero() {
				set[v.Type().String()+"."+v.Type().Field(i).Name] = true
			}
			markSet(v.Field(i), set)
		}
	}
}

// unset lists the fields of zero's type that none of the samples sets: a sample set
// that leaves a field zero would not notice the field being lost.
func unset(zero any, samples []any) []string {
	fields := map[string]bool{}
	fieldsOf(reflect.TypeOf(zero), map[reflect.Type]bool{}, fields)
	for _, s := range samples {
		markSet(reflect.ValueOf(s), fields)
	}
	var out []string
	for f, set := range fields {
		if !set {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// samples are values of a type's input and result.
type samples struct{ inputs, results []any }

// jsonDispatch runs each exec as a backend in another process would: the input goes
// through JSON into the type's declared Input, Graph.ExecAttempt runs the exec, and the
// result goes through JSON into the declared Result. It keeps what it was sent.
type jsonDispatch struct {
	g    *engine.Graph
	seen map[string]*samples
}

func (d *jsonDispatch) Exec(ctx context.Context, call *engine.ExecCall) (any, error) {
	nt, ok := d.g.NodeTypeOf(call.Node)
	if !ok {
		return nil, engine.Errorf(engine.Internal, "no node %q", call.Node)
	}
	s := d.seen[nt.Name]
	if s == nil {
		s = &samples{}
		d.seen[nt.Name] = s
	}
	s.inputs = append(s.inputs, call.Input)
	in, err := codec(call.Input, nt.Input)
	if err != nil {
		return nil, engine.WithKind(engine.Internal, fmt.Errorf("decode the input: %w", err))
	}
	remote := *call
	remote.Input = in
	out, err := d.g.ExecAttempt(ctx, &remote, nil)
	if err != nil {
		return nil, err
	}
	s.results = append(s.results, out)
	if out, err = codec(out, nt.Result); err != nil {
		return nil, engine.WithKind(engine.Internal, fmt.Errorf("decode the result: %w", err))
	}
	return out, nil
}

// codecFlow visits every I/O type, with every param that shapes an input set, through
// successes and one routed failure. %[1]s is the server's URL, %[2]s a directory, %[3]s
// the helper program (the test binary, see TestMain; -test.run=^$ keeps it from
// running the tests should the helper's variable go missing).
const codecFlow = `
version: 1
name: codec
start: fetch
nodes:
  fetch:
    type: http
    params:
      method: POST
      url: "%[1]s/ok"
      headers: {Authorization: Bearer t0ken-value, X-Token: also-secret, X-Count: 7}
      query: {page: 2}
      body: {ask: [1, 2], deep: {yes: true}}
      expect_status: [200, "2xx"]
      max_response_bytes: 4096
      secret_headers: [x-token]
    on: {success: text}
  text:
    type: http
    params: {url: "%[1]s/text", body: plain words}
    on: {success: refused}
  refused:
    type: http
    params: {url: "%[1]s/teapot"}
    on: {error: shape, success: shape}
  shape:
    type: transform
    params:
      values:
        count: "${{ len(shared.fetch.body.items) }}"
        title: "${{ shared.fetch.body.title }}"
        ratio: 0.5
        items: "${{ shared.fetch.body.items }}"
      set: {page: 2, label: "${{ 'page ' + string(2) }}"}
    on: {success: run}
  run:
    type: command
    params:
      argv: ["%[3]s", "-test.run=^$", a, "b c"]
      env: {KGRUN_IONODES_HELPER: json, GREETING: hi}
      dir: "%[2]s"
      stdin: ignored
      output: json
      exit_codes: {"3": data, "0": success}
      kill_grace: 1500ms
    on: {success: odd}
  odd:
    type: command
    params:
      argv: ["%[3]s", "-test.run=^$"]
      env: {KGRUN_IONODES_HELPER: other}
      exit_codes: {"3": success}
    on: {success: write}
  write:
    type: file
    params: {op: write, root: "%[2]s/out", path: sub/report.json, format: json, from: fetch.body}
    on: {success: append}
  append:
    type: file
    params: {op: append, root: "%[2]s/out", path: log.txt, format: lines, data: [one, 2]}
    on: {success: read}
  read:
    type: file
    params: {op: read, root: "%[2]s/out", path: sub/report.json, format: json}
    on: {success: lines}
  lines:
    type: file
    params: {op: read, root: "%[2]s/out", path: log.txt, format: lines}
    on: {success: empty}
  empty:
    type: file
    params: {op: write, root: "%[2]s/out", path: empty.txt, data: ""}
`

func codecServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Token", "server-secret")
		w.Header().Add("X-Many", "a")
		w.Header().Add("X-Many", "b")
		fmt.Fprint(w, `{"title": "daily", "items": [1, 2.5, "three", null, {"n": 4}]}`)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "plain") })
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "short and stout", http.StatusTeapot) })
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// runCodecFlow runs codecFlow on the real clock, through d when it is given.
func runCodecFlow(t *testing.T, url, dir string, d *jsonDispatch) *engine.Result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	g := load(t, fmt.Sprintf(codecFlow, url, dir, exe))
	opts := engine.RunOptions{}
	if d != nil {
		d.g = g
		opts.Backend = &engine.Backend{Dispatch: d}
	}
	res, _ := runReal(t, g, opts)
	if res.Status != engine.StatusDegraded || len(res.Failures) != 1 || res.Failures[0].Node != "refused" {
		t.Fatalf("status %s along %v, failures %v; want degraded by refused alone", res.Status, res.PathNodes(), res.Failures)
	}
	return res
}

// hand are built samples that set what the run leaves zero, with every field set
// between them; any and map[string]any hold JSON's own values.
var hand = map[string]samples{
	"http": {
		inputs: []any{&httpCall{Method: "PUT", URL: "https://u:p@example.com/x?a=1", Headers: [][2]string{{"Authorization", "Bearer x"}},
			Body: []byte{0, 1, 0xff}, BodyType: "application/octet-stream", Expect: []statusRange{{200, 299}, {304, 304}},
			MaxBytes: 1 << 40, Secrets: newSecretSet([]string{"X-Key"})}, &httpCall{Method: "GET", URL: "http://h", Body: []byte{}}},
		results: []any{HTTPResult{Status: 201, Headers: map[string]string{"X-Token": Redacted, "Content-Type": "text/plain"},
			Body: map[string]any{"n": 1.5, "list": []any{"a", nil, true}}, Duration: engine.Duration(1234567 * time.Nanosecond)},
			HTTPResult{Status: 204, Headers: map[string]string{}, Body: ""}},
	},
	"command": {
		inputs: []any{&commandCall{Argv: []string{"prog", "x y"}, Env: []string{"A=1", "B="}, Dir: "/tmp", Stdin: "in\n", JSON: true,
			ExitKinds: map[int]engine.Kind{0: "", 3: engine.Data, 255: engine.Network}, Grace: 1500 * time.Millisecond}},
		results: []any{CommandResult{ExitCode: 3, Stdout: "out", Stderr: "err", JSON: []any{1.0, "two", map[string]any{}}}, CommandResult{}},
	},
	"file": {
		inputs: []any{&fileCall{Op: "write", Root: "/r", Path: "a/b.json", Format: "json", Data: []byte("{}\n")},
			&fileCall{Op: "read", Root: "/r", Path: "b", Format: "text"}},
		results: []any{FileResult{Op: "read", Path: "a/b.json", Bytes: 3, Content: map[string]any{"k": []any{1.0}}},
			FileResult{Op: "read", Path: "l", Bytes: 0, Content: []any{}}, FileResult{Op: "read", Path: "t", Content: ""}},
	},
	"transform": {
		inputs:  []any{&transformCall{Values: map[string]any{"n": 2.0, "s": "x", "none": nil}, Set: map[string]any{"k": []any{true}}}, &transformCall{Values: map[string]any{}, Set: map[string]any{}}},
		results: []any{map[string]any{"n": 2.0, "nested": map[string]any{"ids": []any{"a"}}}, map[string]any{}},
	},
}

func TestCodecRoundTrip(t *testing.T) {
	ts := codecServer(t)
	d := &jsonDispatch{seen: map[string]*samples{}}
	runCodecFlow(t, ts.URL, t.TempDir(), d)
	for _, nt := range Types(Options{}) {
		t.Run(nt.Name, func(t *testing.T) {
			if nt.Input == nil || nt.Result == nil {
				t.Fatalf("declares Input %T and Result %T; a backend that runs exec elsewhere needs both", nt.Input, nt.Result)
			}
			for _, zero := range []any{nt.Input, nt.Result} {
				for _, b := range blindSpots(reflect.TypeOf(zero), reflect.TypeOf(zero).String(), map[reflect.Type]bool{}) {
					t.Errorf("JSON cannot carry %s", b)
				}
			}
			h, ok := hand[nt.Name]
			if !ok {
				t.Fatal("no hand-built samples")
			}
			var ran samples
			if s := d.seen[nt.Name]; s != nil {
				ran = *s
			}
			if len(ran.inputs) == 0 || len(ran.results) == 0 {
				t.Errorf("the run exec'd it successfully nowhere: %d inputs, %d results", len(ran.inputs), len(ran.results))
			}
			inputs, results := append(h.inputs, ran.inputs...), append(h.results, ran.results...)
			for i, bad := 0, 0; i < len(inputs) && bad < 3; i++ {
				if !checkCodec(t, fmt.Sprintf("input %d", i), inputs[i], nt.Input) {
					bad++
				}
			}
			for i, bad := 0, 0; i < len(results) && bad < 3; i++ {
				if !checkCodec(t, fmt.Sprintf("result %d", i), results[i], nt.Result) {
					bad++
				}
			}
			if u := unset(nt.Input, inputs); len(u) > 0 {
				t.Errorf("no input sample sets %s", strings.Join(u, ", "))
			}
			if u := unset(nt.Result, results); len(u) > 0 {
				t.Errorf("no result sample sets %s", strings.Join(u, ", "))
			}
		})
	}
}

// TestCodecBackendRunsAlike: the workflow ends the same whether exec runs here or
// behind JSON, but for times and the response's Date, which differ between any two runs.
func TestCodecBackendRunsAlike(t *testing.T) {
	ts := codecServer(t)
	a := comparable(t, runCodecFlow(t, ts.URL, t.TempDir(), nil))
	b := comparable(t, runCodecFlow(t, ts.URL, t.TempDir(), &jsonDispatch{seen: map[string]*samples{}}))
	if a != b {
		t.Errorf("the run ends otherwise behind JSON: %s", firstDiff(a, b))
	}
}

// comparable renders what a run produced, with times and the directory blanked.
func comparable(t *testing.T, res *engine.Result) string {
	t.Helper()
	data, err := json.Marshal(res.Portable())
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var blank func(any)
	blank = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "at", "elapsed", "duration", "Date":
					x[k] = ""
				}
				blank(e)
			}
		case []any:
			for _, e := range x {
				blank(e)
			}
		}
	}
	blank(v)
	out, _ := json.Marshal(v)
	return string(out)
}
