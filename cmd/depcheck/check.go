package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
)

// Package is the part of `go list -json` that the rules read. Imports and
// Deps come from non-test files only: what tests import is outside the
// rules (tests may use protocol/xmpptest, for one).
type Package struct {
	ImportPath string   // full import path
	ModulePath string   // path of the module the package belongs to
	Imports    []string // direct imports
	Deps       []string // every package it depends on, directly or transitively
	LoadError  string   // what go list could not load, if anything
}

// IDs of the rules that Check applies itself, beside the rule table.
const (
	RuleTopLevel = "layout/top-level" // packages live only in the trees of Trees
	RuleTreeRoot = "layout/tree-root" // each checked tree has a root package
	RuleCovered  = "layout/covered"   // the table covers every package of a tree
	RuleLoads    = "layout/loads"     // every package loads cleanly from Module
)

// Names of the rules that Check applies itself, quoted in violations.
const (
	nameTopLevel = "DESIGN.md §1: the top level is fixed; packages live only in app, assets, cmd, crypto, protocol and storage"
	nameTreeRoot = "DESIGN.md §1: every tree has a root package that documents it"
	nameCovered  = "every package of a tree is governed by a row of the table (add one to cmd/depcheck)"
	nameLoads    = "every package loads cleanly from module " + Module
)

// Violation is one broken rule.
type Violation struct {
	Package string // import path of the offending package
	Problem string // what is wrong, e.g. "imports fyne.io/fyne/v2"
	Rule    string // ID of the broken rule
	Name    string // the broken rule in words
}

// String formats v as one line that names the package, the problem and the
// rule.
func (v Violation) String() string {
	return fmt.Sprintf("%s %s, breaking rule %s %q", v.Package, v.Problem, v.Rule, v.Name)
}

// treeOf returns the top-level tree holding pkg, or false when pkg is
// outside every tree of Trees (or outside the module).
func treeOf(pkg string) (string, bool) {
	rel, ok := strings.CutPrefix(pkg, Module+"/")
	if !ok {
		return "", false
	}
	first, _, _ := strings.Cut(rel, "/")
	return first, slices.Contains(Trees(), first)
}

// Check applies rules to the packages of pkgs that lie in trees and returns
// every violation, in the order of pkgs. Whatever trees are asked for, a
// package outside the fixed top level is a violation, and so is a package
// of a checked tree that no rule governs, that belongs to another module or
// that go list could not load.
func Check(rules []Rule, pkgs []Package, trees []string) []Violation {
	var out []Violation
	for _, tree := range trees {
		if !slices.Contains(Trees(), tree) {
			out = append(out, Violation{
				Package: in(tree), Problem: "is not a top-level tree", Rule: RuleTopLevel, Name: nameTopLevel,
			})
			continue
		}
		if !slices.ContainsFunc(pkgs, func(p Package) bool { return p.ImportPath == in(tree) }) {
			out = append(out, Violation{
				Package: in(tree), Problem: "is missing: go list did not report it", Rule: RuleTreeRoot, Name: nameTreeRoot,
			})
		}
	}
	for _, p := range pkgs {
		tree, ok := treeOf(p.ImportPath)
		if !ok {
			out = append(out, Violation{
				Package: p.ImportPath, Problem: "is outside the fixed top level", Rule: RuleTopLevel, Name: nameTopLevel,
			})
			continue
		}
		if !slices.Contains(trees, tree) {
			continue
		}
		if p.ModulePath != Module {
			out = append(out, Violation{
				Package: p.ImportPath, Problem: fmt.Sprintf("belongs to module %q", p.ModulePath), Rule: RuleLoads, Name: nameLoads,
			})
		}
		if p.LoadError != "" {
			// One line per violation: go list errors may span several.
			msg := strings.Join(strings.Fields(p.LoadError), " ")
			out = append(out, Violation{
				Package: p.ImportPath, Problem: "does not load: " + msg, Rule: RuleLoads, Name: nameLoads,
			})
		}
		out = append(out, checkPackage(rules, p)...)
	}
	return out
}

// checkPackage applies every rule governing p to its direct imports and its
// dependencies.
func checkPackage(rules []Rule, p Package) []Violation {
	var out []Violation
	covered := false
	for _, r := range rules {
		if !r.Applies(p.ImportPath) {
			continue
		}
		covered = true
		if r.MayImport != nil {
			for _, imp := range p.Imports {
				if !r.MayImport(p.ImportPath, imp) {
					out = append(out, Violation{Package: p.ImportPath, Problem: "imports " + imp, Rule: r.ID, Name: r.Name})
				}
			}
		}
		for _, root := range r.MustNotReach {
			var hits []string
			for _, d := range p.Deps {
				if under(d, root) {
					hits = append(hits, d)
				}
			}
			if len(hits) == 0 {
				continue
			}
			// One line per forbidden root, not one per package of, say, Fyne.
			problem := "depends on " + hits[0]
			if len(hits) > 1 {
				problem += fmt.Sprintf(" and %d more packages under %s", len(hits)-1, root)
			}
			out = append(out, Violation{Package: p.ImportPath, Problem: problem, Rule: r.ID, Name: r.Name})
		}
	}
	if !covered {
		out = append(out, Violation{Package: p.ImportPath, Problem: "is governed by no rule", Rule: RuleCovered, Name: nameCovered})
	}
	return out
}

// ErrNoPackages reports that go list matched no packages to check.
var ErrNoPackages = errors.New("depcheck: go list found no packages")

// listed is one package as `go list -json` prints it.
type listed struct {
	ImportPath string
	Module     *struct{ Path string }
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

// List runs `go list -e -json` on every package at or under dir, normally a
// module root, and returns them in go list's order (sorted by import path).
// A package that fails to load is returned with its LoadError set.
func List(ctx context.Context, dir string) ([]Package, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-json=ImportPath,Module,Imports,Deps,Error", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w: %s", dir, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var l listed
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("go list in %s: decode: %w", dir, err)
		}
		p := Package{ImportPath: l.ImportPath, Imports: l.Imports, Deps: l.Deps}
		if l.Module != nil {
			p.ModulePath = l.Module.Path
		}
		if l.Error != nil {
			p.LoadError = l.Error.Err
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("in %s: %w", dir, ErrNoPackages)
	}
	return pkgs, nil
}
