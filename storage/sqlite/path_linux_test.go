package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tern-im/tern/storage/sqlite"
)

// TestDefaultPathFromEnvironment follows XDG_DATA_HOME, which is Linux's
// (the other platforms' paths are covered by the table test).
func TestDefaultPathFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	p, err := sqlite.DefaultPath()
	if err != nil || p != filepath.Join(dir, "tern", "tern.db") {
		t.Fatalf("DefaultPath = %q, %v", p, err)
	}
	// Open creates the directory.
	db := openAt(t, p, sqlite.Options{})
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v, %v", fi, err)
	}
	db.Close()
}
