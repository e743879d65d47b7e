package ionodes

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// wireCases hold one input of each I/O type with every field set: the check that every
// field is set fails when a field is added without being given a wire form.
func wireCases(t *testing.T) map[string]any {
	u, err := url.Parse("https://api.example.test:8443/v1/items?q=a%20b#frag")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"command": &commandCall{argv: []string{"/bin/echo", "hi"}, env: []string{"A=1"}, dir: "/tmp", stdin: "in",
			json: true, exitKinds: map[int]engine.Kind{0: "", 3: engine.Network}, grace: 2 * time.Second},
		"file": &fileCall{op: "write", root: "/srv/data", path: "out/a.json", format: "json", data: []byte(`{"a":1}`)},
		"http": &httpCall{method: "POST", url: u, headers: [][2]string{{"Authorization", "Bearer x"}, {"X-Trace", "1"}},
			body: []byte(`{"k":"v"}`), bodyType: "application/json", expect: []statusRange{{200, 299}, {304, 304}},
			maxBytes: 1 << 20, secrets: secretSet{"Authorization": true}},
		"transform": &transformCall{values: map[string]any{"n": 3.0, "s": "x", "l": []any{"a", 1.0}}, set: map[string]any{"k": true}},
	}
}

// TestInputsSurviveJSON checks that what each I/O type's prep returns comes back
// unchanged from encoding/json into the type the node type declares as its Input, as a
// backend running exec in another process needs.
func TestInputsSurviveJSON(t *testing.T) {
	reg := engine.NewRegistry()
	if err := Register(reg, Options{}); err != nil {
		t.Fatal(err)
	}
	cases := wireCases(t)
	for _, name := range reg.Names() {
		nt, _ := reg.Lookup(name)
		in, ok := cases[name]
		if !ok {
			t.Errorf("type %s: no wire case; add one", name)
			continue
		}
		if nt.Input == nil || reflect.TypeOf(nt.Input) != reflect.TypeOf(in) {
			t.Errorf("type %s declares Input %T, but prep returns %T", name, nt.Input, in)
			continue
		}
		v := reflect.ValueOf(in).Elem()
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("type %s: the case leaves field %s unset", name, v.Type().Field(i).Name)
			}
		}
		data, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("type %s: %v", name, err)
		}
		back := reflect.New(reflect.TypeOf(nt.Input))
		if err := json.Unmarshal(data, back.Interface()); err != nil {
			t.Fatalf("type %s: %v", name, err)
		}
		if !reflect.DeepEqual(back.Elem().Interface(), in) {
			t.Errorf("type %s: the round trip changed the input:\n got  %#v\n want %#v", name, back.Elem().Interface(), in)
		}
	}
}

// FuzzWireDecode feeds arbitrary bytes to every wire decoder: they return an error or
// a value, never panic.
func FuzzWireDecode(f *testing.F) {
	for _, in := range wireCases(&testing.T{}) {
		data, _ := json.Marshal(in)
		f.Add(data)
	}
	f.Add([]byte(`{"url":"%zz"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []json.Unmarshaler{&commandCall{}, &fileCall{}, &httpCall{}, &transformCall{}} {
			_ = v.UnmarshalJSON(data)
		}
	})
}
