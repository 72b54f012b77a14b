#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Tern needs, and nothing twice.
#
#   scripts/deps.sh gui   what building and running the GUI needs
#   scripts/deps.sh all   everything `make test` needs (default)
#
# It checks each package with dpkg-query and runs apt-get (update, then
# install) only when something is missing, so a second run does no apt work.
# Debian starts the prosody and ejabberd system services on install in some
# environments; tests run private instances, so this stops and disables
# them. It also generates the en_US.UTF-8 locale the tests prefer.
set -euo pipefail

mode=${1:-all}

# Building the GUI (cgo: GLFW and go-gl) and running it with software OpenGL.
gui=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
	libxinerama-dev libxi-dev libxxf86vm-dev)
# Tests: a headless X server, driving and screenshots, Secret Service,
# notifications, the XMPP servers (lua-dbi-sqlite3: Prosody's SQL archive
# storage, for the catch-up benchmark; erlang-p1-sqlite3: ejabberd's SQLite
# archive — its default Mnesia archive stops storing past 2 GB, reached in
# minutes of chaos testing), the independent OMEMO peer (run with
# /usr/bin/python3), libsignal's C library for interop checks, and locales.
test=(xvfb xauth libgl1-mesa-dri xdotool x11-utils imagemagick dbus gnome-keyring
	dunst prosody lua-dbi-sqlite3 ejabberd erlang-p1-sqlite3 python3-slixmpp python3-omemo python3-oldmemo python3-twomemo
	python3-xmlschema libsignal-protocol-c-dev locales)
services=(prosody ejabberd)

case $mode in
gui) want=("${gui[@]}") ;;
all) want=("${gui[@]}" "${test[@]}") ;;
*)
	echo "usage: $0 [gui|all]" >&2
	exit 2
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: this is not a Debian/Ubuntu system, so install these yourself" >&2
	echo "      (names are Debian's; your distribution's may differ):" >&2
	printf '        %s\n' "${want[@]}" >&2
	echo "      and Go 1.26 or later. See README.md for macOS and Windows." >&2
	exit 1
fi

if ! command -v go >/dev/null 2>&1; then
	echo "deps: warning: no go on PATH; install Go 1.26 or later (https://go.dev/dl/)" >&2
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: not root and no sudo; run this as root" >&2
		exit 1
	fi
	sudo=(sudo)
fi

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#want[@]} packages installed"
else
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# Tests start private server instances; a system service would hold the
# standard ports and start with the machine. Stop the ones installed just now
# (some environments start them on install) and disable every enabled one,
# so a second run finds nothing to do. A service that was already installed
# is not stopped here: its process may be someone's test instance.
for svc in "${services[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$svc" 2>/dev/null || true)" = "install ok installed" ] || continue
	if [[ " ${missing[*]} " == *" $svc "* ]]; then
		echo "deps: stopping the $svc system service (tests run their own)"
		if [ -d /run/systemd/system ]; then
			"${sudo[@]}" systemctl stop "$svc" >/dev/null 2>&1 || true
		else
			"${sudo[@]}" service "$svc" stop >/dev/null 2>&1 || true
		fi
	fi
	if systemctl is-enabled --quiet "$svc" 2>/dev/null || compgen -G "/etc/rc[2-5].d/S*$svc" >/dev/null; then
		echo "deps: disabling the $svc system service (tests run their own)"
		"${sudo[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
		if command -v update-rc.d >/dev/null 2>&1; then
			"${sudo[@]}" update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi
	fi
done

# The tests run with LANG=en_US.UTF-8 (Fyne logs a locale error for C.UTF-8).
if [ "$mode" = all ] && ! locale -a 2>/dev/null | grep -qiE '^en_US\.utf-?8$'; then
	echo "deps: generating the en_US.UTF-8 locale"
	"${sudo[@]}" sed -i -E 's/^#[[:space:]]*(en_US\.UTF-8[[:space:]]+UTF-8)/\1/' /etc/locale.gen
	"${sudo[@]}" locale-gen >/dev/null
fi
