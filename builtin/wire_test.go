package builtin

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestInputsAndResultsSurviveJSON checks that each built-in type's exec input and result
// come back unchanged from encoding/json into the types the node type declares, as a
// backend running exec in another process needs. Every case sets every field, so a
// field added without a JSON form fails here.
func TestInputsAndResultsSurviveJSON(t *testing.T) {
	recs := []Record{{ID: 1, Value: 7, Timestamp: "2025-01-01T00:00:00Z", Source: "primary_api"}}
	done := []Processed{{ID: 1, Value: 14, Quality: 0.75}}
	inputs := map[string]any{
		"data_collector":    collectInput{Batch: 50},
		"fallback_data":     FallbackResult{Records: recs, Count: 1, Origin: "cache", Age: "3s"},
		"processor":         processInput{Records: recs, FailureRate: 0.1, MinSuccess: 0.9},
		"partial_processor": recs,
		"delivery":          deliveryInput{Records: done, Override: 0.5},
		"alternate_delivery": alternateInput{Dir: "/tmp/alt", File: "run-1.json", Private: true,
			Payload: alternatePayload{Workflow: "w", Seed: 3, Records: done}},
		"completion": CompletionReport{Processed: 1, Delivered: 1, Alternate: 1, Mode: "full", Source: "primary_api", Verdict: "delivered"},
		"error_handler": ErrorReport{Cause: "c", CauseKind: "network", ByKind: map[string]int{"network": 1}, Warnings: []string{"w"},
			Recommendations: []string{"r"}, CleanedUp: []string{"records"}, Status: "failed"},
	}
	results := map[string]any{
		"data_collector":     CollectResult{Records: recs, Count: 1, Source: "primary_api"},
		"fallback_data":      inputs["fallback_data"],
		"processor":          ProcessResult{Processed: done, Failed: []int{2}, Total: 2, SuccessRate: 0.5},
		"partial_processor":  ProcessResult{Processed: done, Failed: []int{2}, Total: 2, SuccessRate: 0.5},
		"delivery":           DeliveryResult{Channels: []ChannelResult{{Name: "primary", Status: "delivered", Delivered: 1}}, Delivered: 1, Total: 1},
		"alternate_delivery": AlternateResult{Dir: "/tmp/alt", File: "run-1.json", Records: 1},
		"completion":         inputs["completion"],
		"error_handler":      inputs["error_handler"],
	}
	reg := Registry(Options{})
	for _, name := range reg.Names() {
		nt, _ := reg.Lookup(name)
		for what, c := range map[string]struct{ declared, value any }{
			"input":  {nt.Input, inputs[name]},
			"result": {nt.Result, results[name]},
		} {
			if c.value == nil {
				t.Errorf("type %s: no %s case; add one", name, what)
				continue
			}
			if c.declared == nil || reflect.TypeOf(c.declared) != reflect.TypeOf(c.value) {
				t.Errorf("type %s declares %s %T, but its %s is %T", name, what, c.declared, what, c.value)
				continue
			}
			if v := reflect.ValueOf(c.value); v.Kind() == reflect.Struct {
				for i := range v.NumField() {
					if v.Field(i).IsZero() {
						t.Errorf("type %s: the %s case leaves field %s unset", name, what, v.Type().Field(i).Name)
					}
				}
			}
			data, err := json.Marshal(c.value)
			if err != nil {
				t.Fatalf("type %s %s: %v", name, what, err)
			}
			back := reflect.New(reflect.TypeOf(c.declared))
			if err := json.Unmarshal(data, back.Interface()); err != nil {
				t.Fatalf("type %s %s: %v", name, what, err)
			}
			if !reflect.DeepEqual(back.Elem().Interface(), c.value) {
				t.Errorf("type %s: the round trip changed its %s:\n got  %#v\n want %#v", name, what, back.Elem().Interface(), c.value)
			}
		}
	}
}
