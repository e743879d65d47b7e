package ui

import (
	"html/template"
	"strconv"
	"time"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"pct": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) + "%" },
	"ms": func(d time.Duration) string {
		if d >= time.Second {
			return d.Round(time.Millisecond).String()
		}
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
	},
}
