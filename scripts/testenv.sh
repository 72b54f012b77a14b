#!/usr/bin/env bash
# Run a command in Tern's test environment: a headless X server (Xvfb), a
# private D-Bus session bus, an unlocked GNOME keyring answering the Secret
# Service API, private XDG directories, and an UTF-8 locale.
#
#   scripts/testenv.sh go test ./...
#   scripts/testenv.sh sh -c 'secret-tool store --label t k v <<<secret'
#
# Everything it starts ends with the command, and its temporary directory is
# removed. The exit status is the command's.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi
for tool in xvfb-run xauth dbus-run-session gnome-keyring-daemon; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "testenv: $tool not found; run 'make deps' (or scripts/deps.sh)" >&2
		exit 1
	fi
done

# Keep Go's caches and settings where they are: they default to the XDG
# directories this script replaces, and a cold cache costs minutes.
if command -v go >/dev/null 2>&1; then
	GOCACHE=$(go env GOCACHE)
	GOMODCACHE=$(go env GOMODCACHE)
	GOENV=$(go env GOENV)
	export GOCACHE GOMODCACHE GOENV
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tern-testenv.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/state" "$tmp/run"
chmod 700 "$tmp/run"
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" \
	XDG_STATE_HOME="$tmp/state" XDG_RUNTIME_DIR="$tmp/run"

# Fyne logs a locale error under C.UTF-8, so prefer en_US.UTF-8 when the
# system has it (make deps generates it).
if locale -a 2>/dev/null | grep -qiE '^en_US\.utf-?8$'; then
	lang=en_US.UTF-8
else
	lang=C.UTF-8
fi
export LANG=$lang LC_ALL=$lang
unset LANGUAGE LC_MESSAGES

# Nothing of the caller's desktop leaks in.
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK

# xvfb-run picks a free display (-a) and stops Xvfb afterwards;
# dbus-run-session stops the bus, and the keyring daemon and any
# bus-activated service (dunst) leave with it. The keyring is created
# and unlocked with a throwaway password.
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
	dbus-run-session -- sh -c '
		printf %s tern-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || {
			echo "testenv: gnome-keyring-daemon failed to start" >&2
			exit 1
		}
		exec "$@"
	' testenv "$@"
