package carbons_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tern-im/tern/protocol/carbons"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

var romeo = jid.MustParse("romeo@montague.example/home")

// XEP-0280 examples.
const (
	// Example 6: the server sends a carbon to Romeo's other clients.
	receivedCarbon = `<message xmlns='jabber:client'
         from='romeo@montague.example'
         to='romeo@montague.example/home'
         type='chat'>
  <received xmlns='urn:xmpp:carbons:2'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <message xmlns='jabber:client'
               from='juliet@capulet.example/balcony'
               to='romeo@montague.example/garden'
               type='chat'>
        <body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body>
        <thread>0e3141cd80894871a68e6fe6b1ec56fa</thread>
      </message>
    </forwarded>
  </received>
</message>`
	// Example 7: Tybalt attempts a carbons impersonation attack on Romeo.
	tybaltAttack = `<message xmlns='jabber:client'
         from='tybalt@capulet.example/home'
         to='romeo@montague.example'
         type='chat'>
  <received xmlns='urn:xmpp:carbons:2'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <message xmlns='jabber:client'
               from='juliet@capulet.example/balcony'
               to='romeo@montague.example/garden'
               type='chat'>
        <body>Thou shall meet me tonite, at our house's hall!</body>
      </message>
    </forwarded>
  </received>
</message>`
	// Example 9: Romeo's other carbons-enabled clients receive a copy.
	sentCarbon = `<message xmlns='jabber:client'
        from='romeo@montague.example'
        to='romeo@montague.example/garden'
        type='chat'>
  <sent xmlns='urn:xmpp:carbons:2'>
    <forwarded xmlns='urn:xmpp:forward:0'>
      <message xmlns='jabber:client'
               to='juliet@capulet.example/balcony'
               from='romeo@montague.example/home'
               type='chat'>
        <body>Neither, fair saint, if either thee dislike.</body>
        <thread>0e3141cd80894871a68e6fe6b1ec56fa</thread>
      </message>
    </forwarded>
  </sent>
</message>`
	// Example 11: Romeo sends to Juliet, excluding carbons.
	privateMessage = `<message xmlns='jabber:client'
         from='romeo@montague.example/home'
         to='juliet@capulet.example/home'
         type='chat'>
  <body>Neither, fair saint, if either thee dislike.</body>
  <thread>0e3141cd80894871a68e6fe6b1ec56fa</thread>
  <private xmlns='urn:xmpp:carbons:2'/>
  <no-copy xmlns='urn:xmpp:hints'/>
</message>`
)

func TestUnwrapXEPExamples(t *testing.T) {
	inner, sent, err := carbons.Unwrap(mustParse(t, receivedCarbon), romeo)
	if err != nil || sent || inner.Get("from") != "juliet@capulet.example/balcony" ||
		inner.ChildText("jabber:client", "thread") != "0e3141cd80894871a68e6fe6b1ec56fa" {
		t.Errorf("Unwrap(received) = %s, %v, %v", inner, sent, err)
	}

	inner, sent, err = carbons.Unwrap(mustParse(t, sentCarbon), romeo)
	if err != nil || !sent || inner.Get("to") != "juliet@capulet.example/balcony" ||
		inner.ChildText("jabber:client", "body") != "Neither, fair saint, if either thee dislike." {
		t.Errorf("Unwrap(sent) = %s, %v, %v", inner, sent, err)
	}

	// §11: Tybalt's forgery is refused, and nothing of it is returned.
	inner, sent, err = carbons.Unwrap(mustParse(t, tybaltAttack), jid.MustParse("romeo@montague.example"))
	if !errors.Is(err, carbons.ErrSpoofed) || inner != nil || sent {
		t.Errorf("Unwrap(attack) = %s, %v, %v; want ErrSpoofed", inner, sent, err)
	}

	if _, _, err := carbons.Unwrap(mustParse(t, privateMessage), romeo); !errors.Is(err, carbons.ErrNotCarbon) {
		t.Errorf("Unwrap(private message) = %v, want ErrNotCarbon", err)
	}
	if !carbons.IsPrivate(mustParse(t, privateMessage)) {
		t.Error("example 11 is private")
	}
}

