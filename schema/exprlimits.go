package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ExprLimits bound every evaluation of an expression (guards, when, assert, set): steps
// are closure iterations and elements walked by builtins, bytes the strings, lists and
// maps the evaluation builds. A workflow sets them under its top-level limits: key.
type ExprLimits struct {
	Pos   Pos
	Steps int64
	Bytes int64
}

// Defaults and bounds of the expression limits. The hard caps keep one evaluation within
// seconds and a fraction of a machine's memory whatever a file asks; the floors keep the
// load-time cost estimate (which notes costs from them up) meaningful.
const (
	DefaultExprSteps = 1_000_000
	DefaultExprBytes = 32 << 20
	MaxExprSteps     = 100_000_000
	MaxExprBytes     = 1 << 30
	MinExprSteps     = 1000
	MinExprBytes     = 64 << 10
)

// DefaultExprLimits are the limits of a workflow that declares none.
var DefaultExprLimits = ExprLimits{Steps: DefaultExprSteps, Bytes: DefaultExprBytes}

func (d *decoder) exprLimits(n *yaml.Node) ExprLimits {
	l := DefaultExprLimits
	o := d.mapping(n, "limits", "limits")
	if o == nil {
		return l
	}
	l.Pos = d.pos(o.node)
	if v := o.get("expr_steps"); v != nil {
		if s, ok := d.int64(v, "limits: expr_steps"); ok && d.inRange(v, "limits: expr_steps", s, MinExprSteps, MaxExprSteps, "steps") {
			l.Steps = s
		}
	}
	if v := o.get("expr_bytes"); v != nil {
		if b, ok := d.size(v, "limits: expr_bytes"); ok && d.inRange(v, "limits: expr_bytes", b, MinExprBytes, MaxExprBytes, "bytes") {
			l.Bytes = b
		}
	}
	return l
}

func (d *decoder) inRange(n *yaml.Node, what string, v, lo, hi int64, unit string) bool {
	switch {
	case v < lo:
		d.diags.Errorf(d.pos(n), fmt.Sprintf("use at least %d", lo), "%s is %d %s, below the floor of %d", what, v, unit, lo)
	case v > hi:
		d.diags.Errorf(d.pos(n), fmt.Sprintf("use at most %d (the hard cap)", hi), "%s is %d %s, over the hard cap of %d", what, v, unit, hi)
	default:
		return true
	}
	return false
}

// sizeUnits are the suffixes a size may carry, binary and decimal.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000_000}, {"GB", 1000_000_000}, {"B", 1},
}

// size decodes a byte count: a whole number, or a number with a unit (64KiB, 32MiB, 1GB).
func (d *decoder) size(n *yaml.Node, what string) (int64, bool) {
	s := d.scalar(n, what, "a size")
	if s == nil {
		return 0, false
	}
	if v, ok := ParseSize(s.Value); ok {
		return v, true
	}
	d.diags.Errorf(d.pos(s), "write a whole number of bytes or one with a unit: 64KiB, 32MiB, 1GiB", "%s must be a size, not %q", what, s.Value)
	return 0, false
}

// ParseSize reads a byte count written as a whole number, optionally followed by B, KB,
// MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func ParseSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > math.MaxInt64/factor {
		return 0, false
	}
	return v * factor, true
}
