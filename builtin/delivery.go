package builtin

import (
	"context"
	"fmt"

	"github.com/kgrun/kgrun/engine"
)

// Channel is one delivery channel.
type Channel struct {
	Name        string  `json:"name"`
	FailureRate float64 `json:"failure_rate"`
	// Capacity is the most records the channel takes in one delivery (0: unlimited).
	Capacity int `json:"capacity,omitempty"`
}

// ChannelResult is what happened on one channel.
type ChannelResult struct {
	Name      string `json:"name" expr:"name"`
	Status    string `json:"status" expr:"status"` // delivered, failed, skipped
	Delivered int    `json:"delivered" expr:"delivered"`
}

// DeliveryResult is what delivery's exec returns.
type DeliveryResult struct {
	Channels  []ChannelResult `json:"channels" expr:"channels"`
	Delivered int             `json:"delivered" expr:"delivered"`
	Total     int             `json:"total" expr:"total"`
}

// Complete reports whether every record was delivered.
func (d DeliveryResult) Complete() bool { return d.Delivered == d.Total }

// delivery tries its channels in order; each takes as many of the remaining records as
// its capacity allows or fails as a whole. It stops when everything is delivered. A run
// where some records could not be delivered emits delivery_failed.
type delivery struct {
	channels []Channel
}

// defaultChannels are the example's channels and their simulated failure rates.
var defaultChannels = []Channel{{Name: "primary", FailureRate: 0.1}, {Name: "secondary", FailureRate: 0.2}, {Name: "backup", FailureRate: 0.05}}

func deliveryType() engine.NodeType {
	return engine.NodeType{
		Name:     "delivery",
		Doc:      "delivers processed records over ordered channels with failover; detects partial delivery",
		Actions:  []string{"success", "delivery_failed"},
		Failures: []string{"delivery_failed"},
		Result:   DeliveryResult{},
		Input:    deliveryInput{},
		Params:   deliveryParams,
		New: func(s engine.NodeSpec) (engine.Node, error) {
			chs, err := parseChannels(s.Params["channels"])
			if err != nil {
				return nil, err
			}
			return &delivery{channels: chs}, nil
		},
	}
}

func parseChannels(v any) ([]Channel, error) {
	if v == nil {
		return defaultChannels, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("param channels must be a non-empty list of channel names or {name, failure_rate, capacity}")
	}
	var out []Channel
	seen := map[string]bool{}
	for i, item := range list {
		var ch Channel
		switch x := item.(type) {
		case string:
			ch = Channel{Name: x, FailureRate: 0.1}
			for _, d := range defaultChannels {
				if d.Name == x {
					ch = d
				}
			}
		case map[string]any:
			get := mapGetter(x)
			for k := range x {
				if k != "name" && k != "failure_rate" && k != "capacity" {
					return nil, fmt.Errorf("channels[%d]: unknown key %q (known: name, failure_rate, capacity)", i, k)
				}
			}
			name, err := stringParam(get, "name", "")
			if err != nil || name == "" {
				return nil, fmt.Errorf("channels[%d]: a channel needs a name", i)
			}
			rate, err := floatParam(get, "failure_rate", 0.1, 0, 1)
			if err != nil {
				return nil, fmt.Errorf("channels[%d]: %w", i, err)
			}
			capacity, err := intParam(get, "capacity", 0, 0, 1_000_000_000)
			if err != nil {
				return nil, fmt.Errorf("channels[%d]: %w", i, err)
			}
			ch = Channel{Name: name, FailureRate: rate, Capacity: capacity}
		default:
			return nil, fmt.Errorf("channels[%d] must be a name or a mapping, not %v", i, item)
		}
		if seen[ch.Name] {
			return nil, fmt.Errorf("channel %q is listed twice", ch.Name)
		}
		seen[ch.Name] = true
		out = append(out, ch)
	}
	return out, nil
}

// deliveryInput survives encoding/json, for a backend that runs exec elsewhere.
type deliveryInput struct {
	Records  []Processed `json:"records"`
	Override float64     `json:"override"` // delivery_failure_rate for every channel, or -1
}

func (d *delivery) Prep(v *engine.Visit) (any, error) {
	recs, err := processedFrom(v)
	if err != nil {
		return nil, err
	}
	rate, err := floatParam(v.Param, "delivery_failure_rate", -1, -1, 1)
	if err != nil {
		return nil, engine.WithKind(engine.Data, err)
	}
	return deliveryInput{Records: recs, Override: rate}, nil
}

func (d *delivery) Exec(_ context.Context, a *engine.Attempt, in any) (any, error) {
	p := in.(deliveryInput)
	rng := a.Rand()
	res := DeliveryResult{Total: len(p.Records)}
	remaining := len(p.Records)
	for _, ch := range d.channels {
		if remaining == 0 {
			res.Channels = append(res.Channels, ChannelResult{Name: ch.Name, Status: "skipped"})
			continue
		}
		rate := ch.FailureRate
		if p.Override >= 0 {
			rate = p.Override
		}
		if rng.Float64() < rate {
			res.Channels = append(res.Channels, ChannelResult{Name: ch.Name, Status: "failed"})
			continue
		}
		n := remaining
		if ch.Capacity > 0 {
			n = min(n, ch.Capacity)
		}
		remaining -= n
		res.Delivered += n
		res.Channels = append(res.Channels, ChannelResult{Name: ch.Name, Status: "delivered", Delivered: n})
	}
	return res, nil
}

func (d *delivery) Post(v *engine.Visit, _, out any) (string, error) {
	r := out.(DeliveryResult)
	v.Set("delivery", r)
	for _, c := range r.Channels {
		if c.Status == "failed" && r.Delivered > 0 {
			v.Degrade("channel " + c.Name + " failed; delivery failed over")
		}
	}
	if !r.Complete() {
		return "delivery_failed", nil
	}
	return "success", nil
}
