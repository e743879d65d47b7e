package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestUICommand: kgrun ui refuses what it must (an address off loopback without
// --allow-remote, arguments, --state none, a missing store), serves the runs page of
// the store it is given, and stops cleanly when its context ends (Ctrl-C).
func TestUICommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "0.0.0.0:7878", "--state", db}, "not a loopback address"},
		{[]string{"extra", "--state", db}, "takes no arguments"},
		{[]string{"--state", "none"}, "--state none has none"},
		{[]string{"--state", filepath.Join(dir, "absent.db"), "--addr", "127.0.0.1:0"}, "no store at"},
	} {
		_, errText, code := kgrun(t, append([]string{"ui"}, c.args...)...)
		if code == exitOK || !strings.Contains(errText, c.want) {
			t.Errorf("kgrun ui %v: exit %d, %q; want a refusal saying %q", c.args, code, errText, c.want)
		}
	}
	if _, errText, code := kgrun(t, "testdata/valid/every_key.yaml", "--virtual-time", "--state", db, "--set", "alternate_dir="+dir,
		"--input-json", `{"label":"ui"}`); code != exitOK {
		t.Fatalf("recording a run: exit %d: %s", code, errText)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"ui", "--state", db, "--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("kgrun ui printed %q: %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.Fields(line[strings.Index(line, "http://"):])[0]
	resp, err := http.Get(url + "runs/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<pre id="output">{
  &#34;label&#34;: &#34;ui&#34;`) {
		t.Errorf("GET %sruns/1: %d\n%s", url, resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("kgrun ui ended with exit %d after its context ended", code)
	}
}
