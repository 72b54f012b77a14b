package cmd_test

// This test makes DESIGN.md §2 for cmd/ a tested contract. cmd/* is the
// composition root and may import everything, with three limits: no test
// infrastructure in a binary, the headless tern-cli never links the GUI
// toolkit, and only cmd/tern starts Fyne's real driver (fyne.io/fyne/v2/app).
// It also keeps the top level of the module fixed (DESIGN.md §1) and the
// copies of the checker in the other deps_test.go files identical.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cmdRules is DESIGN.md §2 for cmd/.
var cmdRules = []rule{
	{
		name:    "cmd (documentation root): imports nothing from the module",
		applies: func(pkg string) bool { return pkg == in("cmd") },
		mayImport: func(_, imp string) bool {
			return !under(imp, module)
		},
	},
	{
		name:         "cmd/tern: everything except protocol/xmpptest",
		applies:      func(pkg string) bool { return under(pkg, in("cmd/tern")) },
		mustNotReach: []string{in("protocol/xmpptest")},
	},
	{
		name:         "cmd/tern-cli: headless, so no fyne.io; never protocol/xmpptest",
		applies:      func(pkg string) bool { return under(pkg, in("cmd/tern-cli")) },
		mustNotReach: []string{"fyne.io", in("protocol/xmpptest")},
	},
	{
		name: "other cmd/*: only cmd/tern starts fyne.io/fyne/v2/app; never protocol/xmpptest",
		applies: func(pkg string) bool {
			return under(pkg, in("cmd")) && pkg != in("cmd") && !under(pkg, in("cmd/tern")) && !under(pkg, in("cmd/tern-cli"))
		},
		mustNotReach: []string{"fyne.io/fyne/v2/app", in("protocol/xmpptest")},
	},
}

// TestDependencyRules checks every package under cmd/ against the table.
func TestDependencyRules(t *testing.T) {
	paths := checkTree(t, cmdRules)
	if !slices.Contains(paths, in("cmd")) {
		t.Errorf("go list did not report %s itself; checked %v", in("cmd"), paths)
	}
}

// TestDependencyRulesCatchViolations proves that each row fails when broken
// and allows what DESIGN.md allows.
func TestDependencyRulesCatchViolations(t *testing.T) {
	tern, cli := in("cmd/tern"), in("cmd/tern-cli")
	checkCases(t, cmdRules, []ruleCase{
		{pkg: tern, imports: []string{"fyne.io/fyne/v2/app", in("app"), in("protocol/client"), in("storage/sqlite"), in("crypto/omemo")}},
		{pkg: cli, imports: []string{in("protocol/client"), in("storage/sqlite"), in("crypto/omemo")}},
		{pkg: tern, imports: []string{in("protocol/xmpptest")}, broken: true},
		{pkg: cli, imports: []string{in("app/model")}, deps: []string{"fyne.io/fyne/v2"}, broken: true},
		{pkg: cli, imports: []string{in("protocol/client")}, deps: []string{in("protocol/xmpptest")}, broken: true},
		{pkg: in("cmd/internal/wiring"), imports: []string{in("protocol/client")}},
		{pkg: in("cmd/internal/wiring"), imports: []string{"fyne.io/fyne/v2/app"}, broken: true},
		{pkg: in("cmd"), imports: []string{in("protocol/client")}, broken: true},
	})
}

// topLevel is DESIGN.md §1: the only top-level directories holding packages.
var topLevel = []string{"protocol", "crypto", "storage", "app", "cmd", "assets"}

// TestLayoutIsFixed fails for a package outside the fixed top level, which
// no deps_test.go would check.
func TestLayoutIsFixed(t *testing.T) {
	for _, p := range listPackages(t, "../...") {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		first, _, _ := strings.Cut(rel, "/")
		if !ok || !slices.Contains(topLevel, first) {
			t.Errorf("%s is outside the fixed top level %v (DESIGN.md §1)", p.ImportPath, topLevel)
		}
	}
}

// depcheckMarker starts the checker section shared by every deps_test.go.
const depcheckMarker = "\n// ---- depcheck:"

// TestDepcheckCopiesAgree keeps the checker copies in the top-level
// deps_test.go files identical, so a fix in one reaches all.
func TestDepcheckCopiesAgree(t *testing.T) {
	section := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, after, ok := strings.Cut(string(b), depcheckMarker)
		if !ok {
			t.Fatalf("%s: no %q section", path, strings.TrimSpace(depcheckMarker))
		}
		return after
	}
	want := section("deps_test.go")
	for _, dir := range topLevel {
		if dir == "cmd" {
			continue
		}
		path := filepath.Join("..", dir, "deps_test.go")
		if got := section(path); got != want {
			t.Errorf("%s: the depcheck section differs from cmd/deps_test.go; copy it over", path)
		}
	}
}

