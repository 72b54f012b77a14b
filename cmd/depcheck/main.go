// Command depcheck enforces Tern's import rules: the table of DESIGN.md §2
// (who may import whom) and the fixed top level of DESIGN.md §1. It holds
// the whole rule table, for every tree — the protocol tiers, crypto,
// storage, app and app/model, assets and cmd — and checks it with `go list`.
//
// Usage, from anywhere inside the module:
//
//	go run ./cmd/depcheck [TREE...]
//
// TREE is a top-level directory: app, assets, cmd, crypto, protocol or
// storage; none means all of them. depcheck lists every package of the
// module with `go list -e -json` (non-test files only: tests may import
// what they like, protocol/xmpptest included), applies the direct-import
// rules to each package's imports and the "must never reach" rules to all
// of its dependencies, and prints each violation on one line naming the
// package, the problem and the rule. A package outside the fixed top level,
// or one in a checked tree that no rule governs, is a violation too.
//
// Exit status: 0 when clean, 1 when a rule is broken, 2 when depcheck
// could not check (bad arguments, go list failing).
//
// Each top-level package has a deps_test.go that runs depcheck on its own
// tree, so the table is a tested contract.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
)

// Exit statuses of the command.
const (
	exitClean     = 0
	exitViolation = 1
	exitTrouble   = 2
)

// main runs the command until it is done or interrupted and exits with its
// status.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command without the process around it: it parses args, checks
// the trees and writes violations to stdout and trouble to stderr. It
// returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("depcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: depcheck [TREE...]\n\nChecks the import rules of DESIGN.md §2 for the trees %s (default: all).\n",
			strings.Join(Trees(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitTrouble
	}
	trees := fs.Args()
	if len(trees) == 0 {
		trees = Trees()
	}
	for i, tree := range trees {
		// Accept a directory spelling too: "./protocol/" is "protocol".
		tree = strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(tree), "./"), "/")
		if !slices.Contains(Trees(), tree) {
			fmt.Fprintf(stderr, "depcheck: %q is not a top-level tree (want one of %s)\n", trees[i], strings.Join(Trees(), ", "))
			return exitTrouble
		}
		trees[i] = tree
	}

	root, err := moduleRoot(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "depcheck: %v\n", err)
		return exitTrouble
	}
	pkgs, err := List(ctx, root)
	if err != nil {
		fmt.Fprintf(stderr, "depcheck: %v\n", err)
		return exitTrouble
	}
	vs := Check(Rules(), pkgs, trees)
	for _, v := range vs {
		fmt.Fprintln(stdout, v)
	}
	if len(vs) > 0 {
		fmt.Fprintf(stderr, "depcheck: %d violation(s) of the import rules (DESIGN.md §1–2) in %s\n",
			len(vs), strings.Join(trees, " "))
		return exitViolation
	}
	return exitClean
}

// errNoModule reports that depcheck runs outside any module.
var errNoModule = errors.New("not inside a Go module (go env GOMOD is empty)")

// moduleRoot returns the root directory of the module around the working
// directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errNoModule
	}
	return filepath.Dir(gomod), nil
}
