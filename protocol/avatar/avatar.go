// Package avatar implements user avatars: XEP-0084 User Avatar (version
// 1.1.4), published as two PEP nodes (metadata and data), and XEP-0153
// vCard-Based Avatars (version 1.1.1), whose SHA-1 hash rides in presence.
//
// Avatar images come from peers, so [Check] inspects them before anything
// decodes them: byte size, format, and pixel dimensions read from the
// image header with image.DecodeConfig, which rejects decompression bombs
// (a tiny file declaring a huge image) before a single pixel is
// allocated. [Decode] decodes only what passed Check. PNG, JPEG, GIF and
// WebP are understood.
//
// The pubsub elements are built here directly until a protocol/pubsub
// building block exists.
package avatar

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register the GIF decoder
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"strconv"
	"strings"

	_ "golang.org/x/image/webp" // register the WebP decoder

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// Namespaces.
const (
	// NSData is the XEP-0084 data node and payload namespace.
	NSData = "urn:xmpp:avatar:data"
	// NSMetadata is the XEP-0084 metadata node and payload namespace.
	NSMetadata = "urn:xmpp:avatar:metadata"
	// NSMetadataNotify is the caps feature that asks for metadata
	// notifications (XEP-0163 §4.3).
	NSMetadataNotify = NSMetadata + "+notify"
	// NSUpdate is the XEP-0153 presence extension namespace.
	NSUpdate = "vcard-temp:x:update"

	nsPubSub      = "http://jabber.org/protocol/pubsub"
	nsPubSubEvent = "http://jabber.org/protocol/pubsub#event"
)

// Default limits, used for the zero fields of [Limits].
const (
	DefaultMaxBytes     = 1 << 20
	DefaultMaxDimension = 2048
	DefaultMaxPixels    = 2048 * 2048
)

// MaxInfos is the largest number of <info/> elements ParseMetadata keeps.
const MaxInfos = 16

var (
	// ErrMalformed: the element is not what was expected, or an id or
	// hash is not a SHA-1 in hex.
	ErrMalformed = errors.New("avatar: malformed element")
	// ErrNoUpdate: the presence carries no vcard-temp:x:update element;
	// its sender does not support XEP-0153.
	ErrNoUpdate = errors.New("avatar: no avatar update in presence")
	// ErrTooLarge: the image exceeds the byte or pixel limits.
	ErrTooLarge = errors.New("avatar: image too large")
	// ErrNotImage: the data is not an image in a known format.
	ErrNotImage = errors.New("avatar: not a supported image")
	// ErrHashMismatch: the SHA-1 of the data is not the advertised id.
	ErrHashMismatch = errors.New("avatar: image does not match its id")
)

// Limits bound the avatar images we accept. A zero field means the
// matching Default… constant.
type Limits struct {
	// MaxBytes bounds the encoded image.
	MaxBytes int
	// MaxWidth and MaxHeight bound each dimension, in pixels.
	MaxWidth, MaxHeight int
	// MaxPixels bounds width × height.
	MaxPixels int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxWidth <= 0 {
		l.MaxWidth = DefaultMaxDimension
	}
	if l.MaxHeight <= 0 {
		l.MaxHeight = DefaultMaxDimension
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	return l
}

// Info describes one avatar image (an XEP-0084 <info/>).
type Info struct {
	// ID is the SHA-1 of the image data, in lowercase hex.
	ID string
	// Bytes is the size of the image data.
	Bytes int
	// Type is the content type, such as "image/png".
	Type string
	// Width and Height are the dimensions in pixels (0 when unknown).
	Width, Height int
	// URL is where the image can be fetched over HTTP; "" when it is in
	// the data node (which holds image/png only, XEP-0084 §4.1).
	URL string
}

// Metadata is the payload of the metadata node: one image in alternative
// formats. Empty Infos mean the user disabled the avatar (§3.4).
type Metadata struct {
	Infos []Info
}

// Disabled reports whether m announces that there is no avatar.
func (m Metadata) Disabled() bool { return len(m.Infos) == 0 }

// DataInfo returns the info of the image in the data node: the image/png
// without URL (XEP-0084 §4.1), if m lists one.
func (m Metadata) DataInfo() (Info, bool) {
	for _, in := range m.Infos {
		if in.Type == "image/png" && in.URL == "" {
			return in, true
		}
	}
	return Info{}, false
}

// ID returns the SHA-1, in lowercase hex, of data: the id of an avatar
// image in XEP-0084 and its hash in XEP-0153.
func ID(data []byte) string {
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

// normID returns s in lowercase if it is 40 hex digits (XEP-0153 §3.1:
// both cases must be accepted), or "" .
func normID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 2*sha1.Size {
		return ""
	}
	if _, err := hex.DecodeString(s); err != nil {
		return ""
	}
	return strings.ToLower(s)
}

// ParseMetadata reads a <metadata/> payload. Infos without a valid id, a
// type or a non-negative byte count are skipped, as are <pointer/>
// elements (their support is optional, §4.2.2); at most MaxInfos are kept.
func ParseMetadata(el *xmlstream.Element) (Metadata, error) {
	if !el.Is(NSMetadata, "metadata") {
		return Metadata{}, ErrMalformed
	}
	var m Metadata
	for _, c := range el.Children {
		if !c.Is(NSMetadata, "info") || len(m.Infos) == MaxInfos {
			continue
		}
		in := Info{ID: normID(c.Get("id")), Type: c.Get("type"), URL: c.Get("url")}
		var err error
		if in.Bytes, err = strconv.Atoi(c.Get("bytes")); err != nil || in.Bytes < 0 || in.ID == "" || in.Type == "" {
			continue
		}
		in.Width, in.Height = dimension(c.Get("width")), dimension(c.Get("height"))
		m.Infos = append(m.Infos, in)
	}
	return m, nil
}

// dimension reads an optional pixel count; anything invalid is unknown.
func dimension(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<20 {
		return 0
	}
	return n
}

// Element returns the <metadata/> payload for m.
func (m Metadata) Element() *xmlstream.Element {
	el := xmlstream.New(NSMetadata, "metadata")
	for _, in := range m.Infos {
		info := xmlstream.New(NSMetadata, "info", "bytes", strconv.Itoa(in.Bytes), "id", in.ID, "type", in.Type)
		if in.Width > 0 {
			info.Set("width", strconv.Itoa(in.Width))
		}
		if in.Height > 0 {
			info.Set("height", strconv.Itoa(in.Height))
		}
		el.Append(info.Set("url", in.URL))
	}
	return el
}

// DataElement returns the <data/> payload carrying image data.
func DataElement(data []byte) *xmlstream.Element {
	return xmlstream.New(NSData, "data").SetText(base64.StdEncoding.EncodeToString(data))
}

// ParseData reads a <data/> payload: base64 image data, line breaks
// allowed (§4.1). Data larger than limits.MaxBytes is ErrTooLarge,
// detected before decoding.
func ParseData(el *xmlstream.Element, limits Limits) ([]byte, error) {
	if !el.Is(NSData, "data") {
		return nil, ErrMalformed
	}
	limits = limits.withDefaults()
	b64 := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, el.Text)
	if base64.StdEncoding.DecodedLen(len(b64)) > limits.MaxBytes+2 {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limits.MaxBytes)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: data: %w", ErrMalformed, err)
	}
	if len(data) > limits.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limits.MaxBytes)
	}
	return data, nil
}

