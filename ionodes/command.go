package ionodes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// MaxCommandOutput bounds what is kept of a command's stdout and of its stderr.
const MaxCommandOutput = 1 << 20

// DefaultKillGrace is how long a command has between SIGTERM and SIGKILL.
const DefaultKillGrace = 5 * time.Second

// CommandResult is what a command node's Exec returns and its Post stores under the
// node's name in the shared store.
type CommandResult struct {
	ExitCode int `json:"exit_code" expr:"exit_code"`
	// Stdout and Stderr are the output, each cut at MaxCommandOutput with a note saying
	// how much was dropped.
	Stdout string `json:"stdout" expr:"stdout"`
	Stderr string `json:"stderr" expr:"stderr"`
	// JSON is stdout decoded, when output is json.
	JSON any `json:"json,omitempty" expr:"json"`
}

var commandParams = []engine.Param{
	{Name: "argv", Type: engine.ParamList, Items: engine.ParamString, Required: true, Doc: "the program and its arguments; no shell is involved"},
	{Name: "env", Type: engine.ParamMap, Items: engine.ParamScalar, Doc: "environment variables added to kgrun's own"},
	{Name: "dir", Type: engine.ParamString, Doc: "the working directory; default kgrun's"},
	{Name: "stdin", Type: engine.ParamString, Doc: "text written to the program's standard input"},
	{Name: "output", Type: engine.ParamString, Default: "text", Allowed: []any{"text", "json"}, Doc: "json decodes stdout into the result's json"},
	{Name: "exit_codes", Type: engine.ParamMap, Items: engine.ParamString,
		Doc: `exit code to error kind ("success" for none); unlisted: 0 succeeds, anything else is failed`},
	{Name: "kill_grace", Type: engine.ParamDuration, Default: DefaultKillGrace.String(), Doc: "time between SIGTERM and SIGKILL when the attempt is cut"},
}

func commandType() engine.NodeType {
	return engine.NodeType{
		Name:    "command",
		Doc:     "runs a program without a shell; a timeout or cancellation ends its whole process group",
		Actions: []string{"success"},
		Result:  CommandResult{},
		Input:   (*commandCall)(nil),
		Params:  commandParams,
		New:     func(engine.NodeSpec) (engine.Node, error) { return commandNode{}, nil },
	}
}

type commandNode struct{}

// commandCall is a command prepared from the params, exported field by field so a
// backend can carry it as JSON to the process that runs the command.
type commandCall struct {
	Argv []string `json:"argv"`
	// Env holds only the env param's "NAME=value" pairs: the environment they are added
	// to is that of the process running the command, read when it starts.
	Env   []string `json:"env"`
	Dir   string   `json:"dir"`
	Stdin string   `json:"stdin"`
	JSON  bool     `json:"json"`
	// ExitKinds maps exit codes to kinds; "" means success.
	ExitKinds map[int]engine.Kind `json:"exit_kinds"`
	Grace     time.Duration       `json:"grace"`
}

func (commandNode) Prep(v *engine.Visit) (any, error) { return prepCommand(v.Param) }

func prepCommand(get getter) (*commandCall, error) {
	c := &commandCall{}
	var err error
	if c.Argv, err = stringList(get, "argv"); err != nil {
		return nil, err
	}
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return nil, paramErr("param argv must name a program: a non-empty list")
	}
	env, err := stringMap(get, "env")
	if err != nil {
		return nil, err
	}
	for _, kv := range env {
		c.Env = append(c.Env, kv[0]+"="+kv[1])
	}
	if c.Dir, err = str(get, "dir", ""); err != nil {
		return nil, err
	}
	if c.Stdin, err = str(get, "stdin", ""); err != nil {
		return nil, err
	}
	output, err := str(get, "output", "text")
	if err != nil {
		return nil, err
	}
	switch output {
	case "text":
	case "json":
		c.JSON = true
	default:
		return nil, paramErr("param output must be text or json, not %q", output)
	}
	if c.ExitKinds, err = exitKinds(get); err != nil {
		return nil, err
	}
	if c.Grace, err = duration(get, "kill_grace", DefaultKillGrace); err != nil {
		return nil, err
	}
	return c, nil
}

func exitKinds(get getter) (map[int]engine.Kind, error) {
	pairs, err := stringMap(get, "exit_codes")
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	out := make(map[int]engine.Kind, len(pairs))
	for _, kv := range pairs {
		code, err := strconv.Atoi(kv[0])
		if err != nil || code < 0 || code > 255 {
			return nil, paramErr("param exit_codes: %q is not an exit code (0 to 255)", kv[0])
		}
		if kv[1] == "success" {
			out[code] = ""
			continue
		}
		kind := engine.Kind(kv[1])
		known := false
		for _, k := range engine.Kinds {
			known = known || k == kind
		}
		if !known {
			names := []string{"success"}
			for _, k := range engine.Kinds {
				names = append(names, string(k))
			}
			sort.Strings(names)
			return nil, paramErr("param exit_codes: %d maps to %q, which is none of %s", code, kv[1], strings.Join(names, ", "))
		}
		out[code] = kind
	}
	return out, nil
}

