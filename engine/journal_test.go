package engine

import (
	"errors"
	"strings"
	"testing"
)

type journalFunc func(*Checkpoint) error

func (f journalFunc) Commit(cp *Checkpoint) error { return f(cp) }

// TestJournalRefusesValuesItCannotEncode: a shared value that is not JSON-serialisable
// stops a journaled run before it goes on, naming the node and the key.
func TestJournalRefusesValuesItCannotEncode(t *testing.T) {
	g := loadFaulty(t, &faultyNode{out: make(chan int)}, faultyWorkflow)
	commits := 0
	res, _ := runVirtual(t, g, RunOptions{Journal: journalFunc(func(*Checkpoint) error { commits++; return nil })})
	if res.Status != StatusFailed || commits != 0 {
		t.Fatalf("status %s after %d commits", res.Status, commits)
	}
	msg := res.Err.Error()
	for _, want := range []string{`node "work" left shared["work"] holding a chan int`, "cannot be journaled", "store plain data"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if res.Visited("done") {
		t.Error("the run went on after a failed commit")
	}
}

// TestJournalCommitsOnlyChanges: each checkpoint carries the keys its visit changed or
// removed, the next node and the visit's outcome.
func TestJournalCommitsOnlyChanges(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: changes
start: a
nodes:
  a: {type: echo, params: {value: 1}, on: {success: b}}
  b: {type: echo, params: {value: 2}, on: {success: c}}
  c: {type: echo, params: {value: 2}}
`)
	var got []string
	fail := errors.New("disk full")
	res, _ := runVirtual(t, g, RunOptions{Shared: map[string]any{"keep": "x"}, Journal: journalFunc(func(cp *Checkpoint) error {
		line := cp.Step.Node + "→" + cp.Next + ":"
		for _, k := range sortedKeys(anyMap(cp.Set)) {
			line += " " + k + "=" + string(cp.Set[k])
		}
		got = append(got, line)
		if cp.Seq == 3 {
			return fail
		}
		return nil
	})})
	want := []string{"a→b: a=1 keep=\"x\"", "b→c: b=2", "c→: c=2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("checkpoints\n got %q\nwant %q", got, want)
	}
	if res.Status != StatusFailed || !errors.Is(res.Err, fail) || !strings.Contains(res.Err.Error(), "cannot commit visit 3 (c)") {
		t.Fatalf("a failed commit: status %s, err %v", res.Status, res.Err)
	}
}

func anyMap[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestAs: values rebuilt from a journal as generic JSON convert back to their types;
// values that cannot are an error, not a zero value.
func TestAs(t *testing.T) {
	if got, err := As[[]int]([]any{1.0, 2.0}); err != nil || len(got) != 2 || got[1] != 2 {
		t.Fatalf("%v %v", got, err)
	}
	type rec struct {
		ID int `json:"id"`
	}
	if got, err := As[rec](map[string]any{"id": 7.0}); err != nil || got.ID != 7 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := As[int]("seven"); err == nil || !strings.Contains(err.Error(), "a string does not convert to int") {
		t.Fatalf("err %v", err)
	}
}

// mutator is a node whose Post changes the shared store the way its test case says.
type mutator struct {
	echoNode
	post func(v *Visit)
}

func (m *mutator) Post(v *Visit, _, _ any) (string, error) {
	m.post(v)
	return "success", nil
}

// TestJournalCommitsTouchedKeys: a commit encodes only the keys its visit read or
// wrote (or every key once the visit took the whole map), and that still catches a value
// changed in place, a key removed, and leaves untouched keys out.
func TestJournalCommitsTouchedKeys(t *testing.T) {
	cases := []struct {
		name string
		post func(v *Visit)
		want string // the second visit's checkpoint: set keys, then deleted ones
	}{
		{"set", func(v *Visit) { v.Set("n", 2) }, `set n=2`},
		{"set unchanged", func(v *Visit) { v.Set("n", 1) }, `set`},
		{"changed in place after Get", func(v *Visit) {
			m, _ := v.Get("m")
			m.(map[string]any)["k"] = "new"
		}, `set m={"k":"new"}`},
		{"changed in place through Shared", func(v *Visit) { v.Shared()["m"].(map[string]any)["k"] = "new" }, `set m={"k":"new"}`},
		{"removed through Shared", func(v *Visit) { delete(v.Shared(), "n") }, `set deleted n`},
		{"untouched", func(v *Visit) {}, `set`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := testRegistry(t)
			if err := reg.Register(NodeType{Name: "mutate", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) {
				return &mutator{post: c.post}, nil
			}}); err != nil {
				t.Fatal(err)
			}
			g, ds := Load("touch.yaml", []byte("version: 1\nname: touch\nstart: a\nnodes:\n  a: {type: echo, on: {success: b}}\n  b: {type: mutate}\n"), reg)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			var got []string
			res, _ := runVirtual(t, g, RunOptions{Shared: map[string]any{"n": 1, "m": map[string]any{"k": "old"}},
				Journal: journalFunc(func(cp *Checkpoint) error {
					line := "set"
					for _, k := range sortedKeys(anyMap(cp.Set)) {
						if k != "a" {
							line += " " + k + "=" + string(cp.Set[k])
						}
					}
					if len(cp.Deleted) > 0 {
						line += " deleted " + strings.Join(cp.Deleted, ",")
					}
					got = append(got, line)
					return nil
				})})
			if res.Status != StatusSuccess || len(got) != 2 {
				t.Fatalf("status %s, checkpoints %q", res.Status, got)
			}
			if got[0] != `set m={"k":"old"} n=1` {
				t.Errorf("the first checkpoint carries %q: it must carry every initial key", got[0])
			}
			if got[1] != c.want {
				t.Errorf("the second checkpoint carries %q, want %q", got[1], c.want)
			}
		})
	}
}
