//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keyring

import (
	"fmt"
	"os"
	"path/filepath"

	dbus "github.com/godbus/dbus/v5"
)

// checkBus connects to the D-Bus session bus that go-keyring will use (the
// same shared connection), so that a missing bus is reported as such. When
// the environment names no bus and the standard socket is absent, it fails
// without connecting: godbus would run dbus-launch, which starts a bus
// daemon that nobody stops and that has no Secret Service anyway.
func checkBus() error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || addr == "autolaunch:" {
		// The places godbus looks before autolaunching (its
		// tryDiscoverDbusSessionBusAddress).
		dir := fmt.Sprintf("/run/user/%d", os.Getuid())
		if !exists(filepath.Join(dir, "bus")) && !exists(filepath.Join(dir, "dbus-session")) {
			return fmt.Errorf("%w: DBUS_SESSION_BUS_ADDRESS is not set and %s/bus does not exist", errNoBus, dir)
		}
	}
	if _, err := dbus.SessionBus(); err != nil {
		return fmt.Errorf("%w: %w", errNoBus, err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
