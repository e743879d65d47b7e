//go:build unix

package builtin

import (
	"os"
	"syscall"
)

// ownedByMe reports whether this process's user owns the file, and its owner's uid.
func ownedByMe(fi os.FileInfo) (uid int, mine bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), int(st.Uid) == os.Getuid()
}
