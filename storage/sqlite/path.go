package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// FileName is the database's file name in the data directory.
const FileName = "tern.db"

// DefaultPath returns where the database lives by default:
// $XDG_DATA_HOME/tern/tern.db (else ~/.local/share/tern/tern.db) on Linux
// and other Unix systems, ~/Library/Application Support/Tern/tern.db on
// macOS, and %AppData%\Tern\tern.db on Windows.
func DefaultPath() (string, error) {
	return defaultPath(runtime.GOOS, os.Getenv)
}

// defaultPath is DefaultPath for an operating system and an environment.
// It follows os.UserConfigDir and os.UserHomeDir, with the XDG data
// directory instead of the configuration directory on Unix: history is
// data (XDG Base Directory Specification).
func defaultPath(goos string, getenv func(string) string) (string, error) {
	home := func() (string, error) {
		v := "HOME"
		switch goos {
		case "windows":
			v = "USERPROFILE"
		case "plan9":
			v = "home"
		}
		if h := getenv(v); h != "" {
			return h, nil
		}
		return "", fmt.Errorf("sqlite: $%s is not set", v)
	}
	switch goos {
	case "windows":
		dir := getenv("AppData")
		if dir == "" {
			return "", errors.New("sqlite: %AppData% is not set")
		}
		return filepath.Join(dir, "Tern", FileName), nil
	case "darwin", "ios":
		h, err := home()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "Library", "Application Support", "Tern", FileName), nil
	case "plan9":
		h, err := home()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "lib", "tern", FileName), nil
	}
	// The XDG specification says to ignore a relative path.
	if dir := getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "tern", FileName), nil
	}
	h, err := home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, ".local", "share", "tern", FileName), nil
}
