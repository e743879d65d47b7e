package engine

import "errors"

// PortableResult is a Result in a form that survives encoding, for carrying it between
// processes (a run on another backend, reported here). Its failures keep their node,
// kind, phase, attempts and message, but not their Go error values.
type PortableResult struct {
	Result
	// Visits is Result.Steps.
	Visits   int               `json:"visits"`
	Failures []PortableFailure `json:"failures,omitempty"`
	// Error is Result.Err, when it is set.
	Error *PortableFailure `json:"error,omitempty"`
	// HasOutput tells an empty output from none, which encoding cannot.
	HasOutput bool `json:"has_output,omitempty"`
}

// PortableFailure is a failure in portable form: a NodeError's fields, or only Message
// for an error that was not a node's.
type PortableFailure struct {
	Node     string `json:"node,omitempty"`
	Kind     Kind   `json:"kind,omitempty"`
	Phase    string `json:"phase,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	Message  string `json:"message"`
}

// Portable returns the result in portable form.
func (r *Result) Portable() *PortableResult {
	p := &PortableResult{Result: *r, Visits: r.steps, HasOutput: r.Output != nil}
	p.Result.Failures, p.Result.Err = nil, nil
	for _, f := range r.Failures {
		p.Failures = append(p.Failures, portableFailure(f))
	}
	if r.Err != nil {
		f := portableFailure(r.Err)
		p.Error = &f
	}
	return p
}

func portableFailure(err error) PortableFailure {
	var ne *NodeError
	if errors.As(err, &ne) {
		msg := ""
		if ne.Err != nil {
			msg = ne.Err.Error()
		}
		return PortableFailure{Node: ne.Node, Kind: ne.Kind, Phase: ne.Phase, Attempts: ne.Attempts, Message: msg}
	}
	return PortableFailure{Kind: KindOf(err), Message: err.Error()}
}

// Restore returns the Result the portable form was made from, its failures rebuilt as
// NodeErrors whose errors carry the original kind and message.
func (p *PortableResult) Restore() *Result {
	r := p.Result
	r.steps = p.Visits
	if p.HasOutput && r.Output == nil {
		r.Output = map[string]any{}
	}
	r.Failures = nil
	for _, f := range p.Failures {
		r.Failures = append(r.Failures, f.nodeError())
	}
	if p.Error != nil {
		ne := p.Error.nodeError()
		if p.Error.Node == "" && p.Error.Phase == "" {
			r.Err = ne.Err
		} else {
			r.Err = ne
		}
	}
	return &r
}

func (f PortableFailure) nodeError() *NodeError {
	return &NodeError{Node: f.Node, Kind: f.Kind, Phase: f.Phase, Attempts: f.Attempts, Err: WithKind(f.Kind, errors.New(f.Message))}
}