// publish returns a PEP publish request of payload to node, as item id.
func publish(node, id string, payload *xmlstream.Element) *xmlstream.Element {
	item := xmlstream.New(nsPubSub, "item").Set("id", id).Append(payload)
	pub := xmlstream.New(nsPubSub, "publish", "node", node).Append(item)
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, xmlstream.New(nsPubSub, "pubsub").Append(pub))
}

// PublishData returns the request that publishes data (an image/png) to
// our data node, under its SHA-1 as item id (§3.1). Publish it before
// the metadata that announces it.
func PublishData(data []byte) *xmlstream.Element {
	return publish(NSData, ID(data), DataElement(data))
}

// PublishMetadata returns the request that announces our avatar, listed in
// infos (the first must be the image/png, whose id names the item, §3.2).
// Without infos it disables our avatar (§3.4).
func PublishMetadata(infos ...Info) *xmlstream.Element {
	id := ""
	if len(infos) > 0 {
		id = infos[0].ID
	}
	return publish(NSMetadata, id, Metadata{Infos: infos}.Element())
}

// itemsRequest returns a pubsub items request to node at to.
func itemsRequest(to jid.JID, node string, item *xmlstream.Element) *xmlstream.Element {
	items := xmlstream.New(nsPubSub, "items", "node", node)
	if item != nil {
		items.Append(item)
	} else {
		items.Set("max_items", "1")
	}
	return stanza.NewIQ(stanza.TypeGet, "", to.Bare(), xmlstream.New(nsPubSub, "pubsub").Append(items))
}

// MetadataRequest returns the request for the current avatar metadata
// of to (a bare JID; zero for our own).
func MetadataRequest(to jid.JID) *xmlstream.Element {
	return itemsRequest(to, NSMetadata, nil)
}

// DataRequest returns the request for the image with this id in the data
// node of to (a bare JID; zero for our own), §3.3.4. Ask for it only when
// no cached image has this id.
func DataRequest(to jid.JID, id string) *xmlstream.Element {
	return itemsRequest(to, NSData, xmlstream.New(nsPubSub, "item", "id", id))
}

// item returns the id and the payload of the first item of node in an IQ
// result (<pubsub><items/></pubsub>) or a notification message
// (<event><items/></event>).
func item(el *xmlstream.Element, node, payloadNS, payloadName string) (string, *xmlstream.Element, error) {
	var items *xmlstream.Element
	if ps := el.Child(nsPubSub, "pubsub"); ps != nil {
		items = ps.Child(nsPubSub, "items")
	} else if ev := el.Child(nsPubSubEvent, "event"); ev != nil {
		items = ev.Child(nsPubSubEvent, "items")
	}
	if items == nil || items.Get("node") != node {
		return "", nil, ErrMalformed
	}
	for _, it := range items.Children {
		if it.Name.Local != "item" || (it.Name.Space != nsPubSub && it.Name.Space != nsPubSubEvent) {
			continue
		}
		if p := it.Child(payloadNS, payloadName); p != nil {
			return it.Get("id"), p, nil
		}
	}
	return "", nil, ErrMalformed
}

