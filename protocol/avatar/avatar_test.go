package avatar_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"reflect"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/avatar"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	return img
}

func encodePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBomb returns a valid PNG of 1×1 pixel whose header claims w×h.
func pngBomb(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := encodePNG(t, 1, 1)
	// Signature (8) + length (4) + "IHDR" (4), then width and height.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// webpHeader returns the start of a lossless WebP declaring w×h pixels:
// enough for image.DecodeConfig.
func webpHeader(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	chunk := append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, bits)...)
	chunk = append(chunk, make([]byte, 16)...)
	var b []byte
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(chunk)))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(chunk)))
	return append(b, chunk...)
}

func TestCheck(t *testing.T) {
	pngData := encodePNG(t, 64, 48)
	var jpg, gf bytes.Buffer
	if err := jpeg.Encode(&jpg, testImage(32, 32), nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gf, testImage(16, 8), nil); err != nil {
		t.Fatal(err)
	}
	small := avatar.Limits{MaxBytes: 100000, MaxWidth: 100, MaxHeight: 100, MaxPixels: 50 * 50}
	tests := []struct {
		name   string
		data   []byte
		limits avatar.Limits
		typ    string
		w, h   int
		err    error
	}{
		{"png", pngData, avatar.Limits{}, "image/png", 64, 48, nil},
		{"jpeg", jpg.Bytes(), avatar.Limits{}, "image/jpeg", 32, 32, nil},
		{"gif", gf.Bytes(), avatar.Limits{}, "image/gif", 16, 8, nil},
		{"webp header", webpHeader(64, 64), avatar.Limits{}, "image/webp", 64, 64, nil},
		{"webp bomb", webpHeader(16384, 16384), avatar.Limits{}, "", 0, 0, avatar.ErrTooLarge},
		{"png bomb", pngBomb(t, 100000, 100000), avatar.Limits{}, "", 0, 0, avatar.ErrTooLarge},
		{"png too wide", pngBomb(t, 4000, 1), avatar.Limits{}, "", 0, 0, avatar.ErrTooLarge},
		{"too many pixels", pngData, small, "", 0, 0, avatar.ErrTooLarge},
		{"too many bytes", pngData, avatar.Limits{MaxBytes: len(pngData) - 1}, "", 0, 0, avatar.ErrTooLarge},
		{"exactly the byte limit", pngData, avatar.Limits{MaxBytes: len(pngData)}, "image/png", 64, 48, nil},
		{"not an image", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), avatar.Limits{}, "", 0, 0, avatar.ErrNotImage},
		{"empty", nil, avatar.Limits{}, "", 0, 0, avatar.ErrNotImage},
		{"truncated header", pngData[:20], avatar.Limits{}, "", 0, 0, avatar.ErrNotImage},
		{"zero size", pngBomb(t, 0, 5), avatar.Limits{}, "", 0, 0, avatar.ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := avatar.Check(tt.data, tt.limits)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			want := avatar.Info{ID: avatar.ID(tt.data), Bytes: len(tt.data), Type: tt.typ, Width: tt.w, Height: tt.h}
			if info != want {
				t.Fatalf("info %+v, want %+v", info, want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	data := encodePNG(t, 64, 48)
	img, info, err := avatar.Decode(data, avatar.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 64, 48) || info.Width != 64 {
		t.Fatalf("bounds %v info %+v", img.Bounds(), info)
	}
	// The bomb is refused before decoding.
	if _, _, err := avatar.Decode(pngBomb(t, 50000, 50000), avatar.Limits{}); !errors.Is(err, avatar.ErrTooLarge) {
		t.Fatalf("bomb: %v", err)
	}
	// A header that lies about a small size fails in the decoder.
	if _, _, err := avatar.Decode(pngBomb(t, 2, 2), avatar.Limits{}); !errors.Is(err, avatar.ErrNotImage) {
		t.Fatalf("lying header: %v", err)
	}
}

func TestCheckID(t *testing.T) {
	data := encodePNG(t, 8, 8)
	id := avatar.ID(data)
	if _, err := avatar.CheckID(data, strings.ToUpper(id), avatar.Limits{}); err != nil {
		t.Errorf("upper-case id: %v", err)
	}
	if _, err := avatar.CheckID(data, "01b87fcd030b72895ff8e88db57ec525450f000d", avatar.Limits{}); !errors.Is(err, avatar.ErrHashMismatch) {
		t.Errorf("wrong id: %v", err)
	}
	if _, err := avatar.CheckID(data, "", avatar.Limits{}); !errors.Is(err, avatar.ErrHashMismatch) {
		t.Errorf("empty id: %v", err)
	}
	// SHA-1 of the empty string, a known vector.
	if got := avatar.ID(nil); got != "da39a3ee5e6b4b0d3255bfef95601890afd80709" {
		t.Errorf("ID(nil) = %s", got)
	}
}

const juliet = "111f4b3c50d7b0df729d299bc6f8e9ef9066971f"

func TestMetadata(t *testing.T) {
	tests := []struct {
		name, xml string
		want      avatar.Metadata
	}{
		// XEP-0084 Example 3.
		{"png", `<metadata xmlns='urn:xmpp:avatar:metadata'>
          <info bytes='12345'
                id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'
                height='64'
                type='image/png'
                width='64'/>
        </metadata>`, avatar.Metadata{Infos: []avatar.Info{{ID: juliet, Bytes: 12345, Type: "image/png", Width: 64, Height: 64}}}},
		// XEP-0084 Example 10 (multiple formats, then pointer of Example 11).
		{"multiple", `<metadata xmlns='urn:xmpp:avatar:metadata'>
          <info bytes='12345' height='64' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' type='image/png' width='64'/>
          <info bytes='23456' height='64' id='357a8123a30844a3aa99861b6349264ba67a5694' type='image/gif' url='http://avatars.example.org/happy.gif' width='64'/>
          <pointer><x xmlns='http://example.com/virtualworlds'><game>Ancapistan</game></x></pointer>
        </metadata>`, avatar.Metadata{Infos: []avatar.Info{
			{ID: juliet, Bytes: 12345, Type: "image/png", Width: 64, Height: 64},
			{ID: "357a8123a30844a3aa99861b6349264ba67a5694", Bytes: 23456, Type: "image/gif", Width: 64, Height: 64, URL: "http://avatars.example.org/happy.gif"},
		}}},
		// XEP-0084 Example 8: disabling the avatar.
		{"disabled", `<metadata xmlns='urn:xmpp:avatar:metadata'/>`, avatar.Metadata{}},
		{"invalid infos skipped", `<metadata xmlns='urn:xmpp:avatar:metadata'>
			<info bytes='1' id='nothex' type='image/png'/><info bytes='-1' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' type='image/png'/>
			<info id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' type='image/png'/><info bytes='1' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'/>
			<info bytes='7' id='111F4B3C50D7B0DF729D299BC6F8E9EF9066971F' type='image/png' width='-5' height='x'/></metadata>`,
			avatar.Metadata{Infos: []avatar.Info{{ID: juliet, Bytes: 7, Type: "image/png"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := avatar.ParseMetadata(parse(t, tt.xml))
			if err != nil || !reflect.DeepEqual(m, tt.want) {
				t.Fatalf("got %+v, %v\nwant %+v", m, err, tt.want)
			}
			again, err := avatar.ParseMetadata(parse(t, m.Element().String()))
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("round trip: %+v, %v", again, err)
			}
		})
	}
	m, _ := avatar.ParseMetadata(parse(t, tests[1].xml))
	if in, ok := m.DataInfo(); !ok || in.ID != juliet || m.Disabled() {
		t.Errorf("DataInfo = %+v, %v", in, ok)
	}
	if _, ok := (avatar.Metadata{Infos: m.Infos[1:]}).DataInfo(); ok {
		t.Error("DataInfo found an image/gif at a URL")
	}
	if _, err := avatar.ParseMetadata(parse(t, `<metadata xmlns='urn:xmpp:avatar:data'/>`)); !errors.Is(err, avatar.ErrMalformed) {
		t.Errorf("wrong namespace: %v", err)
	}
	many := `<metadata xmlns='urn:xmpp:avatar:metadata'>` + strings.Repeat(`<info bytes='1' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' type='image/png'/>`, avatar.MaxInfos+3) + `</metadata>`
	if m, _ := avatar.ParseMetadata(parse(t, many)); len(m.Infos) != avatar.MaxInfos {
		t.Errorf("kept %d infos", len(m.Infos))
	}
}

func TestPublishAndRetrieve(t *testing.T) {
	data := []byte("png bytes")
	id := avatar.ID(data)
	tests := []struct {
		name string
		el   *xmlstream.Element
		want string
	}{
		// XEP-0084 Example 1 (with real data).
		{"data", avatar.PublishData(data), `<iq xmlns='jabber:client' type='set' id=''><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:avatar:data'><item id='` + id + `'><data xmlns='urn:xmpp:avatar:data'>cG5nIGJ5dGVz</data></item></publish></pubsub></iq>`},
		// XEP-0084 Example 3.
		{"metadata", avatar.PublishMetadata(avatar.Info{ID: juliet, Bytes: 12345, Type: "image/png", Width: 64, Height: 64}),
			`<iq xmlns='jabber:client' type='set' id=''><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:avatar:metadata'><item id='` + juliet + `'><metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='12345' id='` + juliet + `' type='image/png' width='64' height='64'/></metadata></item></publish></pubsub></iq>`},
		// XEP-0084 Example 8.
		{"disable", avatar.PublishMetadata(), `<iq xmlns='jabber:client' type='set' id=''><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:avatar:metadata'><item><metadata xmlns='urn:xmpp:avatar:metadata'/></item></publish></pubsub></iq>`},
		// XEP-0084 Example 6.
		{"data request", avatar.DataRequest(jid.MustParse("juliet@capulet.lit/balcony"), juliet),
			`<iq xmlns='jabber:client' type='get' id='' to='juliet@capulet.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='` + juliet + `'/></items></pubsub></iq>`},
		{"metadata request", avatar.MetadataRequest(jid.MustParse("juliet@capulet.lit")),
			`<iq xmlns='jabber:client' type='get' id='' to='juliet@capulet.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:metadata' max_items='1'/></pubsub></iq>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.el.String(); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseItems(t *testing.T) {
	// XEP-0084 Example 5: the notification.
	id, m, err := avatar.ParseMetadataItem(parse(t, `<message xmlns='jabber:client' to='romeo@montague.lit/home' from='juliet@capulet.lit'>
  <event xmlns='http://jabber.org/protocol/pubsub#event'>
    <items node='urn:xmpp:avatar:metadata'>
      <item id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'>
        <metadata xmlns='urn:xmpp:avatar:metadata'>
          <info bytes='12345' height='64' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' type='image/png' width='64'/>
        </metadata>
      </item>
    </items>
  </event>
  <addresses xmlns='http://jabber.org/protocol/address'>
    <address type='replyto' jid='juliet@capulet.lit/chamber'/>
  </addresses>
</message>`))
	if err != nil || id != juliet || len(m.Infos) != 1 || m.Infos[0].Bytes != 12345 {
		t.Fatalf("notification: %q %+v %v", id, m, err)
	}
	if _, _, err := avatar.ParseMetadataItem(parse(t, `<message xmlns='jabber:client'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:microblog:0'><item id='1'><metadata xmlns='urn:xmpp:avatar:metadata'/></item></items></event></message>`)); !errors.Is(err, avatar.ErrMalformed) {
		t.Errorf("other node: %v", err)
	}

	data := encodePNG(t, 4, 4)
	res := func(id string, payload string) *xmlstream.Element {
		return parse(t, `<iq xmlns='jabber:client' type='result' id='retrieve1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='`+id+`'>`+payload+`</item></items></pubsub></iq>`)
	}
	b64 := avatar.DataElement(data).Text
	wrapped := "\n  " + b64[:20] + "\n  " + b64[20:] + "\n"
	got, err := avatar.ParseDataItem(res(avatar.ID(data), `<data xmlns='urn:xmpp:avatar:data'>`+wrapped+`</data>`), avatar.Limits{})
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("data item: %v", err)
	}
	tests := []struct {
		name, id, payload string
		limits            avatar.Limits
		err               error
	}{
		{"id mismatch", juliet, `<data xmlns='urn:xmpp:avatar:data'>` + b64 + `</data>`, avatar.Limits{}, avatar.ErrHashMismatch},
		{"too large", avatar.ID(data), `<data xmlns='urn:xmpp:avatar:data'>` + b64 + `</data>`, avatar.Limits{MaxBytes: len(data) - 1}, avatar.ErrTooLarge},
		{"bad base64", avatar.ID(data), `<data xmlns='urn:xmpp:avatar:data'>qANQR1DBwU4DX7jmYZnncm...</data>`, avatar.Limits{}, avatar.ErrMalformed},
		{"no data", avatar.ID(data), ``, avatar.Limits{}, avatar.ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := avatar.ParseDataItem(res(tt.id, tt.payload), tt.limits); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name, xml string
		want      avatar.Update
		err       error
	}{
		// XEP-0153 Example 3.
		{"hash", `<presence xmlns='jabber:client' from='juliet@capulet.com/balcony'><x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x></presence>`,
			avatar.Update{Ready: true, Hash: "01b87fcd030b72895ff8e88db57ec525450f000d"}, nil},
		{"upper-case hash", `<x xmlns='vcard-temp:x:update'><photo> 01B87FCD030B72895FF8E88DB57EC525450F000D </photo></x>`,
			avatar.Update{Ready: true, Hash: "01b87fcd030b72895ff8e88db57ec525450f000d"}, nil},
		// XEP-0153 Example 6: not ready to advertise.
		{"not ready", `<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'/></presence>`, avatar.Update{}, nil},
		// XEP-0153 Example 7: no image.
		{"no image", `<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo/></x></presence>`, avatar.Update{Ready: true}, nil},
		{"no support", `<presence xmlns='jabber:client'/>`, avatar.Update{}, avatar.ErrNoUpdate},
		{"bad hash", `<x xmlns='vcard-temp:x:update'><photo>not-a-hash</photo></x>`, avatar.Update{}, avatar.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := avatar.ParseUpdate(parse(t, tt.xml))
			if !errors.Is(err, tt.err) || u != tt.want {
				t.Fatalf("got %+v, %v; want %+v, %v", u, err, tt.want, tt.err)
			}
			if err == nil {
				if again, err := avatar.ParseUpdate(parse(t, u.Element().String())); err != nil || again != u {
					t.Fatalf("round trip %+v -> %s -> %+v, %v", u, u.Element(), again, err)
				}
			}
		})
	}
	if got := (avatar.Update{Ready: true}).Element().String(); got != `<x xmlns='vcard-temp:x:update'><photo/></x>` {
		t.Errorf("no image: %s", got)
	}
	if got := (avatar.Update{}).Element().String(); got != `<x xmlns='vcard-temp:x:update'/>` {
		t.Errorf("not ready: %s", got)
	}
}
