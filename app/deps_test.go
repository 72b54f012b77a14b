package app_test

// DESIGN.md §2 for app/ is a tested contract: the GUI talks to the engine
// through protocol/client only, never to storage or the lower protocol
// tiers, keeps the view model (app/model) toolkit-free, and leaves
// fyne.io/fyne/v2/app (the real driver) to cmd/tern so that every GUI
// package, widgets included, tests headless with fyne.io/fyne/v2/test.
//
// The rule table and the checker for every tree live in cmd/depcheck (one
// implementation, table-tested in cmd/depcheck/main_test.go); this test runs
// it on app/. Change the rules there, not here.

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependencyRules runs cmd/depcheck on app/ from the module root and
// fails with its report when a rule is broken.
func TestDependencyRules(t *testing.T) {
	gomod, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", "github.com/tern-im/tern/cmd/depcheck", "app")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./cmd/depcheck app: %v\n%s", err, out)
	}
}