// ---- depcheck: the same code in every top-level deps_test.go ----
//
// Each top-level package (protocol, crypto, storage, app, cmd, assets) checks
// its own rows of DESIGN.md §2 with this copy. There is no legal shared home:
// a module-root internal/ package would add a top-level directory, and
// protocol/internal or cmd/internal are not importable by the other trees.
// cmd/deps_test.go verifies that all copies stay identical.

// module is this module's path; the check confirms it with go list.
const module = "github.com/tern-im/tern"

// pkgInfo is the part of `go list -json` the rules read. Imports and Deps
// come from non-test files only: test imports are outside the rules.
type pkgInfo struct {
	ImportPath string
	Module     *struct{ Path string }
	Imports    []string // direct imports
	Deps       []string // every package it depends on, transitively
	Error      *struct{ Err string }
}

// rule is one row of DESIGN.md §2, for the packages it applies to.
type rule struct {
	name         string                     // the row, quoted in failures
	applies      func(pkg string) bool      // pkg is a full import path
	mayImport    func(pkg, imp string) bool // may pkg import imp directly? nil allows any
	mustNotReach []string                   // roots no transitive dependency may be at or under
}

// under reports whether path is root or inside it ("fyne.io" covers
// "fyne.io/fyne/v2/app"; "crypto" does not cover "cryptography").
func under(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

// in returns the import path of a package of this module, e.g. in("protocol/jid").
func in(rel string) string { return module + "/" + rel }

// violations applies rules to pkgs and describes every broken rule and every
// package no rule covers.
func violations(pkgs []pkgInfo, rules []rule) []string {
	var out []string
	for _, p := range pkgs {
		covered := false
		for _, r := range rules {
			if !r.applies(p.ImportPath) {
				continue
			}
			covered = true
			for _, imp := range p.Imports {
				if r.mayImport != nil && !r.mayImport(p.ImportPath, imp) {
					out = append(out, fmt.Sprintf("%s imports %s, breaking %q", p.ImportPath, imp, r.name))
				}
			}
			for _, d := range p.Deps {
				for _, root := range r.mustNotReach {
					if under(d, root) {
						out = append(out, fmt.Sprintf("%s depends on %s, breaking %q", p.ImportPath, d, r.name))
					}
				}
			}
		}
		if !covered {
			out = append(out, fmt.Sprintf("%s: no rule covers this package; add it to the table", p.ImportPath))
		}
	}
	return out
}

// listPackages runs go list on pattern (relative to the test's directory).
func listPackages(t *testing.T, pattern string) []pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Module,Imports,Deps,Error", pattern)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pattern, err, stderr.Bytes())
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkgInfo
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("go list %s: decode: %v", pattern, err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %s found no packages", pattern)
	}
	return pkgs
}

// checkTree lists every package at or under the test's directory and fails
// the test for each broken rule. It returns the import paths it checked.
func checkTree(t *testing.T, rules []rule) []string {
	t.Helper()
	pkgs := listPackages(t, "./...")
	var paths []string
	for _, p := range pkgs {
		paths = append(paths, p.ImportPath)
		if p.Module == nil || p.Module.Path != module {
			t.Errorf("%s: not in module %s", p.ImportPath, module)
		}
		if p.Error != nil {
			t.Errorf("%s: go list: %s", p.ImportPath, p.Error.Err)
		}
	}
	for _, v := range violations(pkgs, rules) {
		t.Error(v)
	}
	return paths
}

// ruleCase is a made-up package for proving that a rule table catches what
// it should and allows what it should.
type ruleCase struct {
	pkg     string   // full import path
	imports []string // direct imports; also counted as dependencies
	deps    []string // further transitive dependencies
	broken  bool     // whether the table must report a violation
}

// checkCases runs cases against rules.
func checkCases(t *testing.T, rules []rule, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		p := pkgInfo{ImportPath: c.pkg, Imports: c.imports, Deps: append(slices.Clone(c.imports), c.deps...)}
		got := violations([]pkgInfo{p}, rules)
		if c.broken && len(got) == 0 {
			t.Errorf("%s importing %v (deps %v): no violation reported, want one", c.pkg, c.imports, c.deps)
		}
		if !c.broken && len(got) > 0 {
			t.Errorf("%s importing %v (deps %v): unexpected violations %q", c.pkg, c.imports, c.deps, got)
		}
	}
}
