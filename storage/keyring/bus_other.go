//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keyring

// checkBus has nothing to check where go-keyring uses no D-Bus (macOS,
// Windows) or no keyring at all (where it reports ErrUnsupportedPlatform).
func checkBus() error { return nil }