func TestUnwrapRules(t *testing.T) {
	inner := `<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='juliet@capulet.example/balcony'><body>x</body></message></forwarded>`
	carbon := func(attrs, wrapper string) string {
		return `<message xmlns='jabber:client' ` + attrs + `>` + wrapper + `</message>`
	}
	received := `<received xmlns='urn:xmpp:carbons:2'>` + inner + `</received>`
	tests := []struct {
		name string
		xml  string
		err  error
	}{
		{"our bare JID", carbon(`from='romeo@montague.example'`, received), nil},
		{"our bare JID, unnormalised", carbon(`from='Romeo@Montague.Example'`, received), nil},
		{"no from", carbon(``, received), carbons.ErrSpoofed},
		{"our own full JID", carbon(`from='romeo@montague.example/garden'`, received), carbons.ErrSpoofed},
		{"our server", carbon(`from='montague.example'`, received), carbons.ErrSpoofed},
		{"a contact", carbon(`from='juliet@capulet.example'`, received), carbons.ErrSpoofed},
		{"an invalid from", carbon(`from='@montague.example'`, received), carbons.ErrSpoofed},
		{"spoofed and malformed is spoofed", carbon(`from='juliet@capulet.example'`, received+received), carbons.ErrSpoofed},
		{"both sent and received", carbon(`from='romeo@montague.example'`, received+`<sent xmlns='urn:xmpp:carbons:2'>`+inner+`</sent>`), carbons.ErrMalformed},
		{"no forwarded", carbon(`from='romeo@montague.example'`, `<received xmlns='urn:xmpp:carbons:2'/>`), carbons.ErrMalformed},
		{"forwarded presence", carbon(`from='romeo@montague.example'`, `<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><presence xmlns='jabber:client'/></forwarded></received>`), carbons.ErrMalformed},
		{"forwarded message in the wrong namespace", carbon(`from='romeo@montague.example'`, `<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message/></forwarded></received>`), carbons.ErrMalformed},
		{"error message", carbon(`from='romeo@montague.example' type='error'`, received), carbons.ErrNotCarbon},
		{"old namespace", carbon(`from='romeo@montague.example'`, `<received xmlns='urn:xmpp:carbons:1'>`+inner+`</received>`), carbons.ErrNotCarbon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := carbons.Unwrap(mustParse(t, tt.xml), romeo)
			if tt.err == nil {
				if err != nil || got.Get("from") != "juliet@capulet.example/balcony" {
					t.Fatalf("Unwrap = %s, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tt.err) || got != nil {
				t.Fatalf("Unwrap = %s, %v; want %v", got, err, tt.err)
			}
		})
	}
	if _, _, err := carbons.Unwrap(mustParse(t, receivedCarbon), jid.JID{}); !errors.Is(err, carbons.ErrSpoofed) {
		t.Errorf("Unwrap without our JID = %v, want ErrSpoofed", err)
	}
	if _, _, err := carbons.Unwrap(nil, romeo); !errors.Is(err, carbons.ErrNotCarbon) {
		t.Errorf("Unwrap(nil) = %v", err)
	}
}

func TestRequests(t *testing.T) {
	// XEP-0280 examples 3 and 5 (without the 'from' the server stamps).
	if got, want := carbons.EnableRequest().String(), `<iq xmlns='jabber:client' type='set' id=''><enable xmlns='urn:xmpp:carbons:2'/></iq>`; got != want {
		t.Errorf("EnableRequest = %s, want %s", got, want)
	}
	if got, want := carbons.DisableRequest().String(), `<iq xmlns='jabber:client' type='set' id=''><disable xmlns='urn:xmpp:carbons:2'/></iq>`; got != want {
		t.Errorf("DisableRequest = %s, want %s", got, want)
	}
}

// iqFunc is an IQSender made of a function.
type iqFunc func(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)

func (f iqFunc) SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
	return f(ctx, iq)
}

func TestEnable(t *testing.T) {
	var sent *xmlstream.Element
	ok := iqFunc(func(_ context.Context, iq *xmlstream.Element) (*xmlstream.Element, error) {
		sent = iq
		return mustParse(t, `<iq xmlns='jabber:client' from='romeo@montague.example' id='enable1' to='romeo@montague.example/garden' type='result'/>`), nil
	})
	if err := carbons.Enable(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	if sent.Child(carbons.NS, "enable") == nil || sent.Get("type") != "set" {
		t.Errorf("sent %s", sent)
	}
	// XEP-0280 example 4: the server forbids it.
	forbidden := iqFunc(func(context.Context, *xmlstream.Element) (*xmlstream.Element, error) {
		return nil, stanza.ParseError(mustParse(t, `<iq xmlns='jabber:client' type='error'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`))
	})
	if err := carbons.Enable(context.Background(), forbidden); !errors.Is(err, stanza.ErrForbidden) {
		t.Errorf("Enable = %v, want forbidden", err)
	}
}

func TestMarkPrivate(t *testing.T) {
	msg := xmlstream.New("jabber:client", "message", "to", "juliet@capulet.example/home")
	carbons.MarkPrivate(msg)
	want := `<message xmlns='jabber:client' to='juliet@capulet.example/home'><private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/></message>`
	if got := msg.String(); got != want {
		t.Errorf("MarkPrivate = %s, want %s", got, want)
	}
	if !carbons.IsPrivate(msg) || carbons.IsPrivate(xmlstream.New("jabber:client", "message")) {
		t.Error("IsPrivate")
	}
}
