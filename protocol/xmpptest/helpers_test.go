package xmpptest_test

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/xmpptest"
)

// tlsPipe connects a TLS client and server over net.Pipe; the server's
// handshake result arrives on the channel.
func tlsPipe(t *testing.T, cliConf, srvConf *tls.Config) (*tls.Conn, <-chan error) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	srv := tls.Server(b, srvConf)
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	return tls.Client(a, cliConf), errc
}

// features is what the tests read from <stream:features/> (RFC 6120 §4.3,
// RFC 6120 §5/§6, XEP-0440, XEP-0198).
type features struct {
	StartTLS   *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-tls starttls"`
	Mechanisms struct {
		List []string `xml:"mechanism"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-sasl mechanisms"`
	ChannelBinding *struct {
		Types []struct {
			Type string `xml:"type,attr"`
		} `xml:"channel-binding"`
	} `xml:"urn:xmpp:sasl-cb:0 sasl-channel-binding"`
	Bind *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
	SM   *struct{} `xml:"urn:xmpp:sm:3 sm"`
}

func (f features) has(mech string) bool {
	for _, m := range f.Mechanisms.List {
		if m == mech {
			return true
		}
	}
	return false
}

func (f features) cbTypes() []string {
	if f.ChannelBinding == nil {
		return nil
	}
	var out []string
	for _, c := range f.ChannelBinding.Types {
		out = append(out, c.Type)
	}
	return out
}

// xmppConn is a minimal raw XMPP client connection for the tests.
type xmppConn struct {
	t      testing.TB
	domain string
	conn   net.Conn
	dec    *xml.Decoder
}

func (c *xmppConn) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next top-level element (or the stream header).
func (c *xmppConn) next() (xml.StartElement, error) {
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

func (c *xmppConn) open() features {
	c.t.Helper()
	c.send("<?xml version='1.0'?><stream:stream to='" + c.domain + "' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
	c.dec = xml.NewDecoder(c.conn)
	se, err := c.next()
	if err != nil || se.Name.Local != "stream" {
		c.t.Fatalf("stream header: %v %v", se.Name, err)
	}
	se, err = c.next()
	if err != nil || se.Name.Local != "features" {
		c.t.Fatalf("stream features: %v %v", se.Name, err)
	}
	var f features
	if err := c.dec.DecodeElement(&f, &se); err != nil {
		c.t.Fatalf("decode features: %v", err)
	}
	return f
}

// dialStartTLS opens a stream on addr, negotiates STARTTLS with conf and
// returns the features of the encrypted stream. tlsErr is the handshake
// error, if any (then the connection is closed).
func dialStartTLS(t testing.TB, addr, domain string, conf *tls.Config) (c *xmppConn, f features, tlsErr error) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c = &xmppConn{t: t, domain: domain, conn: nc}
	pre := c.open()
	if pre.StartTLS == nil {
		t.Fatalf("%s: no <starttls/> offered before TLS", addr)
	}
	if len(pre.Mechanisms.List) != 0 {
		t.Errorf("%s: SASL mechanisms %v offered before TLS (c2s_require_encryption)", addr, pre.Mechanisms.List)
	}
	c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	se, err := c.next()
	if err != nil || se.Name.Local != "proceed" {
		t.Fatalf("starttls: got %v %v, want <proceed/>", se.Name, err)
	}
	tc := tls.Client(nc, conf)
	if err := tc.Handshake(); err != nil {
		nc.Close()
		return nil, features{}, err
	}
	c.conn = tc
	return c, c.open(), nil
}

// dialDirectTLS opens a XEP-0368 Direct TLS stream on addr.
func dialDirectTLS(t testing.TB, addr, domain string, conf *tls.Config) (c *xmppConn, f features, tlsErr error) {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	tc, err := tls.DialWithDialer(d, "tcp", addr, conf)
	if err != nil {
		return nil, features{}, err
	}
	t.Cleanup(func() { tc.Close() })
	if err := tc.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c = &xmppConn{t: t, domain: domain, conn: tc}
	return c, c.open(), nil
}

func clientTLS(s *xmpptest.Server) *tls.Config {
	return &tls.Config{RootCAs: s.CA.Pool(), ServerName: s.Domain}
}

func (c *xmppConn) tlsState() tls.ConnectionState {
	c.t.Helper()
	tc, ok := c.conn.(*tls.Conn)
	if !ok {
		c.t.Fatal("not a TLS connection")
	}
	return tc.ConnectionState()
}

// authPlain does SASL PLAIN (RFC 4616) and reports whether it succeeded;
// on success the stream is restarted and its features returned.
func (c *xmppConn) authPlain(local, password string) (bool, features) {
	c.t.Helper()
	payload := base64.StdEncoding.EncodeToString([]byte("\x00" + local + "\x00" + password))
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + payload + "</auth>")
	se, err := c.next()
	if err != nil {
		c.t.Fatalf("auth: %v", err)
	}
	switch se.Name.Local {
	case "success":
		if err := c.dec.Skip(); err != nil {
			c.t.Fatal(err)
		}
		return true, c.open()
	case "failure":
		return false, features{}
	}
	c.t.Fatalf("auth: unexpected <%s>", se.Name.Local)
	return false, features{}
}

// iq sends an IQ and returns the raw inner XML of the matching response
// and its type.
func (c *xmppConn) iq(id, typ, to, payload string) (respType, inner string) {
	c.t.Helper()
	toAttr := ""
	if to != "" {
		toAttr = " to='" + to + "'"
	}
	c.send(fmt.Sprintf("<iq id='%s' type='%s'%s>%s</iq>", id, typ, toAttr, payload))
	for {
		se, err := c.next()
		if err != nil {
			c.t.Fatalf("iq %s: %v", id, err)
		}
		var v struct {
			ID    string `xml:"id,attr"`
			Type  string `xml:"type,attr"`
			Inner string `xml:",innerxml"`
		}
		if err := c.dec.DecodeElement(&v, &se); err != nil {
			c.t.Fatal(err)
		}
		if se.Name.Local == "iq" && v.ID == id {
			return v.Type, v.Inner
		}
	}
}

// bind binds a resource (RFC 6120 §7).
func (c *xmppConn) bind() {
	c.t.Helper()
	typ, inner := c.iq("bind1", "set", "", "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>test</resource></bind>")
	if typ != "result" || !strings.Contains(inner, "<jid") {
		c.t.Fatalf("bind: %s %s", typ, inner)
	}
}

// softwareVersion asks the server for XEP-0092 software version.
func (c *xmppConn) softwareVersion() (name, version string) {
	c.t.Helper()
	typ, inner := c.iq("ver1", "get", c.domain, "<query xmlns='jabber:iq:version'/>")
	if typ != "result" {
		c.t.Fatalf("version: %s %s", typ, inner)
	}
	var q struct {
		Name    string `xml:"name"`
		Version string `xml:"version"`
	}
	if err := xml.Unmarshal([]byte(inner), &q); err != nil {
		c.t.Fatalf("version %q: %v", inner, err)
	}
	return q.Name, q.Version
}

// enableSM enables XEP-0198 stream management with resumption and returns
// the max attribute (the server's resumption window in seconds).
func (c *xmppConn) enableSM() string {
	c.t.Helper()
	c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	se, err := c.next()
	if err != nil {
		c.t.Fatalf("enable: %v", err)
	}
	if se.Name.Local != "enabled" {
		c.t.Fatalf("enable: got <%s>", se.Name.Local)
	}
	for _, a := range se.Attr {
		if a.Name.Local == "max" {
			return a.Value
		}
	}
	return ""
}