// Exec returns a CommandResult, the declared Result, so a backend decodes the same type.
func (commandNode) Exec(ctx context.Context, _ *engine.Attempt, in any) (any, error) {
	res, err := runCommand(ctx, in.(*commandCall))
	if err != nil {
		return nil, err
	}
	return *res, nil
}

func runCommand(ctx context.Context, c *commandCall) (*CommandResult, error) {
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	cmd.Dir = c.Dir
	if c.Stdin != "" {
		cmd.Stdin = strings.NewReader(c.Stdin)
	}
	stdout, stderr := &cappedBuffer{limit: MaxCommandOutput}, &cappedBuffer{limit: MaxCommandOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// The whole process group is ended: SIGTERM when the attempt is cut, SIGKILL when
	// the grace period is over, and SIGKILL to whatever of the group is left once the
	// program has exited, so that no child outlives the attempt.
	inGroup(cmd)
	cmd.Cancel = func() error { return signalGroup(cmd, sigTerm) }
	cmd.WaitDelay = c.Grace
	err := cmd.Start()
	if err != nil {
		return nil, engine.Errorf(engine.Data, "start %s: %v", c.Argv[0], err)
	}
	err = cmd.Wait()
	_ = signalGroup(cmd, sigKill)
	res := &CommandResult{ExitCode: cmd.ProcessState.ExitCode(), Stdout: stdout.text("stdout"), Stderr: stderr.text("stderr")}
	if ctx.Err() != nil {
		kind := engine.Canceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			kind = engine.Timeout
		}
		return nil, engine.WithKind(kind, fmt.Errorf("%s: ended with its process group: %w", c.Argv[0], context.Cause(ctx)))
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) && !errors.Is(err, exec.ErrWaitDelay) {
		return nil, engine.Errorf(engine.Failed, "%s: %v", c.Argv[0], err)
	}
	if res.ExitCode < 0 {
		return nil, engine.Errorf(engine.Failed, "%s: %v", c.Argv[0], cmd.ProcessState)
	}
	kind, listed := c.ExitKinds[res.ExitCode]
	if !listed && res.ExitCode != 0 {
		kind = engine.Failed
	}
	if kind != "" {
		return nil, engine.Errorf(kind, "%s exited with code %d%s", c.Argv[0], res.ExitCode, stderrTail(stderr))
	}
	if c.JSON {
		if stdout.dropped > 0 {
			return nil, engine.Errorf(engine.Data, "%s: stdout is longer than %d bytes and cannot be decoded as JSON", c.Argv[0], MaxCommandOutput)
		}
		if err := json.Unmarshal(stdout.Bytes(), &res.JSON); err != nil {
			return nil, engine.Errorf(engine.Data, "%s: stdout is not JSON: %v", c.Argv[0], err)
		}
	}
	return res, nil
}

func stderrTail(b *cappedBuffer) string {
	if s := snippet(bytes.TrimSpace(b.Bytes())); s != "" {
		return ": " + s
	}
	return ""
}

// Post stores a *CommandResult, as the shared store has always held.
func (commandNode) Post(v *engine.Visit, _, out any) (string, error) {
	res := out.(CommandResult)
	v.Set(v.Node(), &res)
	return "success", nil
}

// cappedBuffer keeps the first limit bytes written and counts the rest. (It holds its
// buffer in a field, not embedded, so that bytes.Buffer's ReadFrom cannot bypass the cap.)
type cappedBuffer struct {
	buf     bytes.Buffer
	limit   int
	dropped int64
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.limit - b.buf.Len()
	if room < len(p) {
		b.dropped += int64(len(p) - max(room, 0))
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

// ReadFrom keeps the first bytes and counts the rest; exec's copy uses it, which saves
// the 32 KiB buffer io.Copy would allocate per stream.
func (b *cappedBuffer) ReadFrom(r io.Reader) (int64, error) {
	n, err := b.buf.ReadFrom(io.LimitReader(r, int64(max(b.limit-b.buf.Len(), 0))))
	if err != nil {
		return n, err
	}
	d, err := io.Copy(io.Discard, r)
	b.dropped += d
	return n + d, err
}

// Bytes returns what was kept.
func (b *cappedBuffer) Bytes() []byte { return b.buf.Bytes() }

// text is the output with a note when it was cut.
func (b *cappedBuffer) text(name string) string {
	if b.dropped == 0 {
		return b.buf.String()
	}
	return fmt.Sprintf("%s\n[%s cut at %d bytes: %d more dropped]", b.buf.String(), name, b.limit, b.dropped)
}
