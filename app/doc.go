// Package app is Tern's desktop GUI on the Fyne toolkit: windows, menus and
// the bridge that carries engine results onto the UI thread. Fyne allows
// widget changes only on its thread; the only crossing in Tern is fyne.Do,
// called by goroutines this package owns once their (blocking) work is done.
//
// The GUI speaks XMPP (RFC 6120, RFC 6121) only through protocol/client and
// never imports storage or lower protocol tiers (DESIGN.md §2, checked by
// deps_test.go). It never imports fyne.io/fyne/v2/app either: cmd/tern
// creates the real fyne.App and hands it to Run, so every screen can be tested
// headless with fyne.io/fyne/v2/test.
//
// For now it shows the sign-in screen; the engine is injected as Deps.Connect.
package app
