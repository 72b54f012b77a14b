//go:build !(linux || freebsd || netbsd || openbsd || dragonfly)

package main

// trayHost reports whether the desktop shows tray icons: macOS and
// Windows always do.
func trayHost() bool { return true }
