package xmlstream_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

const benchHeader = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
	`xmlns:stream='http://etherx.jabber.org/streams' from='montague.lit' id='c2s-8fj3' ` +
	`to='romeo@montague.lit' version='1.0' xml:lang='en'>`

// stanzaMix returns 20 stanzas as a server sends them to a client: 8 chat
// messages, 5 presences, 3 IQs, 2 MAM results and 2 XEP-0198 elements.
// seq varies the ids so that repeated mixes are not byte-identical.
func stanzaMix(seq int) []string {
	bodies := []string{
		"ok",
		"See you at 8?",
		"Wherefore art thou Romeo? Deny thy father &amp; refuse thy name.",
		"Ça marche, à demain ! 👍",
		strings.Repeat("But soft, what light through yonder window breaks? ", 4),
		"<b>not markup</b> &lt;escaped&gt; &quot;quoted&quot; &apos;x&apos;",
		strings.Repeat("It is the east, and Juliet is the sun. Arise, fair sun, and kill the envious moon. ", 10),
		"👋",
	}
	var out []string
	for i, body := range bodies {
		out = append(out, fmt.Sprintf(`<message from='juliet@capulet.lit/balcony' to='romeo@montague.lit/orchard' `+
			`type='chat' id='msg-%d-%d' xml:lang='en'><body>%s</body>`+
			`<origin-id xmlns='urn:xmpp:sid:0' id='5f1c2f6e-%04d-4b8a-9d7e-%08d'/>`+
			`<stanza-id xmlns='urn:xmpp:sid:0' id='Jx3k-%d-%d' by='romeo@montague.lit'/>`+
			`<request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>`+
			`<active xmlns='http://jabber.org/protocol/chatstates'/></message>`, seq, i, body, i, seq, seq, i))
	}
	shows := []string{"away", "chat", "dnd", "xa", ""}
	for i, show := range shows {
		s := fmt.Sprintf(`<presence from='contact%d@montague.lit/laptop-%d' to='romeo@montague.lit/orchard'>`, i, seq)
		if show != "" {
			s += `<show>` + show + `</show><status>In a meeting until 3pm</status>`
		}
		s += `<priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' ` +
			`node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>` +
			`<x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x></presence>`
		out = append(out, s)
	}
	out = append(out,
		fmt.Sprintf(`<iq to='romeo@montague.lit/orchard' type='set' id='push-%d'>`+
			`<query xmlns='jabber:iq:roster' ver='ver%d'><item jid='nurse@capulet.lit' name='Nurse' `+
			`subscription='both'><group>Servants</group></item></query></iq>`, seq, seq),
		fmt.Sprintf(`<iq from='capulet.lit' to='romeo@montague.lit/orchard' type='result' id='disco-%d'>`+
			`<query xmlns='http://jabber.org/protocol/disco#info'>`+
			`<identity category='server' type='im' name='Prosody'/><identity category='pubsub' type='pep'/>`+
			`<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/>`+
			`<feature var='urn:xmpp:ping'/><feature var='urn:xmpp:time'/><feature var='jabber:iq:version'/>`+
			`<feature var='jabber:iq:roster'/><feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:mam:2'/>`+
			`<feature var='urn:xmpp:blocking'/><feature var='vcard-temp'/><feature var='urn:xmpp:http:upload:0'/>`+
			`<feature var='http://jabber.org/protocol/pubsub#publish'/><feature var='urn:xmpp:push:0'/>`+
			`<feature var='msgoffline'/><feature var='jabber:iq:private'/></query></iq>`, seq),
		fmt.Sprintf(`<iq from='romeo@montague.lit' to='romeo@montague.lit/orchard' type='result' id='roster-%d'>`+
			`<query xmlns='jabber:iq:roster' ver='ver%d'>`+
			`<item jid='juliet@capulet.lit' name='Juliet' subscription='both'><group>Friends</group></item>`+
			`<item jid='benvolio@montague.lit' name='Benvolio' subscription='to'/>`+
			`<item jid='mercutio@verona.lit' name='Mercutio' subscription='from'><group>Friends</group><group>Verona</group></item>`+
			`</query></iq>`, seq, seq),
	)
	for i := range 2 {
		out = append(out, fmt.Sprintf(`<message to='romeo@montague.lit/orchard' from='romeo@montague.lit' id='mam-%d-%d'>`+
			`<result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-%d-%d'>`+
			`<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>`+
			`<message xmlns='jabber:client' from='juliet@capulet.lit/balcony' to='romeo@montague.lit/orchard' type='chat' id='old-%d'>`+
			`<body>Hail to thee, archived message number %d.</body>`+
			`<origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2-eb6b9e546014'/></message>`+
			`</forwarded></result></message>`, seq, i, seq, i, i, seq))
	}
	out = append(out,
		fmt.Sprintf(`<a xmlns='urn:xmpp:sm:3' h='%d'/>`, seq*20),
		`<r xmlns='urn:xmpp:sm:3'/>`,
	)
	return out
}

