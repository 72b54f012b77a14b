package main_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	depcheck "github.com/tern-im/tern/cmd/depcheck"
)

// in returns the import path of a package of the module.
func in(rel string) string { return depcheck.Module + "/" + rel }

// p returns the import path of a package under protocol/.
func p(rel string) string { return in("protocol/" + rel) }

// ruleCase is a made-up package: its direct imports, further transitive
// dependencies, and the IDs of the rules it must break (none: it is legal).
type ruleCase struct {
	pkg     string
	imports []string // direct imports; also counted as dependencies
	deps    []string // further transitive dependencies
	broken  []string // IDs of the rules it breaks, in any order
}

// ruleCases are the broken and allowed imports of every row of the table.
func ruleCases() []ruleCase {
	model, chat := in("app/model"), in("app/chat")
	omemo, sqlite, keyring := in("crypto/omemo"), in("storage/sqlite"), in("storage/keyring")
	tern, cli, wiring := in("cmd/tern"), in("cmd/tern-cli"), in("cmd/internal/wiring")
	xmpptest := p("xmpptest")
	return []ruleCase{
		// protocol tier 0
		{pkg: p("jid"), imports: []string{"errors", "golang.org/x/text/secure/precis"}},
		{pkg: p("jid"), imports: []string{p("stanza")}, broken: []string{"protocol/tier0"}},
		{pkg: p("jid"), imports: []string{"github.com/example/idna"}, broken: []string{"protocol/tier0"}},
		{pkg: p("internal/xmlstream"), imports: []string{"encoding/xml", p("internal/limits")}},
		{pkg: p("internal/xmlstream"), imports: []string{p("session")}, broken: []string{"protocol/tier0"}},
		// protocol tier 1
		{pkg: p("stanza"), imports: []string{p("jid"), p("internal/xmlstream")}},
		{pkg: p("stream"), imports: []string{p("stanza")}},
		{pkg: p("sasl"), imports: []string{p("session")}, broken: []string{"protocol/tier1"}},
		{pkg: p("dial"), imports: []string{p("roster")}, broken: []string{"protocol/tier1"}},
		// protocol tier 2
		{pkg: p("session"), imports: []string{p("stanza"), p("sasl"), p("dial"), p("mux")}},
		{pkg: p("mux"), imports: []string{p("disco")}, broken: []string{"protocol/tier2"}},
		{pkg: p("session"), imports: []string{p("client")}, broken: []string{"protocol/tier2"}},
		// protocol tier 3: any name not in a lower tier is a feature
		{pkg: p("mam"), imports: []string{p("session"), p("rsm"), p("form"), p("forward"), p("delay")}},
		{pkg: p("bookmarks"), imports: []string{p("pubsub")}},
		{pkg: p("mds"), imports: []string{p("sid")}},
		{pkg: p("omemo"), imports: []string{"encoding/base64", p("pubsub"), p("stanza"), p("jid")}},
		{pkg: p("omemo/bundle"), imports: []string{p("omemo")}},
		{pkg: p("reactions"), imports: []string{p("stanza"), p("mux"), "golang.org/x/text/unicode/norm"}},
		{pkg: p("carbons"), imports: []string{p("disco")}, broken: []string{"protocol/feature"}},
		{pkg: p("muc"), imports: []string{p("xmpptest")}, broken: []string{"protocol/feature", "protocol/no-xmpptest"}},
		{pkg: p("roster"), imports: []string{p("client")}, broken: []string{"protocol/feature"}},
		{pkg: p("roster"), imports: []string{sqlite}, broken: []string{"protocol/feature", "protocol/never"}},
		// protocol tier 4
		{pkg: p("client"), imports: []string{p("session"), p("mux"), p("roster"), p("carbons")}},
		{pkg: p("client"), imports: []string{omemo}, broken: []string{"protocol/client", "protocol/never"}},
		{pkg: p("client"), imports: []string{"github.com/example/glue"}, deps: []string{sqlite}, broken: []string{"protocol/never"}},
		{pkg: p("client"), imports: []string{"fyne.io/fyne/v2"}, broken: []string{"protocol/never"}},
		// protocol test infrastructure: only tests import it
		{pkg: xmpptest, imports: []string{"crypto/tls", p("stanza"), p("jid")}},
		{pkg: xmpptest, imports: []string{p("session")}, broken: []string{"protocol/xmpptest"}},
		{pkg: xmpptest, imports: []string{"golang.org/x/net/html"}, broken: []string{"protocol/xmpptest"}},
		{pkg: p("session"), imports: []string{xmpptest}, broken: []string{"protocol/tier2", "protocol/no-xmpptest"}},
		{pkg: p("roster"), imports: []string{p("stanza")}, deps: []string{xmpptest}, broken: []string{"protocol/no-xmpptest"}},
		// the protocol documentation root
		{pkg: in("protocol"), imports: []string{"embed"}},
		{pkg: in("protocol"), imports: []string{p("jid")}, broken: []string{"protocol/root"}},

		// crypto
		{pkg: omemo, imports: []string{"crypto/sha256", p("omemo"), p("client"), "go.mau.fi/libsignal/session"}},
		{pkg: in("crypto/omemo/fingerprint"), imports: []string{omemo}},
		{pkg: omemo, imports: []string{sqlite}, broken: []string{"crypto/imports", "crypto/never"}},
		{pkg: omemo, imports: []string{in("app/trust")}, broken: []string{"crypto/imports", "crypto/never"}},
		{pkg: omemo, imports: []string{in("assets")}, broken: []string{"crypto/imports"}},
		{pkg: omemo, imports: []string{"fyne.io/fyne/v2"}, broken: []string{"crypto/never"}},
		{pkg: omemo, imports: []string{"example.org/glue"}, deps: []string{sqlite}, broken: []string{"crypto/never"}},
		{pkg: omemo, imports: []string{xmpptest}, broken: []string{"crypto/never"}},
		{pkg: in("crypto"), imports: []string{"errors"}},
		{pkg: in("crypto"), imports: []string{omemo}, broken: []string{"crypto/root"}},

		// storage
		{pkg: sqlite, imports: []string{"database/sql", "modernc.org/sqlite", p("client"), omemo}},
		{pkg: keyring, imports: []string{"github.com/zalando/go-keyring", p("client")}},
		{pkg: in("storage/keyring/keyringtest"), imports: []string{keyring, "github.com/godbus/dbus/v5"}},
		{pkg: sqlite, imports: []string{model}, broken: []string{"storage/imports", "storage/never"}},
		{pkg: sqlite, imports: []string{in("assets")}, broken: []string{"storage/imports"}},
		{pkg: keyring, imports: []string{"fyne.io/fyne/v2"}, broken: []string{"storage/never"}},
		{pkg: sqlite, imports: []string{"example.org/glue"}, deps: []string{"fyne.io/fyne/v2/widget"}, broken: []string{"storage/never"}},
		{pkg: sqlite, imports: []string{xmpptest}, broken: []string{"storage/never"}},
		{pkg: in("storage"), imports: []string{"embed"}},
		{pkg: in("storage"), imports: []string{sqlite}, broken: []string{"storage/root"}},

		// app/model
		{pkg: model, imports: []string{"sort", p("client"), p("jid")}},
		{pkg: in("app/model/timeline"), imports: []string{model}},
		{pkg: model, imports: []string{"fyne.io/fyne/v2"}, broken: []string{"app/model-never"}},
		{pkg: model, imports: []string{"example.org/glue"}, deps: []string{"fyne.io/fyne/v2/canvas"}, broken: []string{"app/model-never"}},
		{pkg: model, imports: []string{sqlite}, broken: []string{"app/model-imports", "app/model-never"}},
		{pkg: model, imports: []string{p("roster")}, broken: []string{"app/model-imports"}},
		{pkg: model, imports: []string{in("app/widgets")}, broken: []string{"app/model-imports"}},
		// app/*
		{pkg: chat, imports: []string{"fyne.io/fyne/v2/widget", model, in("app/widgets"), p("client"), p("jid"), omemo, in("assets")}},
		{pkg: in("app"), imports: []string{"fyne.io/fyne/v2", in("app/theme")}},
		{pkg: in("app/widgets"), imports: []string{"fyne.io/fyne/v2/widget", "fyne.io/fyne/v2/canvas"}},
		{pkg: chat, imports: []string{p("session")}, broken: []string{"app/imports"}},
		{pkg: chat, imports: []string{p("mux")}, broken: []string{"app/imports"}},
		{pkg: chat, imports: []string{p("stanza")}, broken: []string{"app/imports"}},
		{pkg: chat, imports: []string{sqlite}, broken: []string{"app/imports", "app/never"}},
		{pkg: chat, imports: []string{p("client")}, deps: []string{sqlite}, broken: []string{"app/never"}},
		{pkg: in("app/widgets"), imports: []string{"fyne.io/fyne/v2/app"}, broken: []string{"app/never"}},
		{pkg: in("app"), imports: []string{"fyne.io/fyne/v2/app"}, broken: []string{"app/never"}},
		{pkg: in("app"), imports: []string{xmpptest}, broken: []string{"app/imports", "app/never"}},

		// assets
		{pkg: in("assets"), imports: []string{"embed"}},
		{pkg: in("assets"), imports: []string{"fyne.io/fyne/v2"}, broken: []string{"assets/never"}},
		{pkg: in("assets/sounds"), imports: []string{"embed"}, deps: []string{"fyne.io/fyne/v2/storage"}, broken: []string{"assets/never"}},
		{pkg: in("assets"), imports: []string{p("jid")}, broken: []string{"assets/imports"}},

		// cmd
		{pkg: tern, imports: []string{"fyne.io/fyne/v2/app", in("app"), p("client"), sqlite, omemo}},
		{pkg: cli, imports: []string{p("client"), sqlite, omemo}},
		{pkg: tern, imports: []string{xmpptest}, broken: []string{"cmd/tern"}},
		{pkg: cli, imports: []string{"fyne.io/fyne/v2"}, broken: []string{"cmd/tern-cli"}},
		{pkg: cli, imports: []string{model}, deps: []string{"fyne.io/fyne/v2"}, broken: []string{"cmd/tern-cli"}},
		{pkg: cli, imports: []string{p("client")}, deps: []string{xmpptest}, broken: []string{"cmd/tern-cli"}},
		{pkg: wiring, imports: []string{p("client"), sqlite}},
		{pkg: in("cmd/depcheck"), imports: []string{"os/exec", "encoding/json"}},
		{pkg: wiring, imports: []string{"fyne.io/fyne/v2/app"}, broken: []string{"cmd/other"}},
		{pkg: in("cmd/depcheck"), imports: []string{"os"}, deps: []string{xmpptest}, broken: []string{"cmd/other"}},
		{pkg: in("cmd"), imports: []string{"embed"}},
		{pkg: in("cmd"), imports: []string{p("client")}, broken: []string{"cmd/root"}},
	}
}

