//go:build !(linux || freebsd || netbsd || openbsd || dragonfly)

package main

import "context"

// trayHost reports whether the desktop shows tray icons: macOS and
// Windows always do.
func trayHost(context.Context) bool { return true }
