package main

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestDamagedStoreExitCode: a record changed behind kgrun's back is reported with exit
// code 3, naming the store, run and record; the run's neighbours still list and show,
// and kgrun store check names what is damaged.
func TestDamagedStoreExitCode(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	for range 2 {
		if out, errOut, code := kgrun(t, "testdata/valid/durable.yaml", "--virtual-time", "--state", db); code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	}
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE checkpoints SET data = replace(data, 'process', 'procesz') WHERE run = 1 AND seq = 2`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	_, errOut, code := kgrun(t, "show", "1", "--state", db)
	if code != exitDamaged || !strings.Contains(errOut, "store "+db+" is damaged: run 1 checkpoint 2 fails its checksum") {
		t.Errorf("show 1: exit %d, %s", code, errOut)
	}
	_, errOut, code = kgrun(t, "resume", "1", "testdata/valid/durable.yaml", "--from", "3", "--state", db)
	if code != exitDamaged || !strings.Contains(errOut, "run 1 checkpoint 2 fails its checksum") {
		t.Errorf("resume 1: exit %d, %s", code, errOut)
	}
	if out, errOut, code := kgrun(t, "show", "2", "--state", db, "--no-trace"); code != exitOK || !strings.Contains(out, "Status: SUCCESS") {
		t.Errorf("show 2: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := kgrun(t, "store", "check", "--state", db)
	if code != exitDamaged || !strings.Contains(out, "2 runs, ") || !strings.Contains(out, "run 1 checkpoint 2 fails its checksum") ||
		!strings.Contains(out, "1 problem found") {
		t.Errorf("store check: exit %d\n%s%s", code, out, errOut)
	}
	// A run record changed: listed as damaged, the other run listed as usual.
	raw, _ = sql.Open("sqlite", db)
	if _, err := raw.Exec(`UPDATE run_info SET info = replace(info, 'durable.yaml', 'passwd') WHERE run = 2`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, errOut, code = kgrun(t, "runs", "--state", db)
	if code != exitOK || !strings.Contains(out, "2   ?         damaged") || !strings.Contains(out, "1   durable   success") ||
		!strings.Contains(errOut, "run 2 run record fails its checksum") {
		t.Errorf("runs: exit %d\n%s%s", code, out, errOut)
	}
	// Not a store at all.
	notStore := filepath.Join(t.TempDir(), "notes.txt")
	writeFile(t, notStore, "some notes\n")
	_, errOut, code = kgrun(t, "runs", "--state", notStore)
	if code != exitDamaged || !strings.Contains(errOut, "neither SQLite nor a format 1 bbolt store") {
		t.Errorf("runs on a text file: exit %d, %s", code, errOut)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStoreOnFullDisk: a store created where writes fail part-way (a file size limit of
// 4 KB stands in for a full disk) gives a clean error, not a signal; later commands on the
// stub it left give clean errors or work.
func TestStoreOnFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh for ulimit")
	}
	bin := buildKgrun(t)
	db := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.Command("sh", "-c", `ulimit -f 8 && exec "$0" "$@"`, bin, "../../testdata/valid/durable.yaml", "--virtual-time", "--state", db)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := exitCodeOf(t, err)
	if code != exitUsage && code != exitDamaged {
		t.Fatalf("with writes failing: exit %d (%v), stderr:\n%s", code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "store "+db) {
		t.Errorf("the error does not name the store:\n%s", stderr.String())
	}
	for _, args := range [][]string{{"runs", "--state", db}, {"show", "1", "--state", db}, {"store", "check", "--state", db}} {
		out, errOut, code := runBin(t, bin, args...)
		if code != exitOK && code != exitUsage && code != exitDamaged {
			t.Errorf("kgrun %v on the stub: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	if out, errOut, code := runBin(t, bin, "../../testdata/valid/durable.yaml", "--virtual-time", "--state", db); code != exitOK && code != exitDamaged {
		t.Errorf("a run on the stub once space is back: exit %d\n%s%s", code, out, errOut)
	}
}
