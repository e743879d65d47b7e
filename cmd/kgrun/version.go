package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

func newVersionFlags() *flag.FlagSet { return flag.NewFlagSet("version", flag.ContinueOnError) }

// versionCommand prints what the binary was built from, as the Go toolchain recorded it.
func versionCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	pos, code, ok := parseCommand(ctx, newVersionFlags(), args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(stderr, "version", fmt.Errorf("takes no arguments"))
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(stdout, "kgrun (no build information: built without module support)")
		return exitOK
	}
	fmt.Fprint(stdout, versionText(bi))
	return exitOK
}

// versionText writes the module version, the version-control revision, its time and
// whether the tree had changes (when the build recorded them: go build inside a
// checkout does, go run and go test do not), and the Go version.
func versionText(bi *debug.BuildInfo) string {
	version := bi.Main.Version
	if version == "" {
		version = "(unknown)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "kgrun %s\n", version)
	if bi.Main.Path != "" {
		fmt.Fprintf(&b, "  module    %s\n", bi.Main.Path)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "  revision  %s\n", rev)
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "  time      %s\n", t)
	}
	fmt.Fprintf(&b, "  go        %s\n", bi.GoVersion)
	return termLines(b.String())
}
