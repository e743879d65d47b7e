package builtin

import (
	"bytes"
	"context"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// traceOf runs the flagship workflow on virtual time and returns its JSON-lines trace.
func traceOf(t *testing.T, scenario string, seed int64) []byte {
	t.Helper()
	g, ds := engine.LoadFile("../workflows/fault_tolerant.yaml", Registry(Options{}))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	var buf bytes.Buffer
	tr := engine.NewJSONLines(&buf)
	res, err := g.Run(context.Background(), engine.RunOptions{Scenario: scenario, Seed: seed, Tracer: tr,
		Clock: engine.NewVirtualClock(engine.Epoch), Params: map[string]any{"alternate_dir": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status == engine.StatusFailed {
		t.Errorf("scenario %q seed %d failed: %v", scenario, seed, res.Err)
	}
	return buf.Bytes()
}

func TestSameSeedSameTrace(t *testing.T) {
	for _, sc := range []string{"", "network", "processing", "storage", "random"} {
		a, b := traceOf(t, sc, 7), traceOf(t, sc, 7)
		if !bytes.Equal(a, b) {
			t.Errorf("scenario %q: seed 7 gave two different traces", sc)
		}
		differs := false
		for seed := int64(8); seed < 20 && !differs; seed++ {
			differs = !bytes.Equal(a, traceOf(t, sc, seed))
		}
		if !differs {
			t.Errorf("scenario %q: seeds 7 to 19 all gave the same trace; the seed is not used", sc)
		}
	}
}
