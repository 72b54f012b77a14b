package theme

import (
	"fyne.io/fyne/v2"
	fynetheme "fyne.io/fyne/v2/theme"
)

// Tern's own icons: 24×24 SVG drawn for Tern from simple shapes, themed
// (they take the foreground colour, or that of the importance they are
// shown with).

const (
	lockSVG   = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M7 11V8a5 5 0 0 1 10 0v3h-2V8a3 3 0 0 0-6 0v3z"/><rect fill="#000000" x="5" y="11" width="14" height="10" rx="2"/></svg>`
	unlockSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M7 11V8a5 5 0 0 1 9.7-1.7l-1.9.6A3 3 0 0 0 9 8v3z"/><path fill="#000000" d="M5 11h14v10H5zM7 13v6h10v-6z"/></svg>`
	pinSVG    = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M12 2a6 6 0 0 0-6 6c0 4.5 6 13 6 13s6-8.5 6-13a6 6 0 0 0-6-6zM12 5.5a2.5 2.5 0 1 1 0 5a2.5 2.5 0 1 1 0-5z"/></svg>`
	emojiSVG  = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#000000" d="M12 3a9 9 0 1 1 0 18a9 9 0 1 1 0-18zM12 5a7 7 0 1 0 0 14a7 7 0 1 0 0-14z"/><circle fill="#000000" cx="9" cy="10" r="1.5"/><circle fill="#000000" cx="15" cy="10" r="1.5"/><path fill="#000000" d="M7.5 13.5h9a4.5 4.5 0 0 1-9 0z"/></svg>`
)

// LockIcon is a closed padlock: end-to-end encrypted.
func LockIcon() fyne.Resource {
	return fynetheme.NewThemedResource(fyne.NewStaticResource("tern-lock.svg", []byte(lockSVG)))
}

// UnlockIcon is an open padlock: not encrypted.
func UnlockIcon() fyne.Resource {
	return fynetheme.NewThemedResource(fyne.NewStaticResource("tern-unlock.svg", []byte(unlockSVG)))
}

// PinIcon is a pin: a conversation kept at the top of the list.
func PinIcon() fyne.Resource {
	return fynetheme.NewThemedResource(fyne.NewStaticResource("tern-pin.svg", []byte(pinSVG)))
}

// EmojiIcon is a smiling face: the emoji picker.
func EmojiIcon() fyne.Resource {
	return fynetheme.NewThemedResource(fyne.NewStaticResource("tern-emoji.svg", []byte(emojiSVG)))
}
