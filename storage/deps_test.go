package storage_test

// DESIGN.md §2 for storage/ is a tested contract: storage implements
// interfaces of the engine and of crypto and never reaches the GUI.
//
// The rule table and the checker for every tree live in cmd/depcheck (one
// implementation, table-tested in cmd/depcheck/main_test.go); this test runs
// it on storage/. Change the rules there, not here.

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependencyRules runs cmd/depcheck on storage/ from the module root and
// fails with its report when a rule is broken.
func TestDependencyRules(t *testing.T) {
	gomod, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", "github.com/tern-im/tern/cmd/depcheck", "storage")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./cmd/depcheck storage: %v\n%s", err, out)
	}
}
