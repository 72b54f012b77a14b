package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// A generator of realistic chat history for benchmarks and load tests:
// one account, conversations of Zipf-distributed activity, bodies of 1–40
// words drawn from a Zipf-distributed vocabulary (everyday English chat
// words first, then names, accented words and rarer words), XEP-0359 ids
// as Prosody and clients make them (random UUIDs), and the occasional
// correction, reaction and attachment.

// vocabulary, roughly by frequency in chat.
var vocabulary = strings.Fields(`
i you the to a it and is that in for of me my have so we on be do not just
what this but are was no ok can with at yes like know if get lol all up out
will your how about too think going now good one there go see it's don't im
time here then when want got would well today really yeah thanks back u home
come work tomorrow night need later sure much did could day some did love
sounds great right morning maybe sorry hey let's oh make why who still week
meeting dinner coffee call lunch weekend train office email send photo thx
haha wait okay fine nice cool happy birthday party movie game music book
café naïve résumé über façade crème jalapeño piñata señor doña
monday tuesday wednesday thursday friday saturday sunday january february
project deadline report review budget server deploy release bug feature
berlin paris london tokyo lisbon madrid vienna prague oslo zurich
`)

// wordAt returns the k-th word: the vocabulary, then made-up rarer words.
func wordAt(k uint64) string {
	if k < uint64(len(vocabulary)) {
		return vocabulary[k]
	}
	return fmt.Sprintf("w%x", k)
}

type generator struct {
	r       *rand.Rand
	words   *rand.Zipf
	convs   *rand.Zipf
	lengths *rand.Zipf
	uuid    [16]byte
	now     time.Time
	// active are the conversations going on: chats come in bursts, a few
	// at a time.
	active []int
}

func newGenerator(seed uint64, conversations int) *generator {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &generator{
		r:       r,
		words:   rand.NewZipf(r, 1.07, 3, 200_000),
		convs:   rand.NewZipf(r, 1.2, 4, uint64(conversations-1)),
		lengths: rand.NewZipf(r, 1.3, 2, 39),
		now:     time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC),
	}
}

func (g *generator) body() string {
	n := 1 + int(g.lengths.Uint64())
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(wordAt(g.words.Uint64()))
	}
	switch g.r.IntN(20) {
	case 0:
		b.WriteString(" 😂")
	case 1:
		b.WriteString("?")
	case 2:
		b.WriteString("!")
	}
	return b.String()
}

func (g *generator) newUUID() string {
	for i := 0; i < 16; i += 8 {
		v := g.r.Uint64()
		for j := range 8 {
			g.uuid[i+j] = byte(v >> (8 * j))
		}
	}
	g.uuid[6] = g.uuid[6]&0x0f | 0x40
	g.uuid[8] = g.uuid[8]&0x3f | 0x80
	u := g.uuid
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// page returns n messages as one archive page: consecutive messages of our
// account's archive, spread over conversations by activity.
func (g *generator) page(me string, convs []client.ConversationID, peers []string, n int) []client.Message {
	out := make([]client.Message, 0, n)
	for range n {
		g.now = g.now.Add(time.Duration(1+g.r.IntN(120)) * time.Second)
		// Keep 1–4 conversations active; now and then one ends and
		// another (picked by overall activity) starts.
		if len(g.active) == 0 || g.r.IntN(15) == 0 {
			if len(g.active) >= 4 || (len(g.active) > 0 && g.r.IntN(2) == 0) {
				g.active = g.active[1:]
			}
			g.active = append(g.active, int(g.convs.Uint64()))
		}
		ci := g.active[g.r.IntN(len(g.active))]
		m := client.Message{
			Conversation: convs[ci],
			Type:         client.TypeChat,
			Body:         g.body(),
			OriginID:     g.newUUID(),
			StanzaIDs:    []client.StanzaID{{Archive: jid.MustParse(me), ID: g.newUUID()}},
			Server:       g.now,
			Sent:         g.now.Add(-time.Duration(g.r.IntN(900)) * time.Millisecond),
			Received:     g.now.Add(time.Duration(g.r.IntN(5)) * time.Second),
		}
		m.XMLID = m.OriginID
		if g.r.IntN(2) == 0 {
			m.Direction, m.Sender = client.Inbound, peers[ci]
		} else {
			m.Direction, m.Sender, m.State = client.Outbound, me, client.StateRead
		}
		if g.r.IntN(100) == 0 {
			m.Attachments = []client.Attachment{{URL: "https://upload.example/" + g.newUUID() + "/photo.jpg", MediaType: "image/jpeg", Size: 200_000, Width: 1600, Height: 1200}}
		}
		if g.r.IntN(10) == 0 {
			m.Encryption, m.SenderDevice, m.Trust = client.EncryptionOMEMO, uint32(1+g.r.IntN(1<<31-2)), client.TrustBlind
		}
		out = append(out, m)
	}
	return out
}
