package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserUI (KGRUN_BROWSER=1) drives a real headless Chromium against kgrun ui on
// loopback as a person would: the runs page lists a degraded flagship run, its page
// marks fallback_data visited on the graph and lists the retries in the timeline, and a
// run started while the pages are open appears in the list and turns from running to
// success on its own page, with no reload. Screenshots of the runs page and of the
// degraded run's page go to KGRUN_ARTIFACTS (default: the test's temporary directory).
func TestBrowserUI(t *testing.T) {
	if os.Getenv("KGRUN_BROWSER") == "" {
		t.Skip("set KGRUN_BROWSER=1 to drive headless Chromium (/usr/bin/chromium, or KGRUN_CHROMIUM) against kgrun ui")
	}
	browser := os.Getenv("KGRUN_CHROMIUM")
	if browser == "" {
		browser = "/usr/bin/chromium"
	}
	if _, err := os.Stat(browser); err != nil {
		t.Fatalf("KGRUN_BROWSER is set but there is no browser at %s (apt-get install chromium, or set KGRUN_CHROMIUM): %v", browser, err)
	}
	artifacts := os.Getenv("KGRUN_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if abs, err := filepath.Abs(filepath.Join("../..", artifacts)); err == nil && !filepath.IsAbs(artifacts) {
		artifacts = abs // relative to the repository, as .ci/run gives it
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildKgrun(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	kg := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatalf("kgrun %v: %v", args, err)
			}
		}
		return string(out)
	}
	if out := kg("../../workflows/fault_tolerant.yaml", "--simulate-failures", "--failure-type", "network", "--seed", "14",
		"--virtual-time", "--state", db, "--set", "alternate_dir="+dir, "--no-color"); !strings.Contains(out, "DEGRADED") {
		t.Fatalf("the network run did not degrade:\n%s", out)
	}

	server := exec.Command(bin, "ui", "--state", db, "--addr", "127.0.0.1:0")
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { server.Process.Kill(); server.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("kgrun ui printed %q: %v", line, err)
	}
	start := strings.Index(line, "http://")
	if start < 0 {
		t.Fatalf("kgrun ui printed no address: %q", line)
	}
	base := strings.TrimSuffix(strings.Fields(line[start:])[0], "/")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
				return err
			}
			path := filepath.Join(artifacts, name)
			t.Logf("screenshot: %s", path)
			return os.WriteFile(path, png, 0o644)
		})
	}
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// The runs page lists the degraded run; follow it.
	var status string
	run("open the runs page",
		chromedp.Navigate(base+"/runs"),
		chromedp.WaitVisible(`tr[data-run="1"]`),
		chromedp.Text(`tr[data-run="1"] .badge`, &status),
		shot("runs.png"),
		chromedp.Click(`tr[data-run="1"] a[href="/runs/1"]`),
		chromedp.WaitVisible(`#graph svg`),
	)
	if status != "degraded" {
		t.Errorf("the runs page says run 1 is %q", status)
	}
	var visited, fallbackEdge bool
	var retries, attempts int
	run("read the degraded run's page",
		chromedp.Evaluate(`document.querySelector('#graph g.node.ok[data-node="fallback_data"]') !== null`, &visited),
		chromedp.Evaluate(`document.querySelector('#graph g.edge.fallback.taken[data-from="collect"][data-to="fallback_data"]') !== null`, &fallbackEdge),
		chromedp.Evaluate(`document.querySelectorAll('#events tr[data-kind="retry_scheduled"]').length`, &retries),
		chromedp.Evaluate(`document.querySelectorAll('#events tr[data-kind="attempt"]').length`, &attempts),
		shot("degraded-run.png"),
	)
	if !visited || !fallbackEdge {
		t.Errorf("the graph does not mark fallback_data visited (%v) or the fallback edge taken (%v)", visited, fallbackEdge)
	}
	if retries < 2 || attempts <= retries {
		t.Errorf("the timeline shows %d retries in %d attempts; the network run retried collect twice", retries, attempts)
	}

	// A run that waits for a file the test creates: the open list shows it appear, and
	// its own page turns from running to success without a reload.
	gate := filepath.Join(dir, "go")
	wf := filepath.Join(dir, "wait.yaml")
	src := fmt.Sprintf("version: 1\nname: waits\nstart: wait\nnodes:\n  wait:\n    type: command\n    params: {argv: [sh, -c, 'while [ ! -e %s ]; do sleep 0.02; done']}\n", gate)
	if err := os.WriteFile(wf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	run("mark the runs page", chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(`tr[data-run="1"]`),
		chromedp.Evaluate(`window.kgrunMarker = 1`, nil))
	waiting := exec.Command(bin, wf, "--state", db, "--no-color")
	if err := waiting.Start(); err != nil {
		t.Fatal(err)
	}
	defer waiting.Process.Kill()
	var marker int
	run("see the new run appear in the open list",
		chromedp.WaitVisible(`tr[data-run="2"] .badge.status-running`),
		chromedp.Evaluate(`window.kgrunMarker`, &marker),
	)
	if marker != 1 {
		t.Error("the runs page was reloaded instead of updated")
	}
	run("follow the running run",
		chromedp.Click(`tr[data-run="2"] a[href="/runs/2"]`),
		chromedp.WaitVisible(`#status.status-running`),
		chromedp.Evaluate(`window.kgrunMarker = 2`, nil),
	)
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	run("watch it finish", chromedp.WaitVisible(`#status.status-success`), chromedp.Evaluate(`window.kgrunMarker`, &marker))
	if marker != 2 {
		t.Error("the run's page was reloaded instead of updated")
	}
	if err := waiting.Wait(); err != nil {
		t.Errorf("the waiting run: %v", err)
	}
	t.Logf("ran headless Chromium against kgrun ui at %s: runs page, degraded run (%d retries), a run followed live from running to success", base, retries)
}
