package protocol_test

// This test makes DESIGN.md §2 for protocol/ a tested contract: the engine's
// tiers, and that the engine never reaches the GUI, storage or crypto.

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

// isStd reports whether imp is in the standard library (no dot in its first
// element), which also covers cgo's "C".
func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

// buildingBlocks are the tier-3 packages other features may build on.
var buildingBlocks = []string{"forward", "delay", "rsm", "form", "pubsub"}

// kind names the tier of a package under protocol/ by its first element.
type kind int

const (
	notProtocol kind = iota
	root             // protocol itself: documentation only
	tier0            // jid, internal/*
	tier1            // stanza, stream, sasl, dial
	tier2            // session, mux
	feature          // tier 3: every other protocol/<feature>
	client           // tier 4: the engine
	xmpptest         // test infrastructure
)

// classify returns the kind of pkg and its first element under protocol/.
func classify(pkg string) (kind, string) {
	if pkg == in("protocol") {
		return root, ""
	}
	rel, ok := strings.CutPrefix(pkg, in("protocol")+"/")
	if !ok {
		return notProtocol, ""
	}
	first, _, _ := strings.Cut(rel, "/")
	switch first {
	case "jid", "internal":
		return tier0, first
	case "stanza", "stream", "sasl", "dial":
		return tier1, first
	case "session", "mux":
		return tier2, first
	case "client":
		return client, first
	case "xmpptest":
		return xmpptest, first
	}
	return feature, first
}

// tierOf returns the numeric tier of a protocol package (0–4), or -1 for
// anything else (including xmpptest and the documentation root).
func tierOf(pkg string) int {
	switch k, _ := classify(pkg); k {
	case tier0:
		return 0
	case tier1:
		return 1
	case tier2:
		return 2
	case feature:
		return 3
	case client:
		return 4
	}
	return -1
}

// atMost returns a mayImport that allows external packages and protocol
// packages up to tier max; anything else in this module is refused.
func atMost(max int) func(pkg, imp string) bool {
	return func(_, imp string) bool {
		if !under(imp, module) {
			return true
		}
		t := tierOf(imp)
		return t >= 0 && t <= max
	}
}

// featureMayImport is the tier-3 row: tiers 0–2, the building blocks, and
// packages of the same feature (protocol/omemo may use protocol/omemo/x).
func featureMayImport(pkg, imp string) bool {
	if !under(imp, module) || atMost(2)(pkg, imp) {
		return true
	}
	k, name := classify(imp)
	if k != feature {
		return false
	}
	_, own := classify(pkg)
	return name == own || slices.Contains(buildingBlocks, name)
}

func is(k kind) func(string) bool {
	return func(pkg string) bool { got, _ := classify(pkg); return got == k }
}

// protocolRules is DESIGN.md §2 for protocol/.
var protocolRules = []rule{
	{
		name:    "protocol/jid, protocol/internal/*: std, golang.org/x/* and tier 0 only",
		applies: is(tier0),
		mayImport: func(_, imp string) bool {
			return isStd(imp) || under(imp, "golang.org/x") || tierOf(imp) == 0
		},
	},
	{
		name:      "protocol tier 1 (stanza stream sasl dial): tiers 0–1 only",
		applies:   is(tier1),
		mayImport: atMost(1),
	},
	{
		name:      "protocol tier 2 (session mux): tiers 0–2 only",
		applies:   is(tier2),
		mayImport: atMost(2),
	},
	{
		name:      "protocol/<feature>: tiers 0–2, its own subpackages and the building blocks " + strings.Join(buildingBlocks, ", "),
		applies:   is(feature),
		mayImport: featureMayImport,
	},
	{
		name:    "protocol/client: protocol/* only from this module",
		applies: is(client),
		mayImport: func(_, imp string) bool {
			return !under(imp, module) || tierOf(imp) >= 0
		},
	},
	{
		name:    "protocol/xmpptest: std and protocol tiers 0–1 only",
		applies: is(xmpptest),
		mayImport: func(_, imp string) bool {
			return isStd(imp) || (tierOf(imp) >= 0 && tierOf(imp) <= 1)
		},
	},
	{
		name:    "protocol (documentation root): imports nothing from the module",
		applies: is(root),
		mayImport: func(_, imp string) bool {
			return !under(imp, module)
		},
	},
	{
		name: "protocol/*: never crypto, storage, app, cmd, assets or fyne.io",
		applies: func(pkg string) bool {
			return under(pkg, in("protocol"))
		},
		mustNotReach: []string{in("crypto"), in("storage"), in("app"), in("cmd"), in("assets"), "fyne.io"},
	},
	{
		name: "nothing non-test imports protocol/xmpptest",
		applies: func(pkg string) bool {
			return under(pkg, in("protocol")) && !under(pkg, in("protocol/xmpptest"))
		},
		mustNotReach: []string{in("protocol/xmpptest")},
	},
}

