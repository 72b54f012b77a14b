package delay_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/delay"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		// XEP-0082 §3.2 examples.
		{in: "1969-07-21T02:56:15Z", want: time.Date(1969, 7, 21, 2, 56, 15, 0, time.UTC)},
		{in: "1969-07-20T21:56:15-05:00", want: time.Date(1969, 7, 21, 2, 56, 15, 0, time.UTC)},
		{in: "2002-09-10T23:08:25.123Z", want: time.Date(2002, 9, 10, 23, 8, 25, 123e6, time.UTC)},
		{in: "2002-09-10T23:08:25.123456789123+01:30", want: time.Date(2002, 9, 10, 21, 38, 25, 123456789, time.UTC)},
		{in: " 2002-09-10T23:08:25Z\n", want: time.Date(2002, 9, 10, 23, 8, 25, 0, time.UTC)},
		{in: "2002-09-10T23:08:25", err: true},      // the time zone is mandatory
		{in: "2002-09-10T23:08:25,5Z", err: true},   // comma fraction
		{in: "2002-09-10T24:00:00Z", err: true},     // hour out of range
		{in: "2002-09-10T23:08:25+0500", err: true}, // offset without colon
		{in: "20020910T23:08:25", err: true},        // legacy form is not XEP-0082
		{in: "2002-09-10", err: true},
		{in: "", err: true},
		{in: "2002-09-10T23:08:25.1234567890123456789012345678901234567890123456789Z", err: true}, // over the length limit
	}
	for _, tt := range tests {
		got, err := delay.ParseTime(tt.in)
		if tt.err {
			if !errors.Is(err, delay.ErrTime) {
				t.Errorf("ParseTime(%q) = %v, %v; want ErrTime", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v in UTC", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2010, 7, 10, 23, 8, 25, 0, time.UTC), "2010-07-10T23:08:25Z"},
		{time.Date(2010, 7, 10, 23, 8, 25, 5e8, time.FixedZone("x", 3600)), "2010-07-10T22:08:25.5Z"},
	}
	for _, tt := range tests {
		if got := delay.FormatTime(tt.in); got != tt.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := delay.ParseTime(delay.FormatTime(tt.in))
		if err != nil || !back.Equal(tt.in) {
			t.Errorf("ParseTime(FormatTime(%v)) = %v, %v", tt.in, back, err)
		}
	}
}

func TestParse(t *testing.T) {
	stamp := time.Date(2002, 9, 10, 23, 8, 25, 0, time.UTC)
	tests := []struct {
		name string
		xml  string
		want delay.Delay
		err  bool
	}{
		{
			name: "XEP-0203 example 1: offline storage with reason",
			xml:  "<delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='2002-09-10T23:08:25Z'>Offline Storage</delay>",
			want: delay.Delay{Stamp: stamp, From: jid.MustParse("capulet.com"), Reason: "Offline Storage"},
		},
		{
			name: "XEP-0203 example 3: MUC history",
			xml:  "<delay xmlns='urn:xmpp:delay' from='coven@macbeth.shakespeare.lit' stamp='2002-09-10T23:05:37Z'/>",
			want: delay.Delay{Stamp: time.Date(2002, 9, 10, 23, 5, 37, 0, time.UTC), From: jid.MustParse("coven@macbeth.shakespeare.lit")},
		},
		{
			name: "XEP-0091 legacy stamp",
			xml:  "<x xmlns='jabber:x:delay' from='capulet.com' stamp='20020910T23:08:25'>Offline Storage</x>",
			want: delay.Delay{Stamp: stamp, From: jid.MustParse("capulet.com"), Reason: "Offline Storage"},
		},
		{
			name: "XEP-0091 element with a XEP-0082 stamp",
			xml:  "<x xmlns='jabber:x:delay' stamp='2002-09-10T23:08:25Z'/>",
			want: delay.Delay{Stamp: stamp},
		},
		{
			name: "invalid from is dropped",
			xml:  "<delay xmlns='urn:xmpp:delay' from='@bad' stamp='2002-09-10T23:08:25Z'/>",
			want: delay.Delay{Stamp: stamp},
		},
		{name: "no stamp", xml: "<delay xmlns='urn:xmpp:delay' from='capulet.com'/>", err: true},
		{name: "bad stamp", xml: "<delay xmlns='urn:xmpp:delay' stamp='yesterday'/>", err: true},
		{name: "legacy stamp in new namespace", xml: "<delay xmlns='urn:xmpp:delay' stamp='20020910T23:08:25'/>", err: true},
		{name: "wrong element", xml: "<x xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/>", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := delay.Parse(mustParse(t, tt.xml))
			if tt.err {
				if !errors.Is(err, delay.ErrMalformed) {
					t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
				}
				return
			}
			if err != nil || !got.Stamp.Equal(tt.want.Stamp) || got.From != tt.want.From || got.Reason != tt.want.Reason {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tt.want)
			}
			// Round trip through our own element.
			back, err := delay.Parse(mustParse(t, got.Element().String()))
			if err != nil || !back.Stamp.Equal(got.Stamp) || back.From != got.From || back.Reason != got.Reason {
				t.Fatalf("round trip %s = %+v, %v", got.Element(), back, err)
			}
		})
	}
}

func TestElement(t *testing.T) {
	d := delay.Delay{Stamp: time.Date(2010, 7, 10, 23, 8, 25, 0, time.UTC)}
	if got, want := d.Element().String(), "<delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>"; got != want {
		t.Errorf("Element = %s, want %s", got, want)
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want time.Time
		ok   bool
	}{
		{
			name: "XEP-0203 example 2: presence",
			xml: `<presence xmlns='jabber:client' from='juliet@capulet.com/balcony' to='romeo@montague.net'>
  <status>anon!</status><show>xa</show><priority>1</priority>
  <delay xmlns='urn:xmpp:delay' from='juliet@capulet.com/balcony' stamp='2002-09-10T23:41:07Z'/>
</presence>`,
			want: time.Date(2002, 9, 10, 23, 41, 7, 0, time.UTC),
			ok:   true,
		},
		{
			name: "XEP-0203 preferred over XEP-0091 whatever the order",
			xml: `<message xmlns='jabber:client'><x xmlns='jabber:x:delay' stamp='20020910T23:08:25'/>
<delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:26Z'/></message>`,
			want: time.Date(2002, 9, 10, 23, 8, 26, 0, time.UTC),
			ok:   true,
		},
		{
			name: "legacy fallback",
			xml:  `<message xmlns='jabber:client'><x xmlns='jabber:x:delay' stamp='20020910T23:08:25'/></message>`,
			want: time.Date(2002, 9, 10, 23, 8, 25, 0, time.UTC),
			ok:   true,
		},
		{
			name: "an invalid delay is skipped",
			xml: `<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='soon'/>
<delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:27Z'/></message>`,
			want: time.Date(2002, 9, 10, 23, 8, 27, 0, time.UTC),
			ok:   true,
		},
		{name: "none", xml: `<message xmlns='jabber:client'><body>hi</body></message>`},
		{name: "only invalid", xml: `<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay'/></message>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := delay.Find(mustParse(t, tt.xml))
			if ok != tt.ok || !got.Stamp.Equal(tt.want) {
				t.Fatalf("Find = %+v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := delay.Find(nil); ok {
		t.Error("Find(nil) found a delay")
	}
}
