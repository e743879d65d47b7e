package schema

import (
	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// A workflow's env lists the environment variables its expressions may read, as env.NAME:
//
//	env:
//	  - API_TOKEN
//	  - {name: REGION, default: eu, secret: false}
//
// Nothing else of the process environment reaches an expression. A value is read once per
// run; a listed variable that is unset and has no default stops the run before it starts.
// Values are secrets unless the entry says secret: false: params computed from them are
// redacted in traces and reports, and they are never journaled.

// EnvVar is one entry of the workflow's env allowlist.
type EnvVar struct {
	Name string
	Pos  Pos
	// Default is used when the variable is unset (nil: the run refuses to start).
	Default *string
	// Secret is true unless the entry says secret: false.
	Secret bool
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envVars decodes the workflow's env list.
func (d *decoder) envVars(n *yaml.Node) []*EnvVar {
	r := d.resolve(n)
	if r == nil || r.Tag == "!!null" {
		return nil
	}
	if r.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(r), "write it as a list: env: [API_TOKEN, {name: REGION, default: eu}]", "env must be a list of variable names, not %s", kindName(r))
		return nil
	}
	seen := map[string]Pos{}
	var out []*EnvVar
	for i, item := range r.Content {
		what := "env[" + strconv.Itoa(i) + "]"
		v := &EnvVar{Secret: true}
		var nameNode *yaml.Node
		if it := d.resolve(item); it != nil && it.Kind == yaml.MappingNode {
			o := d.mapping(it, "envVar", what, "name")
			if o == nil {
				continue
			}
			nameNode = o.get("name")
			if x := o.get("default"); x != nil {
				if s, ok := d.str(x, what+".default"); ok {
					v.Default = &s
				}
			}
			if x := o.get("secret"); x != nil {
				if s := d.scalar(x, what+".secret", "true or false"); s != nil {
					b, err := strconv.ParseBool(s.Value)
					if s.Tag != "!!bool" || err != nil {
						d.diags.Errorf(d.pos(s), "write true or false", "%s.secret must be true or false, not %s", what, kindName(s))
					} else {
						v.Secret = b
					}
				}
			}
		} else {
			nameNode = item
		}
		if nameNode == nil {
			continue
		}
		s := d.scalar(nameNode, what, "a variable name")
		if s == nil {
			continue
		}
		if s.Tag != "!!str" || !envName.MatchString(s.Value) {
			d.diags.Errorf(d.pos(s), "environment variable names are letters, digits and '_', not starting with a digit",
				"%s must be an environment variable name, not %s", what, kindName(s))
			continue
		}
		v.Name, v.Pos = s.Value, d.pos(s)
		if p, dup := seen[v.Name]; dup {
			d.diags.Errorf(v.Pos, fmt.Sprintf("the first is at %d:%d; keep one", p.Line, p.Col), "%q is listed twice in env", v.Name)
			continue
		}
		seen[v.Name] = v.Pos
		out = append(out, v)
	}
	return out
}

// EnvValues reads the listed variables through lookup (os.LookupEnv in kgrun), filling in
// defaults. An unset variable without a default is an error naming it.
func (w *Workflow) EnvValues(lookup func(string) (string, bool)) (map[string]string, error) {
	if len(w.Env) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(w.Env))
	for _, v := range w.Env {
		val, ok := "", false
		if lookup != nil {
			val, ok = lookup(v.Name)
		}
		if !ok {
			if v.Default == nil {
				return nil, fmt.Errorf("env: %s: %s is not set; set it, or give it a default under env", v.Pos, v.Name)
			}
			val = *v.Default
		}
		out[v.Name] = val
	}
	return out, nil
}