// pkg builds a package of the module as go list would report it.
func pkg(path string, imports, deps []string) depcheck.Package {
	return depcheck.Package{
		ImportPath: path,
		ModulePath: depcheck.Module,
		Imports:    imports,
		Deps:       slices.Concat(imports, deps),
	}
}

// treeOf returns the top-level tree of a package of the module.
func treeOf(path string) string {
	rel := strings.TrimPrefix(path, depcheck.Module+"/")
	first, _, _ := strings.Cut(rel, "/")
	return first
}

// brokenRules returns the sorted, distinct rule IDs of vs.
func brokenRules(vs []depcheck.Violation) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.Rule)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// TestRules runs every made-up case through the whole table: each broken
// case must break exactly the rules it names, each legal one none.
func TestRules(t *testing.T) {
	rules := depcheck.Rules()
	for _, c := range ruleCases() {
		tree := treeOf(c.pkg)
		// The tree root is listed too, so that only c itself can be wrong.
		pkgs := []depcheck.Package{pkg(c.pkg, c.imports, c.deps)}
		if c.pkg != in(tree) {
			pkgs = append(pkgs, pkg(in(tree), nil, nil))
		}
		got := brokenRules(depcheck.Check(rules, pkgs, []string{tree}))
		want := slices.Sorted(slices.Values(c.broken))
		if !slices.Equal(got, want) {
			t.Errorf("%s importing %v (deps %v): broke %q, want %q", c.pkg, c.imports, c.deps, got, want)
		}
	}
}

