package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits bound what the decoder accepts, so that hostile files are refused quickly.
type Limits struct {
	// MaxBytes is the largest file accepted.
	MaxBytes int
	// MaxAliasExpansions bounds how many alias references are followed (YAML bombs).
	MaxAliasExpansions int
	// MaxDepth bounds the nesting depth of the YAML tree.
	MaxDepth int
	// MaxNodes bounds the number of workflow nodes.
	MaxNodes int
	// MaxExprLen bounds the length of one expression.
	MaxExprLen int
}

// DefaultLimits are generous for hand-written and generated workflows alike.
var DefaultLimits = Limits{
	MaxBytes:           8 << 20,
	MaxAliasExpansions: 10_000,
	MaxDepth:           64,
	MaxNodes:           50_000,
	MaxExprLen:         4096,
}

// Decode parses a workflow file and decodes it into a Workflow, then runs the checks that
// need nothing but the file itself. It returns every diagnostic found, sorted; the
// Workflow is nil only when the file could not be parsed as YAML at all.
func Decode(file string, data []byte) (*Workflow, Diagnostics) {
	return DecodeWithLimits(file, data, DefaultLimits)
}

// DecodeWithLimits is Decode with explicit limits.
func DecodeWithLimits(file string, data []byte, limits Limits) (*Workflow, Diagnostics) {
	d := &decoder{file: file, limits: limits}
	if len(data) > limits.MaxBytes {
		d.diags.Errorf(Pos{File: file, Line: 1, Col: 1}, tooBigHint,
			"file is %d bytes, more than the limit of %d", len(data), limits.MaxBytes)
		return nil, d.diags
	}
	root, ok := d.parse(data)
	if !ok {
		return nil, d.diags.Sort()
	}
	if err := d.checkDepth(root, 0); err != nil {
		return nil, d.diags.Sort()
	}
	w := d.workflow(root)
	if w != nil {
		check(w, &d.diags)
	}
	return w, d.diags.Sort()
}

type decoder struct {
	file    string
	limits  Limits
	diags   Diagnostics
	aliases int
	data    []byte
	// lines are data's lines, split when first needed (see textLines): only diagnostics
	// and block scalars need them.
	lines [][]byte
	// objects is where mapping takes its objects from, a batch at a time.
	objects []object
	// declared are the workflow's param declarations, once decoded, for checking the
	// values scenarios and tests give them.
	declared []*Param
	// inputDecl is the workflow's input declaration, once decoded, for checking the input
	// tests give.
	inputDecl *Input
	// inputBroken says the declaration had errors, already reported.
	inputBroken bool
	// scope is the path prefix of the nodes being decoded ("" at the top, "fan/" in
	// map node fan's body); nodes counts them all, bodies included, against MaxNodes.
	scope string
	nodes int
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads exactly one YAML document, turning syntax errors into positioned diagnostics.
func (d *decoder) parse(data []byte) (*yaml.Node, bool) {
	d.data = data
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.diags.Errorf(Pos{File: d.file, Line: 1, Col: 1}, "a workflow needs at least version, name, start and nodes",
				"file is empty")
			return nil, false
		}
		d.syntaxError(err)
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.diags.Errorf(d.pos(&extra), "remove the extra document or split it into its own file",
			"a workflow file holds one YAML document; a second one starts here")
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err)
	}
	if len(doc.Content) == 0 {
		d.diags.Errorf(Pos{File: d.file, Line: 1, Col: 1}, "a workflow needs at least version, name, start and nodes", "file is empty")
		return nil, false
	}
	return doc.Content[0], true
}

func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if msg == "did not find expected key" {
		// The parser names the line where the enclosing block starts; the mistake is
		// usually a later line indented to a level no enclosing block uses.
		if bad := d.misindented(line); bad > 0 {
			d.diags.Errorf(Pos{File: d.file, Line: bad, Col: d.firstColumn(bad)},
				fmt.Sprintf("indent it like its siblings in the block that starts at line %d", line),
				"YAML syntax error: this line's indentation matches no enclosing block")
			return
		}
	}
	d.diags.Errorf(Pos{File: d.file, Line: line, Col: d.firstColumn(line)},
		"check indentation, colons and quoting on this line and the ones below it",
		"YAML syntax error: %s", msg)
}

