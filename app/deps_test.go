package app_test

// This test makes DESIGN.md §2 for app/ a tested contract: the GUI talks to
// the engine through protocol/client only, never to storage or the lower
// protocol tiers, keeps the view model toolkit-free, and leaves
// fyne.io/fyne/v2/app (the real driver) to cmd/tern so that every GUI package
// tests headless with fyne.io/fyne/v2/test.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func isModel(pkg string) bool { return under(pkg, in("app/model")) }

// appRules is DESIGN.md §2 for app/.
var appRules = []rule{
	{
		name:    "app/model: from this module only protocol/client and protocol/jid",
		applies: isModel,
		mayImport: func(_, imp string) bool {
			return !under(imp, module) || isModel(imp) || under(imp, in("protocol/client")) || under(imp, in("protocol/jid"))
		},
	},
	{
		name:         "app/model: no fyne.io, no storage",
		applies:      isModel,
		mustNotReach: []string{"fyne.io", in("storage"), in("cmd"), in("protocol/xmpptest")},
	},
	{
		name: "app/*: from this module only app/*, protocol/client, protocol/jid, crypto/omemo and assets (never storage, protocol/session, protocol/mux, protocol/stanza)",
		applies: func(pkg string) bool {
			return under(pkg, in("app")) && !isModel(pkg)
		},
		mayImport: func(_, imp string) bool {
			return !under(imp, module) || under(imp, in("app")) || under(imp, in("protocol/client")) ||
				under(imp, in("protocol/jid")) || under(imp, in("crypto/omemo")) || under(imp, in("assets"))
		},
	},
	{
		name: "app/*: never storage or fyne.io/fyne/v2/app (only cmd/tern starts the real driver)",
		applies: func(pkg string) bool {
			return under(pkg, in("app")) && !isModel(pkg)
		},
		mustNotReach: []string{in("storage"), in("cmd"), "fyne.io/fyne/v2/app", in("protocol/xmpptest")},
	},
}

// TestDependencyRules checks every package under app/ against the table.
func TestDependencyRules(t *testing.T) {
	paths := checkTree(t, appRules)
	if !slices.Contains(paths, in("app")) {
		t.Errorf("go list did not report %s itself; checked %v", in("app"), paths)
	}
}

// TestDependencyRulesCatchViolations proves that each row fails when broken
// and allows what DESIGN.md allows.
func TestDependencyRulesCatchViolations(t *testing.T) {
	model, chat := in("app/model"), in("app/chat")
	checkCases(t, appRules, []ruleCase{
		{pkg: model, imports: []string{"sort", in("protocol/client"), in("protocol/jid")}},
		{pkg: model, imports: []string{"fyne.io/fyne/v2"}, broken: true},
		{pkg: model, imports: []string{"example.org/glue"}, deps: []string{"fyne.io/fyne/v2/canvas"}, broken: true},
		{pkg: model, imports: []string{in("storage/sqlite")}, broken: true},
		{pkg: model, imports: []string{in("protocol/roster")}, broken: true},
		{pkg: model, imports: []string{in("app/widgets")}, broken: true},
		{pkg: chat, imports: []string{"fyne.io/fyne/v2/widget", model, in("app/widgets"), in("protocol/client"), in("protocol/jid"), in("crypto/omemo"), in("assets")}},
		{pkg: in("app"), imports: []string{"fyne.io/fyne/v2", in("app/theme")}},
		{pkg: chat, imports: []string{in("protocol/session")}, broken: true},
		{pkg: chat, imports: []string{in("protocol/mux")}, broken: true},
		{pkg: chat, imports: []string{in("protocol/stanza")}, broken: true},
		{pkg: chat, imports: []string{in("storage/sqlite")}, broken: true},
		{pkg: chat, imports: []string{in("protocol/client")}, deps: []string{in("storage/sqlite")}, broken: true},
		{pkg: in("app/widgets"), imports: []string{"fyne.io/fyne/v2/app"}, broken: true},
		{pkg: in("app"), imports: []string{"fyne.io/fyne/v2/app"}, broken: true},
		{pkg: in("app"), imports: []string{in("protocol/xmpptest")}, broken: true},
	})
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