// mixBytes returns n mixes concatenated, with a newline (a keepalive-like
// whitespace) after each mix.
func mixBytes(n int) []byte {
	var b strings.Builder
	for seq := range n {
		for _, s := range stanzaMix(seq) {
			b.WriteString(s)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// cycleReader returns data over and over, like a connection that never ends.
// It is not an io.ByteReader, so the decoder does its own buffering as it
// does for a net.Conn.
type cycleReader struct {
	data []byte
	off  int
}

func (c *cycleReader) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}

const mixesPerCycle = 50

func benchmarkDecode(b *testing.B, wrap func(io.Reader) io.Reader) {
	data := mixBytes(mixesPerCycle)
	perMix := int64(len(data) / mixesPerCycle)
	src := io.MultiReader(strings.NewReader(benchHeader), &cycleReader{data: data})
	d := xmlstream.NewDecoder(wrap(src), xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(perMix)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		for range 20 {
			if _, err := d.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
	report(b, cpu, 20, perMix)
}

// startCPU returns the process CPU time at the start of a benchmark.
func startCPU() time.Duration {
	t, _ := cpuTime()
	return t
}

// report adds stanzas per second of wall-clock time and, where available,
// stanzas and MB per CPU-second: the process's user+system time, which
// includes the garbage collector (with -cpu 1 that is about one core) and
// which a machine loaded by other work distorts far less than wall-clock
// time.
func report(b *testing.B, cpuStart time.Duration, stanzasPerOp int, bytesPerOp int64) {
	n := float64(stanzasPerOp * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "stanzas/s")
	if end, ok := cpuTime(); ok && end > cpuStart {
		secs := (end - cpuStart).Seconds()
		b.ReportMetric(n/secs, "stanzas/cpu-s")
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/secs, "MB/cpu-s")
	}
}

// BenchmarkDecode decodes a realistic mix of stanzas; one op is 20 stanzas.
func BenchmarkDecode(b *testing.B) {
	b.Run("conn", func(b *testing.B) {
		benchmarkDecode(b, func(r io.Reader) io.Reader { return r })
	})
	b.Run("bufio", func(b *testing.B) {
		benchmarkDecode(b, func(r io.Reader) io.Reader { return bufio.NewReader(r) })
	})
}

// BenchmarkEncode serialises the same mix; one op is 20 stanzas.
func BenchmarkEncode(b *testing.B) {
	d := xmlstream.NewDecoder(strings.NewReader(benchHeader+string(mixBytes(1))), xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		b.Fatal(err)
	}
	var els []*xmlstream.Element
	var size int64
	for range 20 {
		el, err := d.Next()
		if err != nil {
			b.Fatal(err)
		}
		els = append(els, el)
		size += int64(len(xmlstream.Append(nil, el, "jabber:client")))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var buf []byte
	cpu := startCPU()
	for b.Loop() {
		for _, el := range els {
			buf = xmlstream.Append(buf[:0], el, "jabber:client")
		}
	}
	report(b, cpu, 20, size)
}

// BenchmarkParse parses standalone elements (as after xml.Marshal).
func BenchmarkParse(b *testing.B) {
	mix := stanzaMix(1)
	var size int64
	for _, s := range mix {
		size += int64(len(s))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		for _, s := range mix {
			if _, err := xmlstream.Parse([]byte(s)); err != nil {
				b.Fatal(err)
			}
		}
	}
	report(b, cpu, 20, size)
}

// BenchmarkDecodeScaling decodes one large stanza per op, of growing size
// up to the default limit, to show that the cost is linear in the bytes:
// "text" is a message with one large body, "roster" an IQ result with many
// roster items (an element per ~70 bytes).
func BenchmarkDecodeScaling(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10, 1000 << 10} {
		text := `<message type='chat'><body>` + strings.Repeat("x", size-len(`<message type='chat'><body></body></message>`)) + `</body></message>`
		var roster strings.Builder
		roster.WriteString(`<iq type='result' id='r1'><query xmlns='jabber:iq:roster' ver='v1'>`)
		for i := 0; roster.Len() < size-100; i++ {
			fmt.Fprintf(&roster, `<item jid='contact%06d@example.org' subscription='both'/>`, i)
		}
		roster.WriteString(`</query></iq>`)
		for _, c := range []struct{ shape, stanza string }{{"text", text}, {"roster", roster.String()}} {
			b.Run(fmt.Sprintf("%s/%dKiB", c.shape, size>>10), func(b *testing.B) {
				src := io.MultiReader(strings.NewReader(benchHeader), &cycleReader{data: []byte(c.stanza)})
				d := xmlstream.NewDecoder(src, xmlstream.Options{})
				if _, err := d.ReadHeader(); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(c.stanza)))
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					if _, err := d.Next(); err != nil {
						b.Fatal(err)
					}
				}
				report(b, cpu, 1, int64(len(c.stanza)))
			})
		}
	}
}
