package omemo_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/omemo"
)

// FuzzParseEncrypted feeds arbitrary messages to Find. It must not panic,
// what it accepts must respect the limits, and writing it back must parse
// to the same value.
func FuzzParseEncrypted(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		e, err := omemo.Find(el)
		if err != nil {
			if !errors.Is(err, omemo.ErrNotEncrypted) && !errors.Is(err, omemo.ErrMalformed) && !errors.Is(err, omemo.ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !omemo.ValidID(e.SID) || len(e.Keys) == 0 || len(e.Keys) > omemo.MaxKeys || len(e.Payload) > omemo.MaxPayload {
			t.Fatalf("accepted %+v", e)
		}
		for _, k := range e.Keys {
			if !omemo.ValidID(k.RID) || len(k.Data) == 0 || len(k.Data) > omemo.MaxKeyData {
				t.Fatalf("accepted key %+v", k)
			}
		}
		if e.Payload != nil && len(e.IV) != omemo.IVSize && len(e.IV) != omemo.LegacyIVSize {
			t.Fatalf("accepted IV of %d bytes with a payload", len(e.IV))
		}
		msg := xmlstream.New("jabber:client", "message")
		omemo.AddTo(msg, e)
		back, err := xmlstream.Parse(xmlstream.Append(nil, msg, ""))
		if err != nil {
			t.Fatalf("our message does not parse: %v", err)
		}
		e2, err := omemo.Find(back)
		if err != nil {
			t.Fatalf("our message %s: %v", back, err)
		}
		if e.IV == nil {
			e.IV = []byte{} // written as an empty <iv/>
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip\n%+v\n%+v", e, e2)
		}
	})
}

// FuzzParseDeviceList feeds arbitrary messages to ParseDeviceListEvent as
// romeo@montague.lit. It must not panic, must only accept lists from a
// bare JID, and what it accepts must round-trip through DeviceListElement.
func FuzzParseDeviceList(f *testing.F) {
	own := jid.MustParse("romeo@montague.lit/orchard")
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		owner, ids, err := omemo.ParseDeviceListEvent(el, own)
		if err != nil {
			return
		}
		if owner.Resource() != "" || owner.Local() == "" {
			t.Fatalf("accepted a list from %v", owner)
		}
		if from := el.Get("from"); from != "" {
			if j, err := jid.Parse(from); err != nil || j != owner {
				t.Fatalf("owner %v from %q", owner, from)
			}
		}
		if len(ids) > omemo.MaxDevices {
			t.Fatalf("%d devices", len(ids))
		}
		for i, id := range ids {
			if !omemo.ValidID(id) || (i > 0 && ids[i-1] >= id) {
				t.Fatalf("ids %v", ids)
			}
		}
		back, err := omemo.ParseDeviceList(omemo.DeviceListElement(ids))
		if err != nil || !reflect.DeepEqual(back, ids) {
			t.Fatalf("round trip %v -> %v, %v", ids, back, err)
		}
	})
}

// FuzzParseBundle feeds arbitrary IQ results to ParseBundleResult for
// device 31415. It must not panic, must only return valid bundles, and
// must read back what it writes.
func FuzzParseBundle(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		b, err := omemo.ParseBundleResult(el, 31415)
		if err != nil {
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("returned an invalid bundle: %v", err)
		}
		back, err := omemo.ParseBundle(b.Element())
		if err != nil || !reflect.DeepEqual(back, b) {
			t.Fatalf("round trip: %+v\n%+v, %v", b, back, err)
		}
	})
}
