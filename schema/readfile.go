package schema

import (
	"io"
	"os"
)

// ReadFile reads a workflow file, refusing it without reading further once it passes
// limits.MaxBytes, so that a huge file or a device such as /dev/zero costs at most the
// limit in memory. The diagnostic names the file and says what to do.
func ReadFile(path string, limits Limits) ([]byte, Diagnostics) {
	var ds Diagnostics
	f, err := os.Open(path)
	if err != nil {
		ds.Errorf(Pos{File: path}, "check the path", "cannot read workflow: %v", err)
		return nil, ds
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limits.MaxBytes)+1))
	if err != nil {
		ds.Errorf(Pos{File: path}, "check the path", "cannot read workflow: %v", err)
		return nil, ds
	}
	if len(data) > limits.MaxBytes {
		ds.Errorf(Pos{File: path, Line: 1, Col: 1}, tooBigHint, "file is more than the limit of %d bytes", limits.MaxBytes)
		return nil, ds
	}
	return data, nil
}

const tooBigHint = "split the workflow or raise the limit in the embedding program"
