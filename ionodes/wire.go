package ionodes

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// The I/O types' exec inputs keep their fields unexported, so no node code outside the
// package can build a call that skipped Prep's checks. A backend that runs exec in
// another process (engine.Backend) sends the input there with encoding/json: these wire
// forms are what travels, field for field.

type commandWire struct {
	Argv      []string            `json:"argv"`
	Env       []string            `json:"env,omitempty"`
	Dir       string              `json:"dir,omitempty"`
	Stdin     string              `json:"stdin,omitempty"`
	JSON      bool                `json:"json,omitempty"`
	ExitKinds map[int]engine.Kind `json:"exit_kinds,omitempty"`
	Grace     time.Duration       `json:"grace,omitempty"`
}

func (c *commandCall) MarshalJSON() ([]byte, error) {
	return json.Marshal(commandWire{c.argv, c.env, c.dir, c.stdin, c.json, c.exitKinds, c.grace})
}

func (c *commandCall) UnmarshalJSON(data []byte) error {
	var w commandWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*c = commandCall{argv: w.Argv, env: w.Env, dir: w.Dir, stdin: w.Stdin, json: w.JSON, exitKinds: w.ExitKinds, grace: w.Grace}
	return nil
}

type fileWire struct {
	Op     string `json:"op"`
	Root   string `json:"root"`
	Path   string `json:"path"`
	Format string `json:"format,omitempty"`
	Data   []byte `json:"data,omitempty"`
}

func (c *fileCall) MarshalJSON() ([]byte, error) {
	return json.Marshal(fileWire{c.op, c.root, c.path, c.format, c.data})
}

func (c *fileCall) UnmarshalJSON(data []byte) error {
	var w fileWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*c = fileCall{op: w.Op, root: w.Root, path: w.Path, format: w.Format, data: w.Data}
	return nil
}

type httpWire struct {
	Method   string      `json:"method"`
	URL      string      `json:"url"`
	Headers  [][2]string `json:"headers,omitempty"`
	Body     []byte      `json:"body,omitempty"`
	BodyType string      `json:"body_type,omitempty"`
	Expect   [][2]int    `json:"expect,omitempty"`
	MaxBytes int64       `json:"max_bytes"`
	Secrets  []string    `json:"secrets,omitempty"`
}

func (c *httpCall) MarshalJSON() ([]byte, error) {
	w := httpWire{Method: c.method, Headers: c.headers, Body: c.body, BodyType: c.bodyType, MaxBytes: c.maxBytes}
	if c.url != nil {
		w.URL = c.url.String()
	}
	for _, r := range c.expect {
		w.Expect = append(w.Expect, [2]int{r.lo, r.hi})
	}
	for h, secret := range c.secrets {
		if secret {
			w.Secrets = append(w.Secrets, h)
		}
	}
	return json.Marshal(w)
}

func (c *httpCall) UnmarshalJSON(data []byte) error {
	var w httpWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	u, err := url.Parse(w.URL)
	if err != nil {
		return fmt.Errorf("http call: url: %w", err)
	}
	*c = httpCall{method: w.Method, url: u, headers: w.Headers, body: w.Body, bodyType: w.BodyType, maxBytes: w.MaxBytes}
	for _, r := range w.Expect {
		c.expect = append(c.expect, statusRange{lo: r[0], hi: r[1]})
	}
	if w.Secrets != nil {
		c.secrets = secretSet{}
		for _, h := range w.Secrets {
			c.secrets[h] = true
		}
	}
	return nil
}

type transformWire struct {
	Values map[string]any `json:"values,omitempty"`
	Set    map[string]any `json:"set,omitempty"`
}

func (c *transformCall) MarshalJSON() ([]byte, error) {
	return json.Marshal(transformWire{c.values, c.set})
}

func (c *transformCall) UnmarshalJSON(data []byte) error {
	var w transformWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*c = transformCall{values: w.Values, set: w.Set}
	return nil
}
