// Package account holds Tern's account screens: signing in with an
// existing XMPP account (RFC 6120), creating one by in-band registration
// (XEP-0077) with the server's data form (XEP-0004) rendered generically,
// and the prompts for a password the keyring does not keep and for the
// passphrase of the data key. The engine work runs off the UI thread in
// functions the caller provides; results cross back with fyne.Do.
package account
