package register_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/register"
	"github.com/tern-im/tern/protocol/stanza"
)

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// XEP-0077 Example 2: Host Returns Registration Fields to Entity.
const fieldsResult = `<iq xmlns='jabber:client' type='result' id='reg1'>
  <query xmlns='jabber:iq:register'>
    <instructions>
      Choose a username and password for use with this service.
      Please also provide your email address.
    </instructions>
    <username/>
    <password/>
    <email/>
  </query>
</iq>`

// XEP-0077 Example 9: Host Returns Registration Form to Entity.
const formResult = `<iq xmlns='jabber:client' type='result'
    from='contests.shakespeare.lit'
    to='juliet@capulet.com/balcony'
    id='reg3'>
  <query xmlns='jabber:iq:register'>
    <instructions>
      Use the enclosed form to register. If your Jabber client does not
      support Data Forms, visit http://www.shakespeare.lit/contests.php
    </instructions>
    <x xmlns='jabber:x:data' type='form'>
      <title>Contest Registration</title>
      <instructions>
        Please provide the following information
        to sign up for our special contests!
      </instructions>
      <field type='hidden' var='FORM_TYPE'>
        <value>jabber:iq:register</value>
      </field>
      <field type='text-single' label='Given Name' var='first'>
        <required/>
      </field>
      <field type='text-single' label='Family Name' var='last'>
        <required/>
      </field>
      <field type='text-single' label='Email Address' var='email'>
        <required/>
      </field>
      <field type='list-single' label='Gender' var='x-gender'>
        <option label='Male'><value>M</value></option>
        <option label='Female'><value>F</value></option>
      </field>
    </x>
  </query>
</iq>`

func TestParseFields(t *testing.T) {
	q, err := register.Parse(parse(t, fieldsResult))
	if err != nil {
		t.Fatal(err)
	}
	want := []register.Field{{Name: "username"}, {Name: "password"}, {Name: "email"}}
	if !reflect.DeepEqual(q.Fields, want) || q.Registered || q.Form != nil || !strings.Contains(q.Instructions, "Choose a username") {
		t.Fatalf("got %+v", q)
	}

	// XEP-0077 Example 3: Host Informs Entity of Current Registration.
	q, err = register.Parse(parse(t, `<iq xmlns='jabber:client' type='result' id='reg1'>
  <query xmlns='jabber:iq:register'>
    <registered/>
    <username>juliet</username>
    <password>R0m30</password>
    <email>juliet@capulet.com</email>
    <favourite-colour>red</favourite-colour>
  </query>
</iq>`))
	if err != nil || !q.Registered || len(q.Fields) != 3 {
		t.Fatalf("registered: %+v, %v", q, err)
	}
	if f, ok := q.Field("email"); !ok || f.Value != "juliet@capulet.com" {
		t.Errorf("Field(email) = %+v, %v", f, ok)
	}
	if _, ok := q.Field("favourite-colour"); ok {
		t.Error("a field outside the schema was kept")
	}

	// XEP-0077 Example 25: Host Redirects Entity to Web Registration.
	q, err = register.Parse(parse(t, `<iq xmlns='jabber:client' type='result' from='contests.shakespeare.lit' to='juliet@capulet.com/balcony' id='reg3'>
  <query xmlns='jabber:iq:register'>
    <instructions>
      To register, visit http://www.shakespeare.lit/contests.php
    </instructions>
    <x xmlns='jabber:x:oob'>
      <url>http://www.shakespeare.lit/contests.php</url>
    </x>
  </query>
</iq>`))
	if err != nil || q.URL != "http://www.shakespeare.lit/contests.php" || len(q.Fields) != 0 {
		t.Fatalf("redirect: %+v, %v", q, err)
	}
}

