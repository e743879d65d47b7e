//go:build !unix

package store

import "os"

// ownerUID: files carry no Unix owner here; the directory's ACLs protect the store.
func ownerUID(os.FileInfo) (int, bool) { return 0, false }