// ParseMetadataItem reads the metadata in the answer to MetadataRequest
// or in a PEP notification (§3.3), with the item id. The caller must
// check the sender: a notification counts only when it comes from the
// contact's own bare JID (its PEP service).
func ParseMetadataItem(el *xmlstream.Element) (string, Metadata, error) {
	id, p, err := item(el, NSMetadata, NSMetadata, "metadata")
	if err != nil {
		return "", Metadata{}, err
	}
	m, err := ParseMetadata(p)
	return id, m, err
}

// ParseDataItem reads the image data in the answer to DataRequest and
// checks that its SHA-1 is the item id, as §3.1 requires of publishers.
func ParseDataItem(iq *xmlstream.Element, limits Limits) ([]byte, error) {
	id, p, err := item(iq, NSData, NSData, "data")
	if err != nil {
		return nil, err
	}
	data, err := ParseData(p, limits)
	if err != nil {
		return nil, err
	}
	if ID(data) != normID(id) {
		return nil, ErrHashMismatch
	}
	return data, nil
}

// Update is the XEP-0153 <x xmlns='vcard-temp:x:update'/> of a presence.
type Update struct {
	// Ready is clear for an empty <x/>: the sender supports vCard avatars
	// but is not ready to say which (§4.1 rule 2); Hash is then "".
	Ready bool
	// Hash is the SHA-1 of the avatar image in lowercase hex; "" with
	// Ready set means the sender has no avatar (an empty <photo/>).
	Hash string
}

// ParseUpdate reads the vcard-temp:x:update <x/>, or the one in a
// presence (ErrNoUpdate when there is none). A <photo/> that is neither
// empty nor a SHA-1 in hex is ErrMalformed.
func ParseUpdate(el *xmlstream.Element) (Update, error) {
	if el != nil && !el.Is(NSUpdate, "x") {
		if el = el.Child(NSUpdate, "x"); el == nil {
			return Update{}, ErrNoUpdate
		}
	}
	if el == nil {
		return Update{}, ErrNoUpdate
	}
	ph := el.Child(NSUpdate, "photo")
	if ph == nil {
		return Update{}, nil
	}
	if strings.TrimSpace(ph.Text) == "" {
		return Update{Ready: true}, nil
	}
	h := normID(ph.Text)
	if h == "" {
		return Update{}, fmt.Errorf("%w: photo hash", ErrMalformed)
	}
	return Update{Ready: true, Hash: h}, nil
}

// Element returns the <x/> for u, to include in every presence we
// broadcast (§4.1 rule 1).
func (u Update) Element() *xmlstream.Element {
	x := xmlstream.New(NSUpdate, "x")
	if u.Ready {
		x.Append(xmlstream.New(NSUpdate, "photo").SetText(u.Hash))
	}
	return x
}

// Check inspects avatar image data without decoding it: the byte size,
// then the format and pixel dimensions from the image header
// (image.DecodeConfig), against limits. It returns the image's Info: its
// SHA-1 id, size, actual content type (XEP-0153 §6: the advertised type
// is only a hint) and dimensions. Only data that passed Check may be
// decoded; Decode does both.
func Check(data []byte, limits Limits) (Info, error) {
	limits = limits.withDefaults()
	if len(data) > limits.MaxBytes {
		return Info{}, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLarge, len(data), limits.MaxBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrNotImage, err)
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return Info{}, fmt.Errorf("%w: %d×%d pixels", ErrNotImage, w, h)
	}
	if w > limits.MaxWidth || h > limits.MaxHeight || int64(w)*int64(h) > int64(limits.MaxPixels) {
		return Info{}, fmt.Errorf("%w: %d×%d pixels", ErrTooLarge, w, h)
	}
	return Info{ID: ID(data), Bytes: len(data), Type: "image/" + format, Width: w, Height: h}, nil
}

// CheckID is Check for data announced under id (an XEP-0084 item or info
// id, or an XEP-0153 photo hash): data whose SHA-1 differs is
// ErrHashMismatch.
func CheckID(data []byte, id string, limits Limits) (Info, error) {
	if ID(data) != normID(id) {
		return Info{}, ErrHashMismatch
	}
	return Check(data, limits)
}

// Decode checks data with Check and only then decodes it. It is the
// expensive step: call it off the network and UI paths.
func Decode(data []byte, limits Limits) (image.Image, Info, error) {
	info, err := Check(data, limits)
	if err != nil {
		return nil, Info{}, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: %w", ErrNotImage, err)
	}
	// The first frame of a GIF may be smaller than its logical screen,
	// never larger.
	if b := img.Bounds(); b.Dx() > info.Width || b.Dy() > info.Height {
		return nil, Info{}, fmt.Errorf("%w: header says %d×%d, image is %d×%d", ErrNotImage, info.Width, info.Height, b.Dx(), b.Dy())
	}
	return img, info, nil
}