func TestSubmitFields(t *testing.T) {
	q, err := register.Parse(parse(t, fieldsResult))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := q.SubmitFields(map[string]string{"username": "bill", "password": "Calliope", "email": "bard@shakespeare.lit"})
	if err != nil {
		t.Fatal(err)
	}
	// XEP-0077 Example 4: Entity Provides Required Information.
	want := `<iq xmlns='jabber:client' type='set' id=''><query xmlns='jabber:iq:register'><username>bill</username><password>Calliope</password><email>bard@shakespeare.lit</email></query></iq>`
	if got := register.Set(jid.JID{}, sub).String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	tests := []struct {
		name   string
		values map[string]string
		err    error
	}{
		{"missing email", map[string]string{"username": "bill", "password": "Calliope"}, register.ErrMissing},
		{"empty password", map[string]string{"username": "bill", "password": "", "email": "e"}, register.ErrMissing},
		{"unknown field", map[string]string{"username": "bill", "password": "p", "email": "e", "x-colour": "red"}, register.ErrUnknownField},
	}
	for _, tt := range tests {
		if _, err := q.SubmitFields(tt.values); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
	// The obsolete transaction key is echoed back; extra schema fields
	// follow the requested ones.
	keyed := register.Query{Fields: []register.Field{{Name: "username"}, {Name: "key", Value: "4f2a"}}}
	sub, err = keyed.SubmitFields(map[string]string{"username": "bill", "nick": "Bill", "email": "b@x"})
	if err != nil {
		t.Fatal(err)
	}
	wantFields := []register.Field{{"username", "bill"}, {"key", "4f2a"}, {"email", "b@x"}, {"nick", "Bill"}}
	if !reflect.DeepEqual(sub.Fields, wantFields) {
		t.Errorf("fields %+v", sub.Fields)
	}
}

func TestSubmitForm(t *testing.T) {
	q, err := register.Parse(parse(t, formResult))
	if err != nil {
		t.Fatal(err)
	}
	if q.Form == nil || q.Form.FormType() != register.NS {
		t.Fatalf("form: %+v", q.Form)
	}
	sub, err := q.SubmitForm(map[string][]string{"first": {"Juliet"}, "last": {"Capulet"}, "email": {"juliet@capulet.com"}, "x-gender": {"F"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Fields) != 0 || sub.Instructions != "" {
		t.Errorf("form submission carries legacy data: %+v", sub)
	}
	// XEP-0077 Example 10: User Submits Registration Form (without labels,
	// which a submission need not repeat).
	want, err := form.Parse(parse(t, `<x xmlns='jabber:x:data' type='submit'>
      <field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>
      <field type='text-single' var='first'><value>Juliet</value></field>
      <field type='text-single' var='last'><value>Capulet</value></field>
      <field type='text-single' var='email'><value>juliet@capulet.com</value></field>
      <field type='list-single' var='x-gender'><value>F</value></field>
    </x>`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*sub.Form, want) {
		t.Errorf("submitted form:\n%s\n%s", sub.Form.Element(), want.Element())
	}
	if _, err := q.SubmitForm(map[string][]string{"first": {"Juliet"}}); !errors.Is(err, form.ErrRequired) {
		t.Errorf("missing required: %v", err)
	}
	if _, err := (register.Query{}).SubmitForm(nil); !errors.Is(err, register.ErrNoForm) {
		t.Errorf("no form: %v", err)
	}
}

func TestRequests(t *testing.T) {
	pw, err := register.ChangePassword(jid.MustParse("shakespeare.lit"), "bill", "newpass")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		el   *xmlstream.Element
		want string
	}{
		// XEP-0077 Example 1.
		{"fields", register.Request(jid.MustParse("shakespeare.lit")), `<iq xmlns='jabber:client' type='get' id='' to='shakespeare.lit'><query xmlns='jabber:iq:register'/></iq>`},
		// XEP-0077 Example 11: cancellation with our own server has no 'to'.
		{"cancel", register.Cancel(jid.JID{}), `<iq xmlns='jabber:client' type='set' id=''><query xmlns='jabber:iq:register'><remove/></query></iq>`},
		// XEP-0077 Example 18.
		{"password", pw, `<iq xmlns='jabber:client' type='set' id='' to='shakespeare.lit'><query xmlns='jabber:iq:register'><username>bill</username><password>newpass</password></query></iq>`},
	}
	for _, tt := range tests {
		if got := tt.el.String(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	if _, err := register.ChangePassword(jid.JID{}, "bill", ""); !errors.Is(err, register.ErrMissing) {
		t.Errorf("empty password: %v", err)
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name, xml string
		reason    error
		cond      error
		form      string
	}{
		// XEP-0077 Example 6.
		{"conflict", `<iq xmlns='jabber:client' type='error' id='reg2'>
  <query xmlns='jabber:iq:register'>
    <username>bill</username>
    <password>m1cro$oft</password>
    <email>billg@bigcompany.com</email>
  </query>
  <error code='409' type='cancel'>
    <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
  </error>
</iq>`, register.ErrUsernameTaken, stanza.ErrConflict, ""},
		// XEP-0077 Example 7.
		{"not acceptable", `<iq xmlns='jabber:client' type='error' id='reg2'>
  <query xmlns='jabber:iq:register'><username>bill</username><password>Calliope</password></query>
  <error code='406' type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
</iq>`, register.ErrNotAcceptable, stanza.ErrNotAcceptable, ""},
		// XEP-0077 Example 16: Server Returns Cancellation Form With Error.
		{"cancel form", `<iq xmlns='jabber:client' type='error' from='shakespeare.lit' to='bill@shakespeare.lit/globe' id='unreg1'>
  <query xmlns='jabber:iq:register'>
    <x xmlns='jabber:x:data' type='form'>
      <title>Cancel Registration</title>
      <instructions>Use this form to cancel your registration.</instructions>
      <field type='hidden' var='FORM_TYPE'>
        <value>jabber:iq:register:cancel</value>
      </field>
      <field type='text-single' label='Username' var='username'><required/></field>
      <field type='text-private' label='Password' var='password'><required/></field>
      <field type='text-single' label='Mother&apos;s Maiden Name' var='x-mmn'><required/></field>
    </x>
  </query>
  <error code='405' type='cancel'>
    <not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
  </error>
</iq>`, register.ErrNotAllowed, stanza.ErrNotAllowed, register.FormTypeCancel},
		// XEP-0077 Example 21 (password change, not authorized).
		{"not authorized", `<iq xmlns='jabber:client' type='error' from='shakespeare.lit' to='bill@shakespeare.lit/globe' id='change1'>
  <error code='401' type='modify'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
</iq>`, register.ErrNotAuthorized, stanza.ErrNotAuthorized, ""},
		{"unsupported", `<iq xmlns='jabber:client' type='error' id='r'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`, register.ErrNotSupported, stanza.ErrServiceUnavailable, ""},
		{"not registered", `<iq xmlns='jabber:client' type='error' id='r'><error type='auth'><registration-required xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`, register.ErrNotRegistered, stanza.ErrRegistrationRequired, ""},
		{"other", `<iq xmlns='jabber:client' type='error' id='r'><error type='cancel'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`, nil, stanza.ErrBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := register.ParseError(parse(t, tt.xml))
			var re *register.Error
			if !errors.As(err, &re) || !errors.Is(err, tt.cond) || re.Reason != tt.reason {
				t.Fatalf("err = %#v", err)
			}
			if tt.reason != nil && !errors.Is(err, tt.reason) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.reason)
			}
			if (re.Form == nil) != (tt.form == "") || (re.Form != nil && re.Form.FormType() != tt.form) {
				t.Errorf("form %+v", re.Form)
			}
			if err.Error() == "" {
				t.Error("empty message")
			}
		})
	}
	if err := register.ParseError(parse(t, `<iq xmlns='jabber:client' type='result' id='reg2'/>`)); err != nil {
		t.Errorf("result: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{
		`<query xmlns='jabber:iq:roster'/>`,
		`<iq xmlns='jabber:client' type='result' id='r'/>`,
		`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data'/></query>`,
	} {
		if _, err := register.Parse(parse(t, s)); !errors.Is(err, register.ErrMalformed) {
			t.Errorf("Parse(%s) err = %v", s, err)
		}
	}
	if _, err := register.Parse(parse(t, `<query xmlns='jabber:iq:register'><username>`+strings.Repeat("u", register.MaxTextLen+1)+`</username></query>`)); !errors.Is(err, register.ErrTooLarge) {
		t.Errorf("long field: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{fieldsResult, formResult,
		`<query xmlns='jabber:iq:register'><registered/><instructions>i</instructions><username>u</username><remove/><x xmlns='jabber:x:oob'><url>https://x.lit/</url></x></query>`} {
		q, err := register.Parse(parse(t, s))
		if err != nil {
			t.Fatal(err)
		}
		again, err := register.Parse(parse(t, q.Element().String()))
		if err != nil || !reflect.DeepEqual(q, again) {
			t.Errorf("round trip\n%+v\n%+v, %v", q, again, err)
		}
	}
}
