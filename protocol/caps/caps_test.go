package caps_test

import (
	"errors"
	"testing"

	"github.com/tern-im/tern/protocol/caps"
	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// XEP-0115 §1.2: Romeo's disco#info answer (the simple generation example
// of §5.2).
const simple = `<iq from='romeo@montague.lit/orchard'
    id='disco1'
    to='juliet@capulet.lit/chamber'
    type='result'>
  <query xmlns='http://jabber.org/protocol/disco#info'
         node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>
    <identity category='client' name='Exodus 0.9.1' type='pc'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
  </query>
</iq>`

// XEP-0115 §5.3: the complex generation example.
const complex = `<iq from='benvolio@capulet.lit/230193'
    id='disco1'
    to='juliet@capulet.lit/chamber'
    type='result'>
  <query xmlns='http://jabber.org/protocol/disco#info'
         node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
    <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
    <identity xml:lang='el' category='client' name='&#936; 0.11' type='pc'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
    <x xmlns='jabber:x:data' type='result'>
      <field var='FORM_TYPE' type='hidden'>
        <value>urn:xmpp:dataforms:softwareinfo</value>
      </field>
      <field var='ip_version' type='text-multi' >
        <value>ipv4</value>
        <value>ipv6</value>
      </field>
      <field var='os'>
        <value>Mac</value>
      </field>
      <field var='os_version'>
        <value>10.5.1</value>
      </field>
      <field var='software'>
        <value>Psi</value>
      </field>
      <field var='software_version'>
        <value>0.11</value>
      </field>
    </x>
  </query>
</iq>`

const (
	discoInfo = "http://jabber.org/protocol/disco#info"
	simpleVer = "QgayPKawpkPSDYmwT/WM94uAlu0="
	// complexVer is the documented SHA-1 result of §5.3.
	complexVer = "q07IKJEyjvHSyhy//CH0CxmKi8w="
)

// info reads the disco#info answer in s the way protocol/disco does (this
// test may not import it): identities, features and data forms.
func info(t testing.TB, s string) caps.Info {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	var in caps.Info
	for _, c := range el.Child(discoInfo, "query").Children {
		switch {
		case c.Is(discoInfo, "identity"):
			in.Identities = append(in.Identities, caps.Identity{Category: c.Get("category"), Type: c.Get("type"), Lang: c.Lang(), Name: c.Get("name")})
		case c.Is(discoInfo, "feature"):
			in.Features = append(in.Features, c.Get("var"))
		case c.Is(form.NS, "x"):
			f, err := form.Parse(c)
			if err != nil {
				t.Fatal(err)
			}
			in.Forms = append(in.Forms, f)
		}
	}
	return in
}

func TestVer(t *testing.T) {
	tests := []struct {
		name, xml, hash, want string
	}{
		{"§5.2 simple", simple, caps.HashSHA1, simpleVer},
		{"§5.3 complex", complex, caps.HashSHA1, complexVer},
		// Independently computed (Python hashlib) over the S of §5.3.
		{"complex sha-256", complex, caps.HashSHA256, "VyRoCfkwN7Q9lxZhqOI+mxfSpo/MsaCF4hBufCzfCpI="},
		{"complex sha-512", complex, caps.HashSHA512, "D2YKKKjx1pTqnV8eCvkyhkdcBe4lPrf8Rp/Ss0zmEut0XEkfTIVEk7zByVMifWpJeb9cTdufU+k47oKIkQ3UUQ=="},
		{"simple sha-256", simple, caps.HashSHA256, "Wr6IGEKhx6b9627gBmi/cCmpxXBc/GYq5zWuYfWGWoc="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := info(t, tt.xml)
			got, err := caps.Ver(in, tt.hash)
			if err != nil || got != tt.want {
				t.Fatalf("Ver = %q, %v; want %q", got, err, tt.want)
			}
			if !caps.Verify(in, tt.hash, tt.want) {
				t.Error("Verify = false")
			}
			if caps.Verify(in, tt.hash, simpleVer+"x") {
				t.Error("Verify accepted a wrong ver")
			}
		})
	}
}

// The order in which an entity lists identities, features, forms, fields
// and values does not change the verification string.
func TestVerOrderIndependent(t *testing.T) {
	in := info(t, complex)
	in.Identities[0], in.Identities[1] = in.Identities[1], in.Identities[0]
	in.Features[0], in.Features[3] = in.Features[3], in.Features[0]
	fs := in.Forms[0].Fields
	fs[0], fs[5] = fs[5], fs[0]
	fs[1].Values[0], fs[1].Values[1] = fs[1].Values[1], fs[1].Values[0]
	in.Forms = append(in.Forms, form.Form{Type: form.TypeResult, Fields: []form.Field{form.FormTypeField("urn:a")}})
	in.Forms[0], in.Forms[1] = in.Forms[1], in.Forms[0]
	withA, err := caps.Ver(in, caps.HashSHA1)
	if err != nil {
		t.Fatal(err)
	}
	in.Forms[0], in.Forms[1] = in.Forms[1], in.Forms[0]
	if again, _ := caps.Ver(in, caps.HashSHA1); again != withA || withA == complexVer {
		t.Fatalf("form order changes ver: %q vs %q", withA, again)
	}
	in.Forms = in.Forms[:1]
	if got, _ := caps.Ver(in, caps.HashSHA1); got != complexVer {
		t.Fatalf("reordered complex example: %q", got)
	}
}

