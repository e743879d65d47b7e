package schema

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// ParamTemplate is a string in a node's params that computes its value from the run:
// text with ${{ EXPR }} in it. A string that is exactly one ${{ EXPR }} takes the
// expression's value, typed (a map stays a map); any other is text, each expression's
// value written into it.
type ParamTemplate struct {
	// Path leads from the node's params to the string: map keys (string) and list
	// indices (int).
	Path  []any
	Pos   Pos
	Parts []TemplatePart
	// Whole is true when the string is exactly one expression.
	Whole bool
}

// TemplatePart is a piece of a template: literal text, or an expression.
type TemplatePart struct {
	Text string
	Expr *Expr
}

const (
	templateOpen  = "${{"
	templateClose = "}}"
)

// paramTemplates finds every string holding ${{ under a node's params. Values reached
// through YAML aliases are not templates: an anchor's text stays as written.
func (d *decoder) paramTemplates(n *yaml.Node, what string) []*ParamTemplate {
	var out []*ParamTemplate
	var walk func(n *yaml.Node, path []any)
	walk = func(n *yaml.Node, path []any) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i]; k.Kind == yaml.ScalarNode {
					walk(n.Content[i+1], append(path[:len(path):len(path)], k.Value))
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, append(path[:len(path):len(path)], i))
			}
		case yaml.ScalarNode:
			if n.Tag == "!!str" && strings.Contains(n.Value, templateOpen) {
				if t := d.template(n, path, what); t != nil {
					out = append(out, t)
				}
			}
		}
	}
	if n.Kind == yaml.MappingNode {
		walk(n, nil)
	}
	return out
}

// template splits a scalar into text and expressions, each expression positioned where
// it starts inside the scalar.
func (d *decoder) template(n *yaml.Node, path []any, what string) *ParamTemplate {
	t := &ParamTemplate{Path: path, Pos: d.pos(n)}
	s := n.Value
	offset := 0 // bytes of s consumed
	for {
		i := strings.Index(s[offset:], templateOpen)
		if i < 0 {
			if offset < len(s) {
				t.Parts = append(t.Parts, TemplatePart{Text: s[offset:]})
			}
			break
		}
		if i > 0 {
			t.Parts = append(t.Parts, TemplatePart{Text: s[offset : offset+i]})
		}
		start := offset + i + len(templateOpen)
		j := strings.Index(s[start:], templateClose)
		if j < 0 {
			d.diags.Errorf(d.exprPos(n, s, offset+i), "close it with }} (an expression cannot itself contain }})",
				"%s.%s: ${{ is not closed", what, PathString(path))
			return nil
		}
		src := s[start : start+j]
		lead := len(src) - len(strings.TrimLeft(src, " \t"))
		src = strings.TrimSpace(src)
		if src == "" {
			d.diags.Errorf(d.exprPos(n, s, offset+i), "write an expression between ${{ and }}", "%s.%s: empty ${{ }}", what, PathString(path))
			return nil
		}
		if len(src) > d.limits.MaxExprLen {
			d.diags.Errorf(d.exprPos(n, s, start), "move the logic into a node type", "%s.%s: an expression is %d characters long, more than the limit of %d",
				what, PathString(path), len(src), d.limits.MaxExprLen)
			return nil
		}
		// The position already counts the opening quote, so the Expr is not marked Quoted.
		e := &Expr{Source: src, Pos: d.exprPos(n, s, start+lead)}
		t.Parts = append(t.Parts, TemplatePart{Expr: e})
		offset = start + j + len(templateClose)
	}
	t.Whole = len(t.Parts) == 1 && t.Parts[0].Expr != nil && strings.HasPrefix(s, templateOpen) && strings.HasSuffix(s, templateClose)
	return t
}

// exprPos is the position of byte at of a scalar's value, exact on a scalar's first line
// when it is plain or quoted without escapes before that point; elsewhere the scalar's
// start, the closest position that is certainly right.
func (d *decoder) exprPos(n *yaml.Node, s string, at int) Pos {
	p := d.pos(n)
	before := s[:at]
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle || strings.Contains(before, "\n") ||
		strings.ContainsAny(before, `\'`) {
		return p
	}
	p.Col += utf8.RuneCountInString(before)
	if n.Style == yaml.SingleQuotedStyle || n.Style == yaml.DoubleQuotedStyle {
		p.Col++
	}
	return p
}

// PathString writes a params path as YAML readers see it: a.b[2].c
func PathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(p))
			b.WriteByte(']')
		}
	}
	return b.String()
}
