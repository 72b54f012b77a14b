// Package cmd is the root of Tern's binaries and holds no code. cmd/tern is
// the desktop GUI and cmd/tern-cli its headless companion; both are
// composition roots that wire the XMPP engine (RFC 6120, RFC 6121 and the
// supported XEPs, see README.md), storage and the GUI together, and the only
// packages allowed to import everything.
//
// deps_test.go in this directory enforces the few limits that remain: no test
// infrastructure (protocol/xmpptest) in a binary, no toolkit in tern-cli,
// and only cmd/tern starts Fyne's real driver. It also keeps the top level
// of the module fixed (DESIGN.md §1).
package cmd
