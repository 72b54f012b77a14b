package vcard_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/vcard"
)

// XEP-0054 Example 2: Server Returns vCard.
const stpeter = `<iq id='v1'
    to='stpeter@jabber.org/roundabout'
    type='result'>
  <vCard xmlns='vcard-temp'>
    <FN>Peter Saint-Andre</FN>
    <N>
      <FAMILY>Saint-Andre</FAMILY>
      <GIVEN>Peter</GIVEN>
      <MIDDLE/>
    </N>
    <NICKNAME>stpeter</NICKNAME>
    <URL>http://www.xmpp.org/xsf/people/stpeter.shtml</URL>
    <BDAY>1966-08-06</BDAY>
    <ORG>
      <ORGNAME>XMPP Standards Foundation</ORGNAME>
      <ORGUNIT/>
    </ORG>
    <TITLE>Executive Director</TITLE>
    <ROLE>Patron Saint</ROLE>
    <TEL><WORK/><VOICE/><NUMBER>303-308-3282</NUMBER></TEL>
    <TEL><WORK/><FAX/><NUMBER/></TEL>
    <TEL><WORK/><MSG/><NUMBER/></TEL>
    <ADR>
      <WORK/>
      <EXTADD>Suite 600</EXTADD>
      <STREET>1899 Wynkoop Street</STREET>
      <LOCALITY>Denver</LOCALITY>
      <REGION>CO</REGION>
      <PCODE>80202</PCODE>
      <CTRY>USA</CTRY>
    </ADR>
    <TEL><HOME/><VOICE/><NUMBER>303-555-1212</NUMBER></TEL>
    <TEL><HOME/><FAX/><NUMBER/></TEL>
    <TEL><HOME/><MSG/><NUMBER/></TEL>
    <ADR>
      <HOME/>
      <EXTADD/>
      <STREET/>
      <LOCALITY>Denver</LOCALITY>
      <REGION>CO</REGION>
      <PCODE>80209</PCODE>
      <CTRY>USA</CTRY>
    </ADR>
    <EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL>
    <JABBERID>stpeter@jabber.org</JABBERID>
    <DESC>
      More information about me is located on my
      personal website: http://www.saint-andre.com/
    </DESC>
  </vCard>
</iq>`

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func TestParse(t *testing.T) {
	v, err := vcard.Parse(parse(t, stpeter))
	if err != nil {
		t.Fatal(err)
	}
	if v.FN != "Peter Saint-Andre" || v.N != (vcard.Name{Family: "Saint-Andre", Given: "Peter"}) ||
		v.Nickname != "stpeter" || v.URL != "http://www.xmpp.org/xsf/people/stpeter.shtml" || v.BDay != "1966-08-06" {
		t.Errorf("simple fields: %+v", v)
	}
	if !reflect.DeepEqual(v.Org, vcard.Org{Name: "XMPP Standards Foundation", Units: []string{""}}) {
		t.Errorf("org: %+v", v.Org)
	}
	wantTels := []vcard.Tel{
		{"303-308-3282", []string{"WORK", "VOICE"}}, {"", []string{"WORK", "FAX"}}, {"", []string{"WORK", "MSG"}},
		{"303-555-1212", []string{"HOME", "VOICE"}}, {"", []string{"HOME", "FAX"}}, {"", []string{"HOME", "MSG"}},
	}
	if !reflect.DeepEqual(v.Tels, wantTels) {
		t.Errorf("tels: %+v", v.Tels)
	}
	if !reflect.DeepEqual(v.Emails, []vcard.Email{{UserID: "stpeter@jabber.org", Types: []string{"INTERNET", "PREF"}}}) {
		t.Errorf("emails: %+v", v.Emails)
	}
	var other []string
	for _, o := range v.Other {
		other = append(other, o.Name.Local)
	}
	if want := []string{"TITLE", "ROLE", "ADR", "ADR", "JABBERID", "DESC"}; !reflect.DeepEqual(other, want) {
		t.Errorf("other: %v, want %v", other, want)
	}
	if v.Photo != nil {
		t.Errorf("photo: %+v", v.Photo)
	}
}

// Changing one field and writing the vCard back keeps everything else:
// XEP-0054 §3.2 has no partial update.
func TestPreservesUnknown(t *testing.T) {
	v, err := vcard.Parse(parse(t, stpeter))
	if err != nil {
		t.Fatal(err)
	}
	v.Nickname = "peter"
	out := vcard.Set(v)
	if out.Get("type") != "set" || out.Get("to") != "" {
		t.Fatalf("Set: %s", out)
	}
	s := out.String()
	for _, want := range []string{
		"<TITLE>Executive Director</TITLE>", "<ROLE>Patron Saint</ROLE>",
		"<STREET>1899 Wynkoop Street</STREET>", "<PCODE>80209</PCODE>",
		"<JABBERID>stpeter@jabber.org</JABBERID>", "personal website: http://www.saint-andre.com/",
		"<NICKNAME>peter</NICKNAME>", "<TEL><HOME/><VOICE/><NUMBER>303-555-1212</NUMBER></TEL>",
		"<TEL><WORK/><FAX/><NUMBER/></TEL>",
		"<EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("written vCard lacks %s:\n%s", want, s)
		}
	}
	again, err := vcard.Parse(out.Child(vcard.NS, "vCard"))
	if err != nil || !reflect.DeepEqual(again, v) {
		t.Errorf("re-read:\n%+v\n%+v, %v", again, v, err)
	}
}

