package schema

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestParamTemplates: strings with ${{ }} are split into text and expressions, each
// expression positioned where it starts inside the file, with the path that leads to it.
func TestParamTemplates(t *testing.T) {
	src := `version: 1
name: t
start: a
nodes:
  a:
    type: x
    params:
      whole: "${{ shared.x }}"
      text: pre ${{ node }} mid ${{attempt}} post
      list: [1, {k: '${{ 1 + 2 }}'}]
      spaced: " ${{ node }}"
      plain: no template
`
	w, ds := Decode("t.yaml", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	var got []string
	for _, tp := range w.Nodes[0].Templates {
		var parts []string
		for _, p := range tp.Parts {
			if p.Expr != nil {
				parts = append(parts, "expr("+p.Expr.Source+")@"+strconv.Itoa(p.Expr.Pos.Line)+":"+strconv.Itoa(p.Expr.Pos.Col))
			} else {
				parts = append(parts, strconv.Quote(p.Text))
			}
		}
		got = append(got, PathString(tp.Path)+" whole="+strconv.FormatBool(tp.Whole)+" "+strings.Join(parts, " "))
	}
	want := []string{
		"whole whole=true expr(shared.x)@8:19",
		`text whole=false "pre " expr(node)@9:21 " mid " expr(attempt)@9:36 " post"`,
		"list[1].k whole=true expr(1 + 2)@10:26",
		`spaced whole=false " " expr(node)@11:21`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzParamTemplate decodes arbitrary strings as a node param: decoding never panics,
// every diagnostic has a position, and every expression found is non-empty, positioned
// and part of the string.
func FuzzParamTemplate(f *testing.F) {
	for _, s := range []string{"${{ node }}", "a ${{ x }} b ${{y}}", "${{", "${{ }}", "}}${{", "${{ '}}' }}", "é${{ é }}é", "\\${{ x }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src := "version: 1\nname: t\nstart: a\nnodes:\n  a:\n    type: x\n    params:\n      p: " + strconv.Quote(s) + "\n"
		w, ds := Decode("t.yaml", []byte(src))
		for _, d := range ds {
			if d.Pos.Line < 1 || d.Pos.Col < 1 {
				t.Fatalf("diagnostic without a position: %s", d)
			}
		}
		if w == nil || len(w.Nodes) == 0 {
			return
		}
		for _, tp := range w.Nodes[0].Templates {
			for _, p := range tp.Parts {
				if p.Expr == nil {
					continue
				}
				// YAML reads the quoting of a byte that is not UTF-8 as another character.
				if p.Expr.Source == "" || p.Expr.Pos.Line != 8 || p.Expr.Pos.Col < 10 || (utf8.ValidString(s) && !strings.Contains(s, p.Expr.Source)) {
					t.Fatalf("%q: expression %q at %v", s, p.Expr.Source, p.Expr.Pos)
				}
			}
		}
	})
}
