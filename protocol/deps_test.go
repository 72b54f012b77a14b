package protocol_test

// DESIGN.md §2 for protocol/ is a tested contract: the engine's tiers
// (jid and internal/*; stanza stream sasl dial; session mux; one package per
// feature, building on forward, delay, rsm, form and pubsub; client), that
// only tests import protocol/xmpptest, and that the engine never reaches
// crypto, storage, the GUI or the binaries.
//
// The rule table and the checker for every tree live in cmd/depcheck (one
// implementation, table-tested in cmd/depcheck/main_test.go); this test runs
// it on protocol/. Change the rules there, not here.

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependencyRules runs cmd/depcheck on protocol/ from the module root and
// fails with its report when a rule is broken.
func TestDependencyRules(t *testing.T) {
	gomod, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", "github.com/tern-im/tern/cmd/depcheck", "protocol")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./cmd/depcheck protocol: %v\n%s", err, out)
	}
}