// textLines returns the file's lines, splitting it the first time.
func (d *decoder) textLines() [][]byte {
	if d.lines == nil {
		d.lines = bytes.Split(d.data, []byte("\n"))
	}
	return d.lines
}

// misindented returns the first line from start on whose indentation is deeper than its
// parent's but matches no open block level, or 0 when there is none.
func (d *decoder) misindented(start int) int {
	var levels []int
	d.textLines()
	for l := start; l <= len(d.lines); l++ {
		text := bytes.TrimSpace(d.lines[l-1])
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		indent := d.firstColumn(l)
		for len(levels) > 0 && indent < levels[len(levels)-1] {
			levels = levels[:len(levels)-1]
		}
		if len(levels) > 0 && indent == levels[len(levels)-1] {
			continue
		}
		if len(levels) > 0 && l > start && indent > levels[len(levels)-1] && !bytes.HasSuffix(bytes.TrimSpace(d.lines[l-2]), []byte(":")) &&
			!bytes.HasPrefix(bytes.TrimSpace(d.lines[l-2]), []byte("- ")) {
			return l
		}
		levels = append(levels, indent)
	}
	return 0
}

// firstColumn is the column of the first non-blank character of a line (1 if none).
func (d *decoder) firstColumn(line int) int {
	d.textLines()
	if line < 1 || line > len(d.lines) {
		return 1
	}
	l := d.lines[line-1]
	for i, c := range l {
		if c != ' ' && c != '\t' {
			return i + 1
		}
	}
	return 1
}

var errTooDeep = errors.New("too deep")

