//go:build linux || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	dbus "github.com/godbus/dbus/v5"
)

// trayHost reports whether the desktop shows tray icons: whether a
// StatusNotifierWatcher, which Fyne's tray registers with, is on the
// session bus. Without a bus it says no, and never has godbus launch one
// (as storage/keyring does not). It answers false when ctx ends first.
func trayHost(ctx context.Context) bool {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr == "" || addr == "autolaunch:" {
		if _, err := os.Stat(filepath.Join(fmt.Sprintf("/run/user/%d", os.Getuid()), "bus")); err != nil {
			return false
		}
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
