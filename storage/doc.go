// Package storage is the root of Tern's persistence. It holds no code:
// storage/sqlite keeps one SQLite database per profile (accounts, roster,
// history with XEP-0359 stanza IDs for deduplication, the XEP-0313 archive
// position, the outbox, and OMEMO state) behind embedded forward-only
// migrations, and storage/keyring keeps passwords and the key protecting
// private keys in the OS keyring (the freedesktop Secret Service on Linux).
//
// storage/* implements interfaces declared by its consumers (client.Store,
// client.Credentials, omemo.Store) and may import protocol/* and crypto/*, but
// never app or fyne.io; deps_test.go in this directory enforces that
// (DESIGN.md §2).
package storage