// TestDependencyRules checks every package under protocol/ against the table.
func TestDependencyRules(t *testing.T) {
	paths := checkTree(t, protocolRules)
	if !slices.Contains(paths, in("protocol")) {
		t.Errorf("go list did not report %s itself; checked %v", in("protocol"), paths)
	}
}

// TestDependencyRulesCatchViolations proves that each row fails when broken
// and allows what DESIGN.md allows.
func TestDependencyRulesCatchViolations(t *testing.T) {
	p := func(rel string) string { return in("protocol/" + rel) }
	checkCases(t, protocolRules, []ruleCase{
		// tier 0
		{pkg: p("jid"), imports: []string{"errors", "golang.org/x/text/secure/precis"}},
		{pkg: p("jid"), imports: []string{p("stanza")}, broken: true},
		{pkg: p("jid"), imports: []string{"github.com/example/idna"}, broken: true},
		{pkg: p("internal/xmlstream"), imports: []string{"encoding/xml", p("internal/limits")}},
		{pkg: p("internal/xmlstream"), imports: []string{p("session")}, broken: true},
		// tier 1
		{pkg: p("stanza"), imports: []string{p("jid"), p("internal/xmlstream")}},
		{pkg: p("stream"), imports: []string{p("stanza")}},
		{pkg: p("sasl"), imports: []string{p("session")}, broken: true},
		{pkg: p("dial"), imports: []string{p("roster")}, broken: true},
		// tier 2
		{pkg: p("session"), imports: []string{p("stanza"), p("sasl"), p("dial"), p("mux")}},
		{pkg: p("mux"), imports: []string{p("disco")}, broken: true},
		{pkg: p("session"), imports: []string{p("client")}, broken: true},
		// tier 3
		{pkg: p("mam"), imports: []string{p("session"), p("rsm"), p("form"), p("forward"), p("delay")}},
		{pkg: p("bookmarks"), imports: []string{p("pubsub")}},
		{pkg: p("omemo/bundle"), imports: []string{p("omemo")}},
		{pkg: p("carbons"), imports: []string{p("disco")}, broken: true},
		{pkg: p("roster"), imports: []string{p("client")}, broken: true},
		{pkg: p("roster"), imports: []string{in("storage/sqlite")}, broken: true},
		// tier 4
		{pkg: p("client"), imports: []string{p("session"), p("mux"), p("roster"), p("carbons")}},
		{pkg: p("client"), imports: []string{in("crypto/omemo")}, broken: true},
		{pkg: p("client"), imports: []string{"github.com/example/glue"}, deps: []string{in("storage/sqlite")}, broken: true},
		{pkg: p("client"), imports: []string{"fyne.io/fyne/v2"}, broken: true},
		// test infrastructure
		{pkg: p("xmpptest"), imports: []string{"crypto/tls", p("stanza"), p("jid")}},
		{pkg: p("xmpptest"), imports: []string{p("session")}, broken: true},
		{pkg: p("xmpptest"), imports: []string{"golang.org/x/net/html"}, broken: true},
		{pkg: p("session"), imports: []string{p("xmpptest")}, broken: true},
		{pkg: p("roster"), imports: []string{p("stanza")}, deps: []string{p("xmpptest")}, broken: true},
		// the documentation root
		{pkg: in("protocol"), imports: nil},
		{pkg: in("protocol"), imports: []string{p("jid")}, broken: true},
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
