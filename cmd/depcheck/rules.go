package main

import (
	"slices"
	"strings"
)

// Module is the path of the module the rule table is written for.
const Module = "github.com/tern-im/tern"

// Trees returns the fixed top level of the module (DESIGN.md §1): the only
// directories that may hold packages. Each is checked by its own
// deps_test.go, which runs this command on it.
func Trees() []string {
	return []string{"app", "assets", "cmd", "crypto", "protocol", "storage"}
}

// Rule is one row of the import table of DESIGN.md §2, for the packages it
// applies to. Every import path a rule sees is a full one
// ("github.com/tern-im/tern/protocol/jid", "fyne.io/fyne/v2").
type Rule struct {
	// ID is a short, stable key for the rule, e.g. "protocol/tier1".
	ID string
	// Name is the row in words, quoted in every violation of it.
	Name string
	// Applies reports whether the rule governs pkg.
	Applies func(pkg string) bool
	// MayImport reports whether pkg may import imp directly; nil allows
	// every direct import.
	MayImport func(pkg, imp string) bool
	// MustNotReach lists roots that no dependency of the package, direct
	// or transitive, may be at or under (see under).
	MustNotReach []string
}

// under reports whether path is root or inside it: "fyne.io" covers
// "fyne.io/fyne/v2/app", but "crypto" does not cover "cryptography".
func under(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

// in returns the import path of a package of this module, e.g.
// in("protocol/jid").
func in(rel string) string { return Module + "/" + rel }

// ours reports whether imp belongs to this module.
func ours(imp string) bool { return under(imp, Module) }

// isStd reports whether imp is in the standard library: no dot in its first
// element, which also covers cgo's "C".
func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

// Rules returns the whole table of DESIGN.md §2, every tree's rows. A
// package may be governed by several rows; it must satisfy all of them.
func Rules() []Rule {
	return slices.Concat(protocolRules(), cryptoRules(), storageRules(), appRules(), assetsRules(), cmdRules())
}

// The xmpptest root: test infrastructure that only tests may import.
const xmpptestRoot = Module + "/protocol/xmpptest"

// buildingBlocks returns the tier-3 packages that other features may build
// on (DESIGN.md §2, the protocol/<feature> row, plus sid: XEP-0359 ids are
// what archive and read-state features refer to messages by).
func buildingBlocks() []string {
	return []string{"forward", "delay", "rsm", "form", "pubsub", "sid"}
}

// kind is the role of a package within protocol/.
type kind int

// The kinds of protocol packages, by their first element under protocol/.
const (
	notProtocol kind = iota // outside protocol/
	protoRoot               // protocol itself: documentation only
	tier0                   // jid, internal/*
	tier1                   // stanza, stream, sasl, dial
	tier2                   // session, mux
	feature                 // tier 3: every other protocol/<feature>, present or future
	client                  // tier 4: the engine
	xmpptest                // test infrastructure
)

// classify returns the kind of pkg and its first element under protocol/.
// Any package not named here is a feature: new feature packages are tier 3
// without a change to the table.
func classify(pkg string) (kind, string) {
	if pkg == in("protocol") {
		return protoRoot, ""
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

// tierOf returns the tier (0–4) of a protocol package, or -1 for anything
// else, including protocol/xmpptest and the documentation root.
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

// is returns an Applies for the protocol packages of kind k.
func is(k kind) func(string) bool {
	return func(pkg string) bool {
		got, _ := classify(pkg)
		return got == k
	}
}

// atMost returns a MayImport that allows packages of other modules and
// protocol packages up to tier maxTier; the rest of this module is refused.
func atMost(maxTier int) func(pkg, imp string) bool {
	return func(_, imp string) bool {
		if !ours(imp) {
			return true
		}
		t := tierOf(imp)
		return t >= 0 && t <= maxTier
	}
}

// featureMayImport is the tier-3 row: tiers 0–2, the building blocks, and
// packages of the same feature (protocol/omemo may use protocol/omemo/x).
func featureMayImport(pkg, imp string) bool {
	if atMost(2)(pkg, imp) {
		return true
	}
	k, name := classify(imp)
	if k != feature {
		return false
	}
	_, own := classify(pkg)
	return name == own || slices.Contains(buildingBlocks(), name)
}

// protocolRules returns DESIGN.md §2 for protocol/: the tiers, the test
// infrastructure, and that the engine never reaches crypto, storage, the
// GUI or the binaries.
func protocolRules() []Rule {
	return []Rule{
		{
			ID:      "protocol/tier0",
			Name:    "protocol/jid, protocol/internal/*: std, golang.org/x/* and tier 0 only",
			Applies: is(tier0),
			MayImport: func(_, imp string) bool {
				return isStd(imp) || under(imp, "golang.org/x") || tierOf(imp) == 0
			},
		},
		{
			ID:        "protocol/tier1",
			Name:      "protocol tier 1 (stanza stream sasl dial): tiers 0–1 only",
			Applies:   is(tier1),
			MayImport: atMost(1),
		},
		{
			ID:        "protocol/tier2",
			Name:      "protocol tier 2 (session mux): tiers 0–2 only",
			Applies:   is(tier2),
			MayImport: atMost(2),
		},
		{
			ID: "protocol/feature",
			Name: "protocol/<feature>: tiers 0–2, its own subpackages and the building blocks " +
				strings.Join(buildingBlocks(), ", "),
			Applies:   is(feature),
			MayImport: featureMayImport,
		},
		{
			ID:      "protocol/client",
			Name:    "protocol/client: protocol/* only from this module",
			Applies: is(client),
			MayImport: func(_, imp string) bool {
				return !ours(imp) || tierOf(imp) >= 0
			},
		},
		{
			ID:      "protocol/xmpptest",
			Name:    "protocol/xmpptest: std and protocol tiers 0–1 only",
			Applies: is(xmpptest),
			MayImport: func(_, imp string) bool {
				t := tierOf(imp)
				return isStd(imp) || (t >= 0 && t <= 1)
			},
		},
		{
			ID:      "protocol/root",
			Name:    "protocol (documentation root): imports nothing from the module",
			Applies: is(protoRoot),
			MayImport: func(_, imp string) bool {
				return !ours(imp)
			},
		},
		{
			ID:           "protocol/never",
			Name:         "protocol/*: never crypto, storage, app, cmd, assets or fyne.io",
			Applies:      func(pkg string) bool { return under(pkg, in("protocol")) },
			MustNotReach: []string{in("crypto"), in("storage"), in("app"), in("cmd"), in("assets"), "fyne.io"},
		},
		{
			ID:   "protocol/no-xmpptest",
			Name: "only tests import protocol/xmpptest",
			Applies: func(pkg string) bool {
				return under(pkg, in("protocol")) && !under(pkg, xmpptestRoot)
			},
			MustNotReach: []string{xmpptestRoot},
		},
	}
}

// cryptoRules returns DESIGN.md §2 for crypto/: end-to-end encryption
// builds on the protocol engine and never on storage or the GUI.
func cryptoRules() []Rule {
	return []Rule{
		{
			ID:   "crypto/imports",
			Name: "crypto/*: from this module only protocol/* and crypto/*",
			Applies: func(pkg string) bool {
				return under(pkg, in("crypto")) && pkg != in("crypto")
			},
			MayImport: func(_, imp string) bool {
				return !ours(imp) || under(imp, in("protocol")) || under(imp, in("crypto"))
			},
		},
		{
			ID:      "crypto/root",
			Name:    "crypto (documentation root): imports nothing from the module",
			Applies: func(pkg string) bool { return pkg == in("crypto") },
			MayImport: func(_, imp string) bool {
				return !ours(imp)
			},
		},
		{
			ID:           "crypto/never",
			Name:         "crypto/*: never storage, app, cmd, fyne.io, or protocol/xmpptest outside tests",
			Applies:      func(pkg string) bool { return under(pkg, in("crypto")) },
			MustNotReach: []string{in("storage"), in("app"), in("cmd"), "fyne.io", xmpptestRoot},
		},
	}
}

// storageRules returns DESIGN.md §2 for storage/: storage implements
// interfaces of the engine and of crypto and never reaches the GUI.
func storageRules() []Rule {
	return []Rule{
		{
			ID:   "storage/imports",
			Name: "storage/*: from this module only protocol/*, crypto/* and storage/*",
			Applies: func(pkg string) bool {
				return under(pkg, in("storage")) && pkg != in("storage")
			},
			MayImport: func(_, imp string) bool {
				return !ours(imp) || under(imp, in("protocol")) || under(imp, in("crypto")) || under(imp, in("storage"))
			},
		},
		{
			ID:      "storage/root",
			Name:    "storage (documentation root): imports nothing from the module",
			Applies: func(pkg string) bool { return pkg == in("storage") },
			MayImport: func(_, imp string) bool {
				return !ours(imp)
			},
		},
		{
			ID:           "storage/never",
			Name:         "storage/*: never app, cmd, fyne.io, or protocol/xmpptest outside tests",
			Applies:      func(pkg string) bool { return under(pkg, in("storage")) },
			MustNotReach: []string{in("app"), in("cmd"), "fyne.io", xmpptestRoot},
		},
	}
}

// isModel reports whether pkg is the toolkit-free view model or inside it.
func isModel(pkg string) bool { return under(pkg, in("app/model")) }

// isGUI reports whether pkg is under app/ but not the view model.
func isGUI(pkg string) bool { return under(pkg, in("app")) && !isModel(pkg) }

// appRules returns DESIGN.md §2 for app/: the GUI talks to the engine
// through protocol/client only, never to storage or the lower protocol
// tiers, keeps the view model toolkit-free, and leaves fyne.io/fyne/v2/app
// (the real driver) to cmd/tern so that every GUI package, widgets
// included, tests headless with fyne.io/fyne/v2/test.
func appRules() []Rule {
	return []Rule{
		{
			ID:      "app/model-imports",
			Name:    "app/model: from this module only protocol/client and protocol/jid",
			Applies: isModel,
			MayImport: func(_, imp string) bool {
				return !ours(imp) || isModel(imp) || under(imp, in("protocol/client")) || under(imp, in("protocol/jid"))
			},
		},
		{
			ID:           "app/model-never",
			Name:         "app/model: never fyne.io, storage, cmd, or protocol/xmpptest outside tests",
			Applies:      isModel,
			MustNotReach: []string{"fyne.io", in("storage"), in("cmd"), xmpptestRoot},
		},
		{
			ID: "app/imports",
			Name: "app/*: from this module only app/*, protocol/client, protocol/jid, crypto/omemo and assets " +
				"(never storage, protocol/session, protocol/mux, protocol/stanza)",
			Applies: isGUI,
			MayImport: func(_, imp string) bool {
				return !ours(imp) || under(imp, in("app")) || under(imp, in("protocol/client")) ||
					under(imp, in("protocol/jid")) || under(imp, in("crypto/omemo")) || under(imp, in("assets"))
			},
		},
		{
			ID: "app/never",
			Name: "app/*: never storage, cmd, protocol/xmpptest outside tests, or fyne.io/fyne/v2/app " +
				"(only cmd/tern starts the real driver)",
			Applies:      isGUI,
			MustNotReach: []string{in("storage"), in("cmd"), "fyne.io/fyne/v2/app", xmpptestRoot},
		},
	}
}

// assetsRules returns DESIGN.md §2 for assets/: embedded files only, no
// toolkit, nothing else from the module.
func assetsRules() []Rule {
	return []Rule{
		{
			ID:        "assets/imports",
			Name:      "assets/*: nothing from the module",
			Applies:   func(pkg string) bool { return under(pkg, in("assets")) },
			MayImport: func(_, imp string) bool { return !ours(imp) },
		},
		{
			ID:           "assets/never",
			Name:         "assets/*: no fyne.io (the GUI wraps the bytes itself)",
			Applies:      func(pkg string) bool { return under(pkg, in("assets")) },
			MustNotReach: []string{"fyne.io"},
		},
	}
}

// cmdRules returns DESIGN.md §2 for cmd/. cmd/* is the composition root and
// may import everything, with three limits: no test infrastructure in a
// binary, the headless tern-cli never links the GUI toolkit, and only
// cmd/tern starts Fyne's real driver (fyne.io/fyne/v2/app).
func cmdRules() []Rule {
	tern, cli := in("cmd/tern"), in("cmd/tern-cli")
	return []Rule{
		{
			ID:      "cmd/root",
			Name:    "cmd (documentation root): imports nothing from the module",
			Applies: func(pkg string) bool { return pkg == in("cmd") },
			MayImport: func(_, imp string) bool {
				return !ours(imp)
			},
		},
		{
			ID:           "cmd/tern",
			Name:         "cmd/tern: everything except protocol/xmpptest",
			Applies:      func(pkg string) bool { return under(pkg, tern) },
			MustNotReach: []string{xmpptestRoot},
		},
		{
			ID:           "cmd/tern-cli",
			Name:         "cmd/tern-cli: headless, so no fyne.io; never protocol/xmpptest",
			Applies:      func(pkg string) bool { return under(pkg, cli) },
			MustNotReach: []string{"fyne.io", xmpptestRoot},
		},
		{
			ID:   "cmd/other",
			Name: "other cmd/*: only cmd/tern starts fyne.io/fyne/v2/app; never protocol/xmpptest",
			Applies: func(pkg string) bool {
				return under(pkg, in("cmd")) && pkg != in("cmd") && !under(pkg, tern) && !under(pkg, cli)
			},
			MustNotReach: []string{"fyne.io/fyne/v2/app", xmpptestRoot},
		},
	}
}
