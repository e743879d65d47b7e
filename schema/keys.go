package schema

// Keys lists, for each kind of object in a workflow file, the keys the decoder knows, in
// the order the documentation presents them. The JSON Schema's $defs use the same object
// names and properties; a test keeps the two in step so they cannot drift.
var Keys = map[string][]string{
	"workflow": {"version", "name", "description", "start", "params", "input", "output", "env", "error_handler", "max_steps", "limits", "breakers", "nodes", "scenarios", "tests"},
	"breaker":  {"failure_threshold", "open_timeout", "half_open_max_calls", "count"},
	"node": {"type", "description", "params", "retry", "breaker", "timeout", "bulkhead", "fallback", "hooks", "on",
		"items", "max_concurrency", "tolerated_failures", "body", "branches", "join", "fail_fast", "workflow", "input"},
	"body":      {"description", "start", "nodes", "output"},
	"retry":     {"attempts", "delay", "backoff", "multiplier", "max_delay", "jitter", "max_duration", "on"},
	"bulkhead":  {"max_concurrent", "max_wait"},
	"param":     {"type", "default", "description"},
	"hooks":     {"before_prep", "after_exec", "on_error"},
	"hook":      {"when", "assert", "message", "set", "action"},
	"edge":      {"to", "when"},
	"scenario":  {"description", "params", "faults"},
	"fault":     {"rate", "kind", "message", "latency", "latency_rate", "script"},
	"faultStep": {"calls", "fail", "latency", "message"},
	"test":      {"name", "scenario", "seed", "params", "input", "expect"},
	"expect":    {"status", "path", "visited", "not_visited", "output", "shared"},
	"input":     {"type", "description", "properties", "required", "additionalProperties"},
	// inputProperty keys are the JSON Schema keywords an input property may use.
	"inputProperty": {"type", "description", "default", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
		"minLength", "maxLength", "pattern", "format", "items", "minItems", "maxItems", "properties", "required", "additionalProperties"},
	"limits": {"expr_steps", "expr_bytes"},
	"envVar": {"name", "default", "secret"},
}

// ErrorKinds are the error kinds a workflow may name in retry.on, breaker count lists and
// faults. Package engine defines the same kinds as typed constants; a test keeps them equal.
var ErrorKinds = []string{"network", "timeout", "resource", "data", "circuit_open", "canceled", "internal", "failed", "limit"}

// Statuses are the final statuses a run can end with (and a test can expect).
var Statuses = []string{"success", "degraded", "failed", "canceled"}

// DefaultMaxSteps bounds a run's node visits when the workflow does not say.
const DefaultMaxSteps = 1000
