//go:build !unix && !windows

package sqlite

import (
	"fmt"
	"io"
	"runtime"
)

// lockFile is not implemented on this platform: Open refuses rather than
// risk two processes writing one database.
func lockFile(path string) (io.Closer, error) {
	return nil, fmt.Errorf("lock %s: file locking is not supported on %s", path, runtime.GOOS)
}
