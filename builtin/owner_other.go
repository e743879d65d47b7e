//go:build !unix

package builtin

import "os"

// ownedByMe has no owner to compare on systems without Unix uids; the directory's
// permissions there are the system's access control lists.
func ownedByMe(os.FileInfo) (uid int, mine bool) { return -1, true }