// XEP-0115 §5.4, step 3: the ill-formed answers, and forms to ignore.
func TestVerIllFormed(t *testing.T) {
	softwareinfo := func(typ string, values ...string) form.Form {
		return form.Form{Type: form.TypeResult, Fields: []form.Field{
			{Var: form.FormTypeVar, Type: typ, Values: values},
			{Var: "software", Values: []string{"Psi"}},
		}}
	}
	tests := []struct {
		name   string
		modify func(*caps.Info)
		err    error
		// ignored: the change must leave the ver of the original answer.
		ignored bool
	}{
		{"duplicate identity", func(in *caps.Info) { in.Identities = append(in.Identities, in.Identities[0]) }, caps.ErrIllFormed, false},
		{"duplicate feature", func(in *caps.Info) { in.Features = append(in.Features, in.Features[2]) }, caps.ErrIllFormed, false},
		{"duplicate FORM_TYPE", func(in *caps.Info) {
			in.Forms = append(in.Forms, softwareinfo(form.FieldHidden, "urn:xmpp:dataforms:softwareinfo"))
		}, caps.ErrIllFormed, false},
		{"FORM_TYPE with two values", func(in *caps.Info) { in.Forms = append(in.Forms, softwareinfo(form.FieldHidden, "urn:a", "urn:b")) }, caps.ErrIllFormed, false},
		{"FORM_TYPE repeated with the same value", func(in *caps.Info) { in.Forms = append(in.Forms, softwareinfo(form.FieldHidden, "urn:a", "urn:a")) }, nil, false},
		{"form without FORM_TYPE", func(in *caps.Info) {
			in.Forms = append(in.Forms, form.Form{Type: form.TypeResult, Fields: []form.Field{{Var: "os", Values: []string{"Mac"}}}})
		}, nil, true},
		{"FORM_TYPE without value", func(in *caps.Info) { in.Forms = append(in.Forms, softwareinfo(form.FieldHidden)) }, nil, true},
		{"FORM_TYPE not hidden", func(in *caps.Info) { in.Forms = append(in.Forms, softwareinfo(form.FieldTextSingle, "urn:a")) }, nil, true},
		{"FORM_TYPE untyped", func(in *caps.Info) { in.Forms = append(in.Forms, softwareinfo("", "urn:a")) }, nil, true},
		{"identity differing in name only", func(in *caps.Info) {
			id := in.Identities[0]
			id.Name += "!"
			in.Identities = append(in.Identities, id)
		}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := info(t, complex)
			tt.modify(&in)
			got, err := caps.Ver(in, caps.HashSHA1)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if caps.Verify(in, caps.HashSHA1, got) {
					t.Error("Verify accepted an ill-formed answer")
				}
				return
			}
			if (got == complexVer) != tt.ignored {
				t.Errorf("ver = %q; form ignored: want %v", got, tt.ignored)
			}
		})
	}
}

func TestUnsupportedHash(t *testing.T) {
	in := info(t, simple)
	for _, h := range []string{"md5", "SHA-1", "sha1", ""} {
		if _, err := caps.Ver(in, h); !errors.Is(err, caps.ErrUnsupportedHash) {
			t.Errorf("Ver(%q) err = %v", h, err)
		}
		if caps.Supported(h) || caps.Verify(in, h, simpleVer) {
			t.Errorf("%q is supported", h)
		}
	}
	for _, h := range []string{caps.HashSHA1, caps.HashSHA256, caps.HashSHA512} {
		if !caps.Supported(h) {
			t.Errorf("%q unsupported", h)
		}
	}
}

func TestElement(t *testing.T) {
	// XEP-0115 §1.2 (Example 1 with a from): presence with caps.
	el, err := xmlstream.Parse([]byte(`<presence xmlns='jabber:client' from='romeo@montague.lit/orchard'>
  <c xmlns='http://jabber.org/protocol/caps'
     hash='sha-1'
     node='http://code.google.com/p/exodus'
     ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>
</presence>`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := caps.Parse(el)
	if err != nil {
		t.Fatal(err)
	}
	want := caps.Caps{Hash: "sha-1", Node: "http://code.google.com/p/exodus", Ver: simpleVer}
	if c != want || c.Legacy() || c.InfoNode() != "http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0=" {
		t.Fatalf("Parse = %+v, InfoNode %q", c, c.InfoNode())
	}
	if got := c.Element().String(); got != `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://code.google.com/p/exodus' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>` {
		t.Errorf("Element = %s", got)
	}
	if back, err := caps.Parse(c.Element()); err != nil || back != c {
		t.Errorf("round trip %+v, %v", back, err)
	}

	legacy, err := caps.Parse(mustEl(t, `<c xmlns='http://jabber.org/protocol/caps' node='http://psi-im.org/caps' ver='0.11' ext='cs ep-notify'/>`))
	if err != nil || !legacy.Legacy() || legacy.Ext != "cs ep-notify" {
		t.Errorf("legacy: %+v, %v", legacy, err)
	}
	for _, bad := range []string{
		`<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' ver='x'/>`,
		`<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n'/>`,
		`<presence xmlns='jabber:client'/>`,
		`<c xmlns='urn:other' hash='sha-1' node='n' ver='v'/>`,
	} {
		if _, err := caps.Parse(mustEl(t, bad)); !errors.Is(err, caps.ErrMalformed) {
			t.Errorf("Parse(%s) err = %v", bad, err)
		}
	}
}

func TestNew(t *testing.T) {
	c, err := caps.New("https://tern.im", info(t, simple))
	if err != nil || c != (caps.Caps{Hash: caps.HashSHA1, Node: "https://tern.im", Ver: simpleVer}) {
		t.Fatalf("New = %+v, %v", c, err)
	}
	in := info(t, simple)
	in.Features = append(in.Features, in.Features[0])
	if _, err := caps.New("https://tern.im", in); !errors.Is(err, caps.ErrIllFormed) {
		t.Fatalf("New with a duplicate feature: %v", err)
	}
}

func mustEl(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}
