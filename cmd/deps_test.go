package cmd_test

// DESIGN.md §1–2 for cmd/ is a tested contract. cmd/* is the composition
// root and may import everything, with three limits: no test infrastructure
// in a binary, the headless tern-cli never links the GUI toolkit, and only
// cmd/tern starts Fyne's real driver (fyne.io/fyne/v2/app). Every run of
// cmd/depcheck also keeps the top level of the module fixed (DESIGN.md §1).
//
// The rule table and the checker for every tree live in cmd/depcheck (one
// implementation, table-tested in cmd/depcheck/main_test.go); this test runs
// it on cmd/. Change the rules there, not here.

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependencyRules runs cmd/depcheck on cmd/ from the module root and
// fails with its report when a rule is broken.
func TestDependencyRules(t *testing.T) {
	gomod, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", "github.com/tern-im/tern/cmd/depcheck", "cmd")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./cmd/depcheck cmd: %v\n%s", err, out)
	}
}
