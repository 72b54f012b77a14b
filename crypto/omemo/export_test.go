package omemo

// OpenPayload exposes the payload decryption to the black-box tests, for
// the legacy formats no current client (ours included) still writes.
var OpenPayload = openPayload

// CheckSignalMessage and CheckPreKeySignalMessage expose the checks that
// run before the Signal library sees a message.
var (
	CheckSignalMessage       = checkSignalMessage
	CheckPreKeySignalMessage = checkPreKeySignalMessage
)
