package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultPath is the store a user's runs share unless told otherwise:
// $XDG_STATE_HOME/kgrun/state.db, else ~/.local/state/kgrun/state.db. One store per
// user, whatever directory kgrun starts in.
func DefaultPath() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "kgrun", "state.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the default store (%v); name one with --state PATH or $KGRUN_STATE", err)
	}
	return filepath.Join(home, ".local", "state", "kgrun", "state.db"), nil
}

// prepareFile makes sure path can hold a store: its directory exists (created 0700 when
// missing) and belongs to this user, and the file exists (created 0600 when missing;
// SQLite gives its -wal and -shm files the same mode).
func prepareFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	if err := checkOwner(dir); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	return f.Close()
}

// errForeign: the store, or its directory, belongs to another user.
var errForeign = errors.New("belongs to another user")

// checkOwner refuses a file or directory another user owns: that user could read the
// runs' data or replace the store.
func checkOwner(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	if uid, ok := ownerUID(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("store %s: %s %w (uid %d); kgrun keeps runs only in files of its own user: name another with --state PATH", path, kindOf(fi), errForeign, uid)
	}
	return nil
}

func kindOf(fi os.FileInfo) string {
	if fi.IsDir() {
		return "directory " + fi.Name()
	}
	return "file " + fi.Name()
}