func TestPhoto(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nnot really a png")
	b64 := base64.StdEncoding.EncodeToString(png)
	wrapped := b64[:10] + "\n  " + b64[10:]
	tests := []struct {
		name, xml string
		want      *vcard.Photo
		err       error
		other     int
	}{
		{"inline, wrapped", `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>` + wrapped + `</BINVAL></PHOTO></vCard>`,
			&vcard.Photo{Type: "image/png", Data: png}, nil, 0},
		{"external", `<vCard xmlns='vcard-temp'><PHOTO><EXTVAL>https://example.org/me.png</EXTVAL></PHOTO></vCard>`,
			&vcard.Photo{ExtVal: "https://example.org/me.png"}, nil, 0},
		{"invalid base64 kept verbatim", `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>!!!</BINVAL></PHOTO></vCard>`, nil, nil, 1},
		{"invalid then valid", `<vCard xmlns='vcard-temp'><PHOTO><BINVAL>!!!</BINVAL></PHOTO><PHOTO><TYPE>image/png</TYPE><BINVAL>` + b64 + `</BINVAL></PHOTO></vCard>`,
			&vcard.Photo{Type: "image/png", Data: png}, nil, 1},
		{"too large", `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>` + base64.StdEncoding.EncodeToString(make([]byte, vcard.MaxPhotoSize+1)) + `</BINVAL></PHOTO></vCard>`, nil, vcard.ErrTooLarge, 0},
		{"at the limit", `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>` + base64.StdEncoding.EncodeToString(make([]byte, vcard.MaxPhotoSize)) + `</BINVAL></PHOTO></vCard>`,
			&vcard.Photo{Type: "image/png", Data: make([]byte, vcard.MaxPhotoSize)}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := vcard.Parse(parse(t, tt.xml))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(v.Photo, tt.want) || len(v.Other) != tt.other {
				t.Fatalf("photo %+v other %d", v.Photo, len(v.Other))
			}
		})
	}
	v := vcard.VCard{Photo: &vcard.Photo{Type: "image/png", Data: png}}
	want := `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>` + b64 + `</BINVAL></PHOTO></vCard>`
	if got := v.Element().String(); got != want {
		t.Errorf("Element:\n got %s\nwant %s", got, want)
	}
	back, err := vcard.Parse(v.Element())
	if err != nil || !bytes.Equal(back.Photo.Data, png) {
		t.Errorf("photo round trip: %v", err)
	}
}

func TestRepeatsAndEmpties(t *testing.T) {
	v, err := vcard.Parse(parse(t, `<vCard xmlns='vcard-temp'><FN/><FN>Second</FN><FN>Third</FN><NICKNAME>a</NICKNAME><NICKNAME>b</NICKNAME><x xmlns='urn:other'>y</x></vCard>`))
	if err != nil {
		t.Fatal(err)
	}
	if v.FN != "Second" || v.Nickname != "a" || len(v.Other) != 3 {
		t.Fatalf("%+v", v)
	}
	s := v.Element().String()
	for _, want := range []string{"<FN>Second</FN>", "<FN>Third</FN>", "<NICKNAME>b</NICKNAME>", "<x xmlns='urn:other'>y</x>"} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
}

func TestResultAndErrors(t *testing.T) {
	// XEP-0054 Example 4: No vCard (empty element).
	v, err := vcard.Parse(parse(t, `<iq id='v1' to='stpeter@jabber.org/roundabout' type='result'><vCard xmlns='vcard-temp'/></iq>`))
	if err != nil || !reflect.DeepEqual(v, vcard.VCard{}) {
		t.Errorf("empty vCard: %+v, %v", v, err)
	}
	if v, err := vcard.Parse(parse(t, `<iq id='v1' type='result'/>`)); err != nil || !reflect.DeepEqual(v, vcard.VCard{}) {
		t.Errorf("result without vCard: %+v, %v", v, err)
	}
	for _, bad := range []string{`<iq type='error' id='v1'><vCard xmlns='vcard-temp'/></iq>`, `<vcard xmlns='vcard-temp'/>`, `<vCard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>`} {
		if _, err := vcard.Parse(parse(t, bad)); !errors.Is(err, vcard.ErrMalformed) {
			t.Errorf("Parse(%s) err = %v", bad, err)
		}
	}
	if _, err := vcard.Parse(parse(t, `<vCard xmlns='vcard-temp'>`+strings.Repeat(`<EMAIL><USERID>a@b</USERID></EMAIL>`, vcard.MaxEntries+1)+`</vCard>`)); !errors.Is(err, vcard.ErrTooLarge) {
		t.Errorf("too many emails: %v", err)
	}
	if !vcard.NotFound(stanza.ErrServiceUnavailable) || !vcard.NotFound(&stanza.Error{Condition: stanza.CondItemNotFound}) || vcard.NotFound(stanza.ErrForbidden) {
		t.Error("NotFound")
	}
}

func TestRequest(t *testing.T) {
	if got := vcard.Request(jid.JID{}).String(); got != `<iq xmlns='jabber:client' type='get' id=''><vCard xmlns='vcard-temp'/></iq>` {
		t.Errorf("own: %s", got)
	}
	// XEP-0054 §3.3: another user's vCard is requested from the bare JID.
	if got := vcard.Request(jid.MustParse("jer@jabber.org/home")).String(); got != `<iq xmlns='jabber:client' type='get' id='' to='jer@jabber.org'><vCard xmlns='vcard-temp'/></iq>` {
		t.Errorf("other: %s", got)
	}
}

func TestRoundTrip(t *testing.T) {
	v, err := vcard.Parse(parse(t, stpeter))
	if err != nil {
		t.Fatal(err)
	}
	again, err := vcard.Parse(parse(t, v.Element().String()))
	if err != nil || !reflect.DeepEqual(v, again) {
		t.Fatalf("round trip\n%+v\n%+v, %v", v, again, err)
	}
}
