package main

import (
	"fmt"
	"io"
	"os"

	"github.com/kgrun/kgrun/schema"
)

// stdin is where --input - reads from.
var stdin io.Reader = os.Stdin

// maxInputBytes bounds a run's input as read from a file or stdin.
const maxInputBytes = 16 << 20

// readInput reads a run's input from --input FILE (- for stdin) or --input-json TEXT;
// nil when neither is given.
func readInput(file, text string, in io.Reader) (map[string]any, error) {
	switch {
	case file != "" && text != "":
		return nil, fmt.Errorf("give the input once: --input FILE or --input-json TEXT, not both")
	case text != "":
		m, err := schema.ParseInput([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("--input-json: %w", err)
		}
		return m, nil
	case file == "":
		return nil, nil
	}
	name := file
	if file == "-" {
		name = "stdin"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--input: %w", err)
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(io.LimitReader(in, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--input: reading %s: %w", name, err)
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("--input: %s holds more than %d MiB; pass a smaller input, or a path to the data in it", name, maxInputBytes>>20)
	}
	m, err := schema.ParseInput(data)
	if err != nil {
		return nil, fmt.Errorf("--input %s: %w", name, err)
	}
	return m, nil
}
