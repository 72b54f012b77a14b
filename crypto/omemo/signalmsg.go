package omemo

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/omemo"
)

// The library parses Signal messages with protobuf and then trusts what it
// read: ecc.DecodePoint panics on an empty key, a ciphertext that is not a
// whole number of AES blocks panics in CBC decryption, and short input is
// sliced unchecked. So every Signal message from a peer is checked here
// first, with a reader of the same wire format that keeps what protobuf
// keeps (the last occurrence of a field with the expected wire type;
// others are unknown fields and skipped), and only a message that passes
// goes to the library.

// errSignalMessage is wrapped by every rejection of checkSignalMessage and
// checkPreKeySignalMessage.
var errSignalMessage = errors.New("malformed Signal message")

// macSize is the truncated HMAC-SHA256 at the end of a SignalMessage.
const macSize = 8

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// protoField is one field of a protobuf message.
type protoField struct {
	num    uint64
	wire   int
	varint uint64
	bytes  []byte
}

// readVarint reads a protobuf varint.
func readVarint(b []byte) (uint64, int, bool) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			if i == 9 && b[i] > 1 {
				return 0, 0, false
			}
			return v, i + 1, true
		}
	}
	return 0, 0, false
}

// walkProto calls fn for each field of a protobuf message, in order. It
// fails on anything protobuf itself would reject (truncated fields,
// groups, field number 0).
func walkProto(b []byte, fn func(f protoField)) error {
	for len(b) > 0 {
		tag, n, ok := readVarint(b)
		if !ok {
			return fmt.Errorf("%w: bad tag", errSignalMessage)
		}
		b = b[n:]
		f := protoField{num: tag >> 3, wire: int(tag & 7)}
		if f.num == 0 || f.num > 1<<29-1 {
			return fmt.Errorf("%w: bad field number", errSignalMessage)
		}
		switch f.wire {
		case wireVarint:
			v, n, ok := readVarint(b)
			if !ok {
				return fmt.Errorf("%w: bad varint", errSignalMessage)
			}
			f.varint, b = v, b[n:]
		case wireFixed64:
			if len(b) < 8 {
				return fmt.Errorf("%w: truncated", errSignalMessage)
			}
			b = b[8:]
		case wireFixed32:
			if len(b) < 4 {
				return fmt.Errorf("%w: truncated", errSignalMessage)
			}
			b = b[4:]
		case wireBytes:
			l, n, ok := readVarint(b)
			if !ok || l > uint64(len(b)-n) {
				return fmt.Errorf("%w: truncated", errSignalMessage)
			}
			f.bytes, b = b[n:n+int(l)], b[n+int(l):]
		default:
			// Groups (3, 4) are not used by the Signal messages; refuse
			// them rather than track their nesting.
			return fmt.Errorf("%w: wire type %d", errSignalMessage, f.wire)
		}
		fn(f)
	}
	return nil
}

// checkSignalMessage checks a serialised SignalMessage: version byte 3,
// a protobuf with a 33-byte ratchet key of type 5 (field 1) and a
// ciphertext of whole AES blocks (field 4), then an 8-byte MAC.
func checkSignalMessage(b []byte) error {
	if len(b) < 1+macSize+1 {
		return fmt.Errorf("%w: %d bytes", errSignalMessage, len(b))
	}
	if b[0]>>4 != 3 {
		return fmt.Errorf("%w: version %d", errSignalMessage, b[0]>>4)
	}
	var ratchet, ciphertext []byte
	haveRatchet, haveCiphertext := false, false
	err := walkProto(b[1:len(b)-macSize], func(f protoField) {
		if f.wire != wireBytes {
			return
		}
		switch f.num {
		case 1:
			ratchet, haveRatchet = f.bytes, true
		case 4:
			ciphertext, haveCiphertext = f.bytes, true
		}
	})
	switch {
	case err != nil:
		return err
	case !haveRatchet || !omemo.ValidKey(ratchet):
		return fmt.Errorf("%w: ratchet key", errSignalMessage)
	case !haveCiphertext || len(ciphertext) == 0 || len(ciphertext)%16 != 0:
		return fmt.Errorf("%w: ciphertext of %d bytes", errSignalMessage, len(ciphertext))
	}
	return nil
}

// checkPreKeySignalMessage checks a serialised PreKeySignalMessage:
// version byte 3, a protobuf with a base key (field 2) and an identity key
// (field 3) of 33 bytes and type 5, and a valid SignalMessage (field 4).
// The prekey id (field 1) may be absent: the library reads both absent and
// 0 as "no one-time prekey".
func checkPreKeySignalMessage(b []byte) error {
	if len(b) < 2 {
		return fmt.Errorf("%w: %d bytes", errSignalMessage, len(b))
	}
	if b[0]>>4 != 3 {
		return fmt.Errorf("%w: version %d", errSignalMessage, b[0]>>4)
	}
	var base, ik, msg []byte
	var haveBase, haveIK, haveMsg bool
	err := walkProto(b[1:], func(f protoField) {
		if f.wire != wireBytes {
			return
		}
		switch f.num {
		case 2:
			base, haveBase = f.bytes, true
		case 3:
			ik, haveIK = f.bytes, true
		case 4:
			msg, haveMsg = f.bytes, true
		}
	})
	switch {
	case err != nil:
		return err
	case !haveBase || !omemo.ValidKey(base):
		return fmt.Errorf("%w: base key", errSignalMessage)
	case !haveIK || !omemo.ValidKey(ik):
		return fmt.Errorf("%w: identity key", errSignalMessage)
	case !haveMsg:
		return fmt.Errorf("%w: no message", errSignalMessage)
	}
	return checkSignalMessage(msg)
}
