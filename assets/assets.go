// Package assets holds the files Tern ships inside its binaries: the
// application icon now, and sounds and translations later. They are embedded
// with //go:embed so a single binary is complete.
//
// The package has no Fyne import (DESIGN.md §2): the GUI wraps these bytes in
// fyne resources itself, and the headless tern-cli can use them too.
//
// The icon is drawn by scripts/genicon.go (go run scripts/genicon.go
// assets/icon.png); change the generator, not the PNG.
package assets

import _ "embed"

// Icon is Tern's application icon: a 512×512 PNG of a tern flying across a
// speech bubble on a calm blue tile.
//
//go:embed icon.png
var Icon []byte

// IconName is the file name Icon was embedded from, for toolkits that want a
// name with the bytes.
const IconName = "icon.png"