func (d *decoder) checkDepth(n *yaml.Node, depth int) error {
	if depth > d.limits.MaxDepth {
		d.diags.Errorf(d.pos(n), "flatten the structure; workflows never need this much nesting",
			"nesting is deeper than the limit of %d levels", d.limits.MaxDepth)
		return errTooDeep
	}
	for _, c := range n.Content {
		if len(c.Content) == 0 && depth+1 <= d.limits.MaxDepth {
			continue // a leaf within the limit: nothing below it to check
		}
		if err := d.checkDepth(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// resolve follows aliases, counting each one against the expansion budget.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		d.aliases++
		if d.aliases > d.limits.MaxAliasExpansions {
			if d.aliases == d.limits.MaxAliasExpansions+1 {
				d.diags.Errorf(d.pos(n), "use fewer aliases; a file that expands this much is refused",
					"more than %d alias expansions", d.limits.MaxAliasExpansions)
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// object is a YAML mapping whose keys were checked against the table for its kind. Its
// fields are few (each a known key, at most once), so a list serves better than maps;
// most fit in the object itself.
type object struct {
	node   *yaml.Node
	fields []field
	inline [4]field
}

// field is one key of an object: its name, the key's node (for its position) and value.
type field struct {
	name  string
	key   *yaml.Node
	value *yaml.Node
}

func (o *object) get(key string) *yaml.Node {
	if f := o.field(key); f != nil {
		return f.value
	}
	return nil
}

func (o *object) field(key string) *field {
	if o == nil {
		return nil
	}
	for i := range o.fields {
		if o.fields[i].name == key {
			return &o.fields[i]
		}
	}
	return nil
}

// mapping checks that n is a mapping whose keys are all in Keys[kind], reporting unknown
// keys (with a suggestion), duplicates and missing required keys. It returns nil when n is
// not a mapping at all.
func (d *decoder) mapping(n *yaml.Node, kind, what string, required ...string) *object {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(d.pos(n), "", "%s must be a mapping of keys to values, not %s", what, kindName(n))
		return nil
	}
	known := Keys[kind]
	if len(d.objects) == 0 {
		d.objects = make([]object, 64)
	}
	o := &d.objects[0]
	d.objects = d.objects[1:]
	o.node = n
	o.fields = o.inline[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			d.diags.Errorf(d.pos(k), "write the keys out; merge keys hide where a setting comes from", "merge keys (<<) are not supported")
			continue
		}
		key := k.Value
		if !contains(known, key) {
			detail := DidYouMean(key, known)
			if detail == "" {
				detail = "known keys: " + strings.Join(known, ", ")
			}
			d.diags.Errorf(d.pos(k), detail, "unknown key %q in %s", key, what)
			continue
		}
		if first := o.field(key); first != nil {
			p := d.pos(first.key)
			d.diags.Errorf(d.pos(k), fmt.Sprintf("the first is at %d:%d; keep one", p.Line, p.Col), "duplicate key %q in %s", key, what)
			continue
		}
		o.fields = append(o.fields, field{name: key, key: k, value: v})
	}
	for _, r := range required {
		if o.field(r) == nil {
			d.diags.Errorf(d.pos(n), "", "%s is missing the required key %q", what, r)
		}
	}
	return o
}

// entries returns the key/value pairs of a mapping whose keys are user-chosen names
// (nodes, breakers, scenarios, actions), reporting duplicates and names that are not
// identifiers.
func (d *decoder) entries(n *yaml.Node, what string) [][2]*yaml.Node {
	return d.namedEntries(n, what, isName)
}

// namedEntries is entries with names that match valid: node names, or node paths
// (map/node) where a scenario names a node inside a body.
func (d *decoder) namedEntries(n *yaml.Node, what string, valid func(string) bool) [][2]*yaml.Node {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return nil
		}
		d.diags.Errorf(d.pos(n), "", "%s must be a mapping from names to definitions, not %s", what, kindName(n))
		return nil
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode || !valid(k.Value) {
			hint := "names start with a letter or underscore, then letters, digits, '_', '-' or '.'"
			if valid(pathProbe) {
				hint += "; a node inside a body is named by its path, map/node"
			}
			d.diags.Errorf(d.pos(k), hint,
				"invalid name %s in %s", kindName(k), what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.diags.Errorf(d.pos(k), fmt.Sprintf("the first is at %d:%d; rename or remove one", first.Line, first.Column),
				"%q is declared twice in %s", k.Value, what)
			continue
		}
		seen[k.Value] = k
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns the resolved scalar node, or reports that a scalar was expected.
func (d *decoder) scalar(n *yaml.Node, what, expected string) *yaml.Node {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.diags.Errorf(d.pos(n), "", "%s must be %s, not %s", what, expected, kindName(n))
		return nil
	}
	return n
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	s := d.scalar(n, what, "a string")
	if s == nil {
		return "", false
	}
	return s.Value, true
}

func (d *decoder) ident(n *yaml.Node, what string) Ident {
	s := d.scalar(n, what, "a name")
	if s == nil {
		return Ident{}
	}
	if s.Tag != "!!str" || !isName(s.Value) {
		d.diags.Errorf(d.pos(s), "names start with a letter or underscore, then letters, digits, '_', '-' or '.'",
			"%s must be a name, not %s", what, kindName(s))
		return Ident{}
	}
	return Ident{Name: s.Value, Pos: d.pos(s)}
}

// identList accepts a single name or a list of names.
func (d *decoder) identList(n *yaml.Node, what string) []Ident {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if id := d.ident(n, what); id.Name != "" {
			return []Ident{id}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(n), "", "%s must be a list of names, not %s", what, kindName(n))
		return nil
	}
	var out []Ident
	for _, c := range n.Content {
		if id := d.ident(c, what); id.Name != "" {
			out = append(out, id)
		}
	}
	return out
}

func (d *decoder) integer(n *yaml.Node, what string, min int) (int, bool) {
	s := d.scalar(n, what, "a whole number")
	if s == nil {
		return 0, false
	}
	v, err := strconv.ParseInt(s.Value, 0, 64)
	if s.Tag != "!!int" || err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		d.diags.Errorf(d.pos(s), "", "%s must be a whole number, not %s", what, kindName(s))
		return 0, false
	}
	if int(v) < min {
		d.diags.Errorf(d.pos(s), "", "%s must be at least %d, not %d", what, min, v)
		return 0, false
	}
	return int(v), true
}

func (d *decoder) int64(n *yaml.Node, what string) (int64, bool) {
	s := d.scalar(n, what, "a whole number")
	if s == nil {
		return 0, false
	}
	v, err := strconv.ParseInt(s.Value, 0, 64)
	if s.Tag != "!!int" || err != nil {
		d.diags.Errorf(d.pos(s), "", "%s must be a whole number, not %s", what, kindName(s))
		return 0, false
	}
	return v, true
}

// number accepts an integer or a float within [lo, hi].
func (d *decoder) number(n *yaml.Node, what string, lo, hi float64) (float64, bool) {
	s := d.scalar(n, what, "a number")
	if s == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(s.Value, 64)
	if (s.Tag != "!!int" && s.Tag != "!!float") || err != nil || math.IsNaN(v) {
		d.diags.Errorf(d.pos(s), "", "%s must be a number, not %s", what, kindName(s))
		return 0, false
	}
	if v < lo || v > hi {
		if math.IsInf(hi, 1) {
			d.diags.Errorf(d.pos(s), "", "%s must be at least %g, not %s", what, lo, s.Value)
		} else {
			d.diags.Errorf(d.pos(s), "", "%s must be between %g and %g, not %s", what, lo, hi, s.Value)
		}
		return 0, false
	}
	return v, true
}

// duration parses a Go-style duration ("500ms", "5s", "1m30s"); a bare number is refused
// because its unit would be a guess.
func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s := d.scalar(n, what, "a duration")
	if s == nil {
		return 0, false
	}
	if s.Tag == "!!int" || s.Tag == "!!float" {
		d.diags.Errorf(d.pos(s), fmt.Sprintf("write it with a unit, such as %ss or %sms", s.Value, s.Value),
			"%s must be a duration with a unit, not the bare number %s", what, s.Value)
		return 0, false
	}
	v, err := time.ParseDuration(s.Value)
	if err != nil {
		d.diags.Errorf(d.pos(s), "write a number with a unit (ns, us, ms, s, m, h), such as 500ms, 5s or 1m30s",
			"%s: invalid duration %q", what, s.Value)
		return 0, false
	}
	if v < 0 {
		d.diags.Errorf(d.pos(s), "", "%s must not be negative, not %s", what, s.Value)
		return 0, false
	}
	return v, true
}

// expr records an expression with what is needed to map positions inside it to the file.
func (d *decoder) expr(n *yaml.Node, what string) *Expr {
	s := d.scalar(n, what, "an expression")
	if s == nil {
		return nil
	}
	if len(s.Value) > d.limits.MaxExprLen {
		d.diags.Errorf(d.pos(s), "move the logic into a node type", "%s is %d characters long, more than the limit of %d",
			what, len(s.Value), d.limits.MaxExprLen)
		return nil
	}
	if strings.TrimSpace(s.Value) == "" {
		d.diags.Errorf(d.pos(s), "", "%s is empty", what)
		return nil
	}
	e := &Expr{Source: s.Value, Pos: d.pos(s)}
	switch s.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		e.Block = true
		e.Indent = d.blockIndent(s.Line)
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		e.Quoted = true
	}
	return e
}

// blockIndent finds the column at which a block scalar's text starts: the indentation of
// the first non-blank line after the indicator.
func (d *decoder) blockIndent(indicatorLine int) int {
	d.textLines()
	for l := indicatorLine + 1; l <= len(d.lines); l++ {
		if len(bytes.TrimSpace(d.lines[l-1])) > 0 {
			return d.firstColumn(l)
		}
	}
	return 1
}