// TestEveryRuleIsExercised makes sure that ruleCases shows every rule of the
// table refusing a violation and accepting a legal import.
func TestEveryRuleIsExercised(t *testing.T) {
	refused, accepted := map[string]bool{}, map[string]bool{}
	for _, c := range ruleCases() {
		for _, id := range c.broken {
			refused[id] = true
		}
		if len(c.broken) > 0 {
			continue
		}
		for _, r := range depcheck.Rules() {
			if r.Applies(c.pkg) && (len(c.imports) > 0 || len(c.deps) > 0) {
				accepted[r.ID] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range depcheck.Rules() {
		if seen[r.ID] {
			t.Errorf("rule ID %s is used twice", r.ID)
		}
		seen[r.ID] = true
		if r.Name == "" || r.Applies == nil || (r.MayImport == nil && len(r.MustNotReach) == 0) {
			t.Errorf("rule %s is incomplete: %+v", r.ID, r)
		}
		if !refused[r.ID] {
			t.Errorf("rule %s: no case shows it refusing a violation", r.ID)
		}
		if !accepted[r.ID] {
			t.Errorf("rule %s: no case shows it accepting a legal import", r.ID)
		}
	}
}

// TestEveryPackageOfATreeIsGoverned checks that the table leaves no package
// of any tree without a rule, present or future.
func TestEveryPackageOfATreeIsGoverned(t *testing.T) {
	rules := depcheck.Rules()
	for _, tree := range depcheck.Trees() {
		for _, path := range []string{in(tree), in(tree + "/x"), in(tree + "/x/y"), in(tree + "/internal/z")} {
			if !slices.ContainsFunc(rules, func(r depcheck.Rule) bool { return r.Applies(path) }) {
				t.Errorf("%s: no rule applies", path)
			}
		}
	}
}

// TestCheckLayout covers the rules that Check applies beside the table.
func TestCheckLayout(t *testing.T) {
	root := func(tree string) depcheck.Package { return pkg(in(tree), nil, nil) }
	protocol := root("protocol")
	tests := []struct {
		name  string
		rules []depcheck.Rule
		pkgs  []depcheck.Package
		trees []string
		want  []string
	}{
		{
			name:  "clean",
			pkgs:  []depcheck.Package{protocol, pkg(p("jid"), []string{"errors"}, nil)},
			trees: []string{"protocol"},
		},
		{
			name:  "a package outside the fixed top level",
			pkgs:  []depcheck.Package{protocol, pkg(in("internal/glue"), []string{"errors"}, nil)},
			trees: []string{"protocol"},
			want:  []string{depcheck.RuleTopLevel},
		},
		{
			name:  "a package at the module root",
			pkgs:  []depcheck.Package{protocol, pkg(depcheck.Module, nil, nil)},
			trees: []string{"protocol"},
			want:  []string{depcheck.RuleTopLevel},
		},
		{
			name:  "an unknown tree",
			pkgs:  []depcheck.Package{protocol},
			trees: []string{"web"},
			want:  []string{depcheck.RuleTopLevel},
		},
		{
			name:  "a tree without its root package",
			pkgs:  []depcheck.Package{pkg(p("jid"), nil, nil)},
			trees: []string{"protocol"},
			want:  []string{depcheck.RuleTreeRoot},
		},
		{
			name:  "a package that fails to load",
			pkgs:  []depcheck.Package{protocol, {ImportPath: p("jid"), ModulePath: depcheck.Module, LoadError: "jid.go:3:1: expected declaration"}},
			trees: []string{"protocol"},
			want:  []string{depcheck.RuleLoads},
		},
		{
			name:  "a package of another module",
			pkgs:  []depcheck.Package{protocol, {ImportPath: p("jid"), ModulePath: "example.org/fork"}},
			trees: []string{"protocol"},
			want:  []string{depcheck.RuleLoads},
		},
		{
			name:  "a package no rule governs",
			rules: []depcheck.Rule{{ID: "only/jid", Name: "only jid", Applies: func(pkg string) bool { return pkg == p("jid") }}},
			pkgs:  []depcheck.Package{protocol, pkg(p("jid"), nil, nil)},
			trees: []string{"protocol"},
			want:  []string{depcheck.RuleCovered},
		},
		{
			name: "other trees are not checked",
			pkgs: []depcheck.Package{
				protocol, root("storage"),
				pkg(in("storage/sqlite"), []string{"fyne.io/fyne/v2"}, nil),
				{ImportPath: in("storage/broken"), ModulePath: depcheck.Module, LoadError: "syntax error"},
			},
			trees: []string{"protocol"},
		},
		{
			name:  "several trees at once",
			pkgs:  []depcheck.Package{protocol, root("storage"), pkg(in("storage/sqlite"), []string{"fyne.io/fyne/v2"}, nil)},
			trees: []string{"protocol", "storage"},
			want:  []string{"storage/never"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := tt.rules
			if rules == nil {
				rules = depcheck.Rules()
			}
			vs := depcheck.Check(rules, tt.pkgs, tt.trees)
			if got := brokenRules(vs); !slices.Equal(got, tt.want) {
				t.Errorf("broke %q, want %q (violations %q)", got, tt.want, vs)
			}
		})
	}
}

// TestViolationString checks that a violation is one line naming the
// package, what it imports and the rule.
func TestViolationString(t *testing.T) {
	pkgs := []depcheck.Package{
		pkg(in("storage"), nil, nil),
		pkg(in("storage/sqlite"), []string{"example.org/glue"}, []string{"fyne.io/fyne/v2", "fyne.io/fyne/v2/widget", "fyne.io/systray"}),
		pkg(in("storage/keyring"), []string{in("app/model")}, nil),
	}
	vs := depcheck.Check(depcheck.Rules(), pkgs, []string{"storage"})
	var lines []string
	for _, v := range vs {
		lines = append(lines, v.String())
	}
	want := []string{
		in("storage/sqlite") + ` depends on fyne.io/fyne/v2 and 2 more packages under fyne.io, breaking rule storage/never "storage/*: never app, cmd, fyne.io, or protocol/xmpptest outside tests"`,
		in("storage/keyring") + ` imports ` + in("app/model") + `, breaking rule storage/imports "storage/*: from this module only protocol/*, crypto/* and storage/*"`,
		in("storage/keyring") + ` depends on ` + in("app/model") + `, breaking rule storage/never "storage/*: never app, cmd, fyne.io, or protocol/xmpptest outside tests"`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// writeModule writes files (path → content) into a new module named
// depcheck.Module in a temporary directory and returns the directory.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module " + depcheck.Module + "\n\ngo 1.26\n"
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// miniModule returns the files of a small, legal module: every tree root,
// protocol tiers 0–1, xmpptest, and a feature whose test imports xmpptest
// (test imports are outside the rules).
func miniModule() map[string]string {
	files := map[string]string{
		"protocol/jid/jid.go":            "package jid\n\nimport _ \"errors\"\n",
		"protocol/stanza/stanza.go":      "package stanza\n\nimport _ \"" + p("jid") + "\"\n",
		"protocol/dial/dial.go":          "package dial\n\nimport _ \"net\"\n",
		"protocol/xmpptest/xmpptest.go":  "package xmpptest\n\nimport _ \"" + p("stanza") + "\"\n",
		"protocol/roster/roster.go":      "package roster\n\nimport _ \"" + p("stanza") + "\"\n",
		"protocol/roster/roster_test.go": "package roster_test\n\nimport _ \"" + p("xmpptest") + "\"\n",
	}
	for _, tree := range depcheck.Trees() {
		files[tree+"/doc.go"] = "// Package " + tree + " is documentation.\npackage " + tree + "\n"
	}
	return files
}

// TestList runs go list on real modules and checks what the rules make of
// what it reports.
func TestList(t *testing.T) {
	tests := []struct {
		name  string
		extra map[string]string // files added to miniModule
		trees []string
		want  []string // IDs of the broken rules
	}{
		{name: "clean", trees: depcheck.Trees()},
		{
			name:  "tier 0 imports tier 1",
			extra: map[string]string{"protocol/jid/bad.go": "package jid\n\nimport _ \"" + p("dial") + "\"\n"},
			trees: []string{"protocol"},
			want:  []string{"protocol/tier0"},
		},
		{
			name: "a binary reaches xmpptest through a package of another tree",
			extra: map[string]string{
				"cmd/tern/main.go":                 "package main\n\nimport _ \"" + p("roster/helper") + "\"\n\nfunc main() {}\n",
				"protocol/roster/helper/helper.go": "package helper\n\nimport _ \"" + p("xmpptest") + "\"\n",
			},
			trees: []string{"cmd"},
			want:  []string{"cmd/tern"},
		},
		{
			name:  "a violation in another tree",
			extra: map[string]string{"storage/sqlite/sqlite.go": "package sqlite\n\nimport _ \"" + in("app") + "\"\n"},
			trees: []string{"protocol"},
		},
		{
			name:  "a package outside the top level",
			extra: map[string]string{"internal/glue/glue.go": "package glue\n"},
			trees: []string{"assets"},
			want:  []string{depcheck.RuleTopLevel},
		},
		{
			name:  "a package that does not load",
			extra: map[string]string{"crypto/omemo/omemo.go": "package omemo\n", "crypto/omemo/other.go": "package other\n"},
			trees: []string{"crypto"},
			want:  []string{depcheck.RuleLoads},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := miniModule()
			for name, content := range tt.extra {
				files[name] = content
			}
			dir := writeModule(t, files)
			pkgs, err := depcheck.List(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			vs := depcheck.Check(depcheck.Rules(), pkgs, tt.trees)
			if got := brokenRules(vs); !slices.Equal(got, tt.want) {
				t.Errorf("broke %q, want %q (violations %q)", got, tt.want, vs)
			}
		})
	}
}

// TestListNoPackages checks the error for a directory without packages.
func TestListNoPackages(t *testing.T) {
	dir := writeModule(t, map[string]string{})
	_, err := depcheck.List(t.Context(), dir)
	if !errors.Is(err, depcheck.ErrNoPackages) {
		t.Errorf("List of an empty module: %v, want %v", err, depcheck.ErrNoPackages)
	}
}

// TestCommand builds depcheck and runs it in small modules: exit status 0
// when clean, 1 with one line per violation, 2 for a bad argument.
func TestCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "depcheck")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	clean := writeModule(t, miniModule())
	broken := miniModule()
	broken["assets/sounds/sounds.go"] = "package sounds\n\nimport _ \"" + p("jid") + "\"\n"
	brokenDir := writeModule(t, broken)

	tests := []struct {
		name       string
		dir        string
		args       []string
		wantStatus int
		wantOut    []string // lines of stdout
	}{
		{name: "clean, all trees", dir: clean, wantStatus: 0},
		{name: "clean, one tree, from a subdirectory", dir: filepath.Join(clean, "protocol", "jid"), args: []string{"protocol"}, wantStatus: 0},
		{
			name: "broken", dir: brokenDir, args: []string{"./assets/"}, wantStatus: 1,
			wantOut: []string{in("assets/sounds") + " imports " + p("jid") + `, breaking rule assets/imports "assets/*: nothing from the module"`},
		},
		{name: "broken tree not checked", dir: brokenDir, args: []string{"protocol", "storage"}, wantStatus: 0},
		{name: "unknown tree", dir: clean, args: []string{"web"}, wantStatus: 2},
		{name: "outside a module", dir: t.TempDir(), args: []string{"app"}, wantStatus: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), bin, tt.args...)
			cmd.Dir = tt.dir
			cmd.Env = append(os.Environ(), "GOWORK=off")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			status := 0
			if exit, ok := errors.AsType[*exec.ExitError](err); ok {
				status = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, tt.wantStatus, out, stderr.String())
			}
			var lines []string
			if s := strings.TrimSpace(string(out)); s != "" {
				lines = strings.Split(s, "\n")
			}
			if !slices.Equal(lines, tt.wantOut) {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, strings.Join(tt.wantOut, "\n"))
			}
		})
	}
}
