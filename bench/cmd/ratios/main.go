// Command ratios reads the output of `go test -bench` over the bench module and prints
// a markdown table of medians: for every case, each implementation's ns/op, B/op and
// allocs/op, and for each kgrun implementation its ratio to every reference (the
// hand-written baseline and each peer) of the same case.
//
// Usage: go test -run '^$' -bench . -benchmem -count 5 | go run ./cmd/ratios [FILE...]
// (standard input when no file is named).
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "ratios: %v\n", err)
		os.Exit(1)
	}
}

func run(files []string, stdin io.Reader, stdout io.Writer) error {
	var all results
	if len(files) == 0 {
		if err := all.read("standard input", stdin); err != nil {
			return err
		}
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		err = all.read(f, fh)
		fh.Close()
		if err != nil {
			return err
		}
	}
	if len(all.cases) == 0 {
		return fmt.Errorf("no benchmark results in the input; pipe in the output of go test -bench . -benchmem")
	}
	_, err := io.WriteString(stdout, all.table())
	return err
}
