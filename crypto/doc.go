// Package crypto is the root of Tern's end-to-end encryption. It holds no
// code: crypto/omemo implements OMEMO (XEP-0384, the 0.3 "eu.siacs.conversations.axolotl"
// namespace) on go.mau.fi/libsignal — the own device, sessions,
// encryption and decryption, device lists and the trust policy — and
// declares the omemo.Store interface that storage/sqlite implements.
//
// crypto/* may import protocol/* but never storage, app or fyne.io;
// deps_test.go in this directory enforces that (DESIGN.md §2).
package crypto
