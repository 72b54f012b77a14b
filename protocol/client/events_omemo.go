package client

import "github.com/tern-im/tern/protocol/jid"

// DecryptionFailed: an OMEMO message could not be decrypted. It is stored
// in the conversation as Message (empty body, Failure the Reason); Repair
// says what may heal the session (Client.Repair for RepairNewSession; a
// trust decision first for RepairVerify).
type DecryptionFailed struct {
	Conversation ConversationID
	Message      MessageID
	// From is the sender's address as received, Device its device id (0
	// when the message was malformed).
	From   jid.JID
	Device uint32
	Reason string
	Repair Repair
}

// DevicesChanged: Owner (a contact, or our own account) published a new
// OMEMO device list; read the devices with Client.Devices.
type DevicesChanged struct {
	Owner   jid.JID
	Devices []uint32
}

// TrustNeeded: devices of Owner wait for the user's decision about their
// identity key (a new device of a contact with verified devices, or a
// changed key): messages are not encrypted to them until the user trusts
// them (Client.SetTrust). Reported once per session and device.
type TrustNeeded struct {
	Owner   jid.JID
	Devices []uint32
}

// OMEMOReady: after a new session, our OMEMO device (Device) is set up
// and, when Published, its bundle and the device list naming it are on
// our server, so that contacts can encrypt to it.
type OMEMOReady struct {
	Device    uint32
	Published bool
}

func (OMEMOReady) isEvent()       {}
func (DecryptionFailed) isEvent() {}
func (DevicesChanged) isEvent()   {}
func (TrustNeeded) isEvent()      {}
