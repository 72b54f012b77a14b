package sqlite_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

const (
	juliet = "juliet@capulet.example"
	romeo  = "romeo@montague.example"
	room   = "balcony@rooms.capulet.example"
)

func (e *env) message(id client.MessageID) client.Message {
	e.t.Helper()
	m, err := e.db.Message(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("Message(%d): %v", id, err)
	}
	return m
}

func TestDedupe(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	c2 := e.conv(e.acct, "nurse@capulet.example")
	with := func(m client.Message, origin string, sids ...client.StanzaID) client.Message {
		m.OriginID, m.StanzaIDs = origin, sids
		return m
	}
	base := msg(c, juliet, 1, "hello")
	tests := []struct {
		name  string
		first client.Message
		again client.Message
		dup   bool
	}{
		{"same stanza-id", with(base, "", sid(romeo, "s1")), with(base, "", sid(romeo, "s1")), true},
		{"same stanza-id, other archive", with(base, "", sid(romeo, "s2")), with(base, "", sid(room, "s2")), false},
		{"same origin-id and sender", with(base, "o1"), with(base, "o1"), true},
		{"same origin-id, other sender", with(base, "o2"), func() client.Message { m := with(base, "o2"); m.Sender = "nurse@capulet.example"; return m }(), false},
		{"same origin-id, other conversation", with(base, "o3"), func() client.Message { m := with(base, "o3"); m.Conversation = c2; return m }(), false},
		{"origin-id matches, new stanza-id", with(base, "o4"), with(base, "o4", sid(romeo, "s4")), true},
		{"stanza-id matches, other origin-id", with(base, "o5", sid(romeo, "s5")), with(base, "o5-other", sid(romeo, "s5")), true},
		{"no ids at all", base, base, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.insert(tt.first)[0]
			b := e.insert(tt.again)[0]
			if a.Duplicate {
				t.Fatalf("first insert reported a duplicate: %+v", a)
			}
			if b.Duplicate != tt.dup || (tt.dup && b.ID != a.ID) || (!tt.dup && b.ID == a.ID) {
				t.Errorf("second insert %+v after %+v; duplicate should be %v", b, a, tt.dup)
			}
		})
	}
}

func TestDedupeWithinBatch(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	a := msg(c, juliet, 1, "one")
	a.OriginID = "o-a"
	b := msg(c, juliet, 2, "two")
	b.StanzaIDs = []client.StanzaID{sid(romeo, "s-b")}
	a2, b2 := a, b
	a2.StanzaIDs = []client.StanzaID{sid(romeo, "s-a")}
	res := e.insert(a, b, a2, b2, a)
	want := []client.InsertResult{{ID: res[0].ID}, {ID: res[1].ID}, {ID: res[0].ID, Duplicate: true}, {ID: res[1].ID, Duplicate: true}, {ID: res[0].ID, Duplicate: true}}
	if !slices.Equal(res, want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
	// The stanza-id learnt from the third message now finds the first.
	a3 := msg(c, juliet, 9, "one")
	a3.StanzaIDs = []client.StanzaID{sid(romeo, "s-a")}
	if r := e.insert(a3)[0]; !r.Duplicate || r.ID != res[0].ID {
		t.Errorf("insert by the merged stanza-id: %+v", r)
	}
	page, _ := e.db.LatestPage(ctx(t), c, 10)
	if len(page) != 2 {
		t.Errorf("%d messages stored, want 2", len(page))
	}
}

// TestDuplicatesMergeNewFacts follows one message arriving live (origin-id
// only), then as a carbon with our server's stanza-id, then from the archive
// with the server's time, then with a second archive's id.
func TestDuplicatesMergeNewFacts(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	live := msg(c, juliet, 10, "Good night, good night!")
	live.OriginID, live.XMLID = "o-1", "o-1"
	id := e.insert(live)[0].ID

	carbon := live
	carbon.StanzaIDs = []client.StanzaID{sid(romeo, "s-1")}
	archived := client.Message{Conversation: c, Direction: client.Inbound, Type: client.TypeChat, Sender: juliet,
		StanzaIDs: []client.StanzaID{sid(romeo, "s-1")}, Server: t0.Add(9 * time.Second), Body: "Good night, good night!"}
	other := archived
	other.StanzaIDs = []client.StanzaID{sid(room, "r-1"), sid(romeo, "s-1")}
	for i, m := range []client.Message{carbon, archived, other} {
		if r := e.insert(m)[0]; !r.Duplicate || r.ID != id {
			t.Fatalf("copy %d: %+v, want a duplicate of %d", i, r, id)
		}
	}
	got := e.message(id)
	wantSIDs := []client.StanzaID{sid(room, "r-1"), sid(romeo, "s-1")}
	if !slices.Equal(got.StanzaIDs, wantSIDs) {
		t.Errorf("stanza-ids %v, want %v", got.StanzaIDs, wantSIDs)
	}
	// The server's time is merged, and places the message in the
	// server's order (the live copy was placed by its arrival time).
	if !got.Server.Equal(t0.Add(9*time.Second)) || !got.Time.Equal(got.Server) {
		t.Errorf("server time %v (want it merged), timeline time %v (want the server's)", got.Server, got.Time)
	}

	// An origin-id is merged into a message that had none, keeping its id
	// attribute, also when it had none.
	for _, xmlID := range []string{"attr-id", ""} {
		first := msg(c, juliet, 20, "no origin-id yet")
		first.XMLID = xmlID
		first.StanzaIDs = []client.StanzaID{sid(romeo, "s-x"+xmlID)}
		id := e.insert(first)[0].ID
		second := first
		second.OriginID, second.XMLID = "o-late"+xmlID, "o-late"+xmlID
		if r := e.insert(second)[0]; !r.Duplicate {
			t.Fatalf("%+v", r)
		}
		got := e.message(id)
		if got.OriginID != "o-late"+xmlID || got.XMLID != xmlID {
			t.Errorf("after the merge: origin-id %q, id %q; want %q, %q", got.OriginID, got.XMLID, "o-late"+xmlID, xmlID)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	m := client.Message{
		Conversation: c, Direction: client.Outbound, Type: client.TypeChat, Sender: romeo,
		XMLID: "x-1", OriginID: "o-1", StanzaIDs: []client.StanzaID{sid(romeo, "s-1")},
		Sent: t0, Server: t0.Add(time.Second), Received: t0.Add(2 * time.Second),
		Body: "With love's light wings", Lang: "en", Alternatives: []client.Body{{Lang: "de", Text: "Mit Liebesflügeln"}, {Lang: "fr", Text: "Sur les ailes"}},
		Thread: "thread-1", ReplyTo: client.Reply{To: juliet, ID: "o-0"},
		State: client.StatePending, Encryption: client.EncryptionOMEMO, SenderDevice: 12345, Trust: client.TrustVerified,
		Attachments: []client.Attachment{{URL: "aesgcm://upload.example/a.jpg#0011", MediaType: "image/jpeg", Name: "a.jpg", Description: "orchard",
			Size: 1234, Width: 10, Height: 20, SHA256: []byte{1, 2, 3}}},
	}
	id := e.insert(m)[0].ID
	got := e.message(id)
	want := m
	want.ID, want.Time = id, m.Server
	want.Attachments = slices.Clone(m.Attachments)
	want.Attachments[0].ID = got.Attachments[0].ID
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}
	e.update(func(tx client.Tx) error { return tx.SetAttachmentPath(ctx(t), got.Attachments[0].ID, "/home/r/a.jpg") })
	if p := e.message(id).Attachments[0].LocalPath; p != "/home/r/a.jpg" {
		t.Errorf("attachment path %q", p)
	}
}

func TestInsertRejectsBadBatchesWhole(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	good := msg(c, juliet, 1, "fine")
	for _, tt := range []struct {
		name string
		bad  func(m *client.Message)
		want error
	}{
		{"unknown conversation", func(m *client.Message) { m.Conversation = 9999 }, client.ErrNotFound},
		{"no timestamp", func(m *client.Message) { m.Received = time.Time{} }, sqlite.ErrInvalid},
		{"no sender", func(m *client.Message) { m.Sender = "" }, sqlite.ErrInvalid},
		{"bad direction", func(m *client.Message) { m.Direction = 7 }, sqlite.ErrInvalid},
		{"origin-id not UTF-8", func(m *client.Message) { m.OriginID = "\xff\xfe" }, sqlite.ErrInvalid},
		{"empty stanza-id", func(m *client.Message) { m.StanzaIDs = []client.StanzaID{sid(romeo, "")} }, sqlite.ErrInvalid},
		{"correction of a missing message", func(m *client.Message) { m.Replaces = 4242 }, client.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := msg(c, juliet, 2, "bad")
			tt.bad(&bad)
			_, err := e.db.InsertMessages(ctx(t), []client.Message{good, bad})
			mustErr(t, err, tt.want)
			if p, _ := e.db.LatestPage(ctx(t), c, 10); len(p) != 0 {
				t.Errorf("%d messages stored from a rejected batch", len(p))
			}
		})
	}
}

// TestFailedBatchLeavesIndexingOn: a batch that fails half-way in a
// transaction the caller goes on to commit leaves nothing behind, and
// later inserts are still indexed.
func TestFailedBatchLeavesIndexingOn(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	other := e.conv(e.acct, "nurse@capulet.example")
	var target client.MessageID
	e.update(func(tx client.Tx) error {
		res, err := tx.InsertMessages(ctx(t), []client.Message{msg(other, "nurse@capulet.example", 1, "elsewhere")})
		target = res[0].ID
		return err
	})
	e.update(func(tx client.Tx) error {
		corr := msg(c, juliet, 3, "a correction of another conversation's message")
		corr.Replaces = target
		_, err := tx.InsertMessages(ctx(t), []client.Message{msg(c, juliet, 2, "lost in the failed batch"), corr})
		if err == nil {
			t.Error("a correction across conversations was accepted")
		}
		_, err = tx.InsertMessages(ctx(t), []client.Message{msg(c, juliet, 4, "findme after the failure")})
		return err
	})
	hits, err := e.db.Search(ctx(t), e.acct, "findme", 10)
	if err != nil || len(hits) != 1 {
		t.Errorf("search after a failed batch: %v, %v", hits, err)
	}
	if hits, _ := e.db.Search(ctx(t), e.acct, "lost", 10); len(hits) != 0 {
		t.Errorf("the failed batch left %v", hits)
	}
	if p, _ := e.db.LatestPage(ctx(t), c, 10); len(p) != 1 {
		t.Errorf("%d messages in the conversation, want 1", len(p))
	}
	if err := e.db.IntegrityCheck(ctx(t)); err != nil {
		t.Error(err)
	}
}

// TestImportsIndexedPerTransaction: several InsertMessages calls in one
// transaction are indexed for search once, when it commits, or before any
// other write of the transaction, which then finds the index in step
// (deleting or retracting a message just imported, searching in the same
// transaction).
func TestImportsIndexedPerTransaction(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	var ids []client.MessageID
	e.update(func(tx client.Tx) error {
		for i, body := range []string{"alpha first", "alpha second", "alpha third", "alpha fourth"} {
			res, err := tx.InsertMessages(ctx(t), []client.Message{msg(c, juliet, i+1, body)})
			if err != nil {
				return err
			}
			ids = append(ids, res[0].ID)
		}
		if err := tx.DeleteMessage(ctx(t), ids[1]); err != nil {
			return err
		}
		if err := tx.Retract(ctx(t), ids[2], time.Time{}); err != nil {
			return err
		}
		res, err := tx.InsertMessages(ctx(t), []client.Message{msg(c, juliet, 9, "alpha fifth")})
		if err != nil {
			return err
		}
		ids = append(ids, res[0].ID)
		hits, err := tx.Search(ctx(t), e.acct, "alpha", 10)
		if err != nil || len(hits) != 3 {
			t.Errorf("search in the importing transaction: %+v, %v", hits, err)
		}
		_, err = tx.InsertMessages(ctx(t), []client.Message{msg(c, juliet, 10, "alpha sixth")})
		return err
	})
	hits, err := e.db.Search(ctx(t), e.acct, "alpha", 10)
	if err != nil || len(hits) != 4 {
		t.Errorf("search after commit: %d hits, %v", len(hits), err)
	}
	for _, w := range []string{"second", "third"} {
		if hits, _ := e.db.Search(ctx(t), e.acct, w, 10); len(hits) != 0 {
			t.Errorf("%q: deleted or retracted message found: %+v", w, hits)
		}
	}
	if hits, _ := e.db.Search(ctx(t), e.acct, "sixth", 10); len(hits) != 1 {
		t.Errorf("the last import of the transaction is not indexed: %+v", hits)
	}
	// Later single writes are indexed by the trigger again.
	e.update(func(tx client.Tx) error {
		_, err := tx.InsertMessages(ctx(t), []client.Message{msg(c, juliet, 11, "omega")})
		return err
	})
	if hits, _ := e.db.Search(ctx(t), e.acct, "omega", 10); len(hits) != 1 {
		t.Errorf("a later import is not indexed: %+v", hits)
	}
	if err := e.db.IntegrityCheck(ctx(t)); err != nil {
		t.Error(err)
	}
}

// TestStanzaIDUniqueAcrossPlaces: a message's first stanza-id is stored in
// its row and further ones in message_stanza_ids; one (archive, stanza-id)
// still belongs to one message, whichever place holds it, and the schema
// refuses a second one.
func TestStanzaIDUniqueAcrossPlaces(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	a := msg(c, juliet, 1, "in two archives")
	a.StanzaIDs = []client.StanzaID{sid(romeo, "r-1"), sid(room, "m-1")}
	first := e.insert(a)[0]
	for _, s := range a.StanzaIDs {
		again := msg(c, juliet, 2, "again")
		again.StanzaIDs = []client.StanzaID{s}
		if r := e.insert(again)[0]; !r.Duplicate || r.ID != first.ID {
			t.Errorf("by %v: %+v, want a duplicate of %d", s, r, first.ID)
		}
	}
	got := e.message(first.ID)
	if len(got.StanzaIDs) != 2 {
		t.Errorf("stanza-ids read back: %+v", got.StanzaIDs)
	}
	for _, s := range a.StanzaIDs {
		var id client.MessageID
		err := e.db.View(ctx(t), func(tx client.Tx) error {
			var err error
			id, err = tx.FindMessage(ctx(t), c, client.MessageRef{Archive: s.Archive, StanzaID: s.ID})
			return err
		})
		if err != nil || id != first.ID {
			t.Errorf("find by %v: %d, %v", s, id, err)
		}
	}
	b := e.insert(msg(c, juliet, 3, "other"))[0]
	e.db.Close()
	r := raw(t, e.path)
	for _, q := range []string{
		// The row's key into the side table, and the other way round.
		`INSERT INTO message_stanza_ids (archive, stanza_id, message) SELECT archive, stanza_id, ?1 FROM messages WHERE id = ?2`,
		`UPDATE messages SET (archive, stanza_id) = (SELECT archive, stanza_id FROM message_stanza_ids WHERE message = ?2) WHERE id = ?1`,
		`INSERT INTO messages (conversation, ts, direction, type, sender, archive, stanza_id)
			SELECT m.conversation, 99, 1, 1, 'x', s.archive, s.stanza_id FROM message_stanza_ids s JOIN messages m ON m.id = s.message
			WHERE s.message = ?2 AND ?1 > 0`,
	} {
		if _, err := r.Exec(q, b.ID, first.ID); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
			t.Errorf("%s: %v, want a uniqueness error", q, err)
		}
	}
}

func TestTimelinePaging(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	noise := e.conv(e.acct, "nurse@capulet.example")
	r := rand.New(rand.NewPCG(1, 2))
	// 500 messages over 200 seconds, so many share a timestamp, stored in
	// random order in batches of random size, with messages of another
	// conversation in between.
	var all []client.Message
	for i := range 500 {
		all = append(all, msg(c, juliet, r.IntN(200), fmt.Sprintf("m%d", i)))
		all = append(all, msg(noise, "nurse@capulet.example", r.IntN(200), "noise"))
	}
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var stored []client.Message
	for len(all) > 0 {
		n := min(len(all), 1+r.IntN(120))
		res := e.insert(all[:n]...)
		for i, m := range all[:n] {
			if m.Conversation == c {
				m.ID, m.Time = res[i].ID, m.Received
				stored = append(stored, m)
			}
		}
		all = all[n:]
	}
	// A correction is not a timeline entry.
	corr := msg(c, juliet, 300, "corrected")
	corr.Replaces = stored[0].ID
	e.insert(corr)
	slices.SortFunc(stored, func(a, b client.Message) int {
		if d := a.Time.Compare(b.Time); d != 0 {
			return d
		}
		return int(a.ID - b.ID)
	})
	want := ids(stored)

	latest, err := e.db.LatestPage(ctx(t), c, 50)
	if err != nil || !slices.Equal(ids(latest), want[len(want)-50:]) {
		t.Fatalf("latest page %v, %v; want %v", ids(latest), err, want[len(want)-50:])
	}
	// Backwards from the latest page to the start, in pages of 37.
	got := ids(latest)
	for first := latest[0].ID; ; {
		p, err := e.db.PageBefore(ctx(t), c, first, 37)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		got = append(ids(p), got...)
		first = p[0].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("scrolling back gave %d messages; want all %d in order", len(got), len(want))
	}
	// Forwards from the first message.
	got = []client.MessageID{want[0]}
	for last := want[0]; ; {
		p, err := e.db.PageAfter(ctx(t), c, last, 41)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		got = append(got, ids(p)...)
		last = p[len(p)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("scrolling forward gave %d messages; want all %d in order", len(got), len(want))
	}
	// Errors.
	_, err = e.db.PageBefore(ctx(t), noise, want[10], 10)
	mustErr(t, err, sqlite.ErrInvalid)
	_, err = e.db.PageBefore(ctx(t), c, 999999, 10)
	mustErr(t, err, client.ErrNotFound)
	for _, n := range []int{0, -1, 1001} {
		_, err = e.db.LatestPage(ctx(t), c, n)
		mustErr(t, err, sqlite.ErrInvalid)
	}
}

func TestCorrections(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	orig := e.insert(msg(c, juliet, 1, "What's in a nmae?"))[0].ID
	c1 := msg(c, juliet, 2, "What's in a naem?")
	c1.Replaces = orig
	id1 := e.insert(c1)[0].ID
	// A correction of the correction corrects the original.
	c2 := msg(c, juliet, 3, "What's in a name?")
	c2.Replaces = id1
	id2 := e.insert(c2)[0].ID
	page, _ := e.db.LatestPage(ctx(t), c, 10)
	if len(page) != 1 || page[0].ID != orig || page[0].Body != "What's in a nmae?" {
		t.Fatalf("page %+v", page)
	}
	if lc := page[0].LastCorrection; lc == nil || lc.ID != id2 || lc.Body != "What's in a name?" {
		t.Errorf("last correction %+v", lc)
	}
	if m := e.message(id2); m.Replaces != orig {
		t.Errorf("the second correction replaces %d, want the original %d", m.Replaces, orig)
	}
	hits, _ := e.db.Search(ctx(t), e.acct, "name", 10)
	if len(hits) != 1 || hits[0].Message != orig {
		t.Errorf("search for the corrected text: %+v", hits)
	}
	// Deleting the original deletes its corrections.
	e.update(func(tx client.Tx) error { return tx.DeleteMessage(ctx(t), orig) })
	if _, err := e.db.Message(ctx(t), id2); err == nil {
		t.Error("the correction survived its original")
	}
	if hits, _ := e.db.Search(ctx(t), e.acct, "name", 10); len(hits) != 0 {
		t.Errorf("search after deleting: %+v", hits)
	}
}

func TestRetract(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	m := msg(c, juliet, 1, "secret rendezvous at the chapel")
	m.StanzaIDs = []client.StanzaID{sid(romeo, "s-1")}
	m.Alternatives = []client.Body{{Lang: "it", Text: "appuntamento segreto"}}
	m.Attachments = []client.Attachment{{URL: "https://upload.example/map.png"}}
	id := e.insert(m)[0].ID
	corr := msg(c, juliet, 2, "secret rendezvous at the friar's cell")
	corr.Replaces = id
	e.insert(corr)
	e.update(func(tx client.Tx) error { return tx.SetReactions(ctx(t), id, romeo, []string{"👍"}, t0) })
	e.update(func(tx client.Tx) error { return tx.Retract(ctx(t), id, t0.Add(time.Hour)) })

	got := e.message(id)
	if got.Body != "" || got.Alternatives != nil || got.Attachments != nil || got.Reactions != nil ||
		got.LastCorrection == nil || got.LastCorrection.Body != "" || !got.Retracted.Equal(t0.Add(time.Hour)) {
		t.Errorf("retracted message %+v", got)
	}
	for _, q := range []string{"rendezvous", "appuntamento", "friar"} {
		if hits, _ := e.db.Search(ctx(t), e.acct, q, 10); len(hits) != 0 {
			t.Errorf("search %q finds a retracted message: %+v", q, hits)
		}
	}
	// The archive cannot bring it back.
	if r := e.insert(m)[0]; !r.Duplicate || r.ID != id {
		t.Errorf("re-inserting a retracted message: %+v", r)
	}
	if e.message(id).Body != "" {
		t.Error("the body came back")
	}
}

func TestReactions(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	id := e.insert(msg(c, juliet, 1, "A plague on both your houses"))[0].ID
	e.update(func(tx client.Tx) error {
		if err := tx.SetReactions(ctx(t), id, romeo, []string{"😱", "👍", "😱"}, t0); err != nil {
			return err
		}
		return tx.SetReactions(ctx(t), id, "mercutio@example.org", []string{"💀"}, t0.Add(time.Minute))
	})
	want := []client.Reaction{
		{Sender: "mercutio@example.org", Emojis: []string{"💀"}, Time: t0.Add(time.Minute)},
		{Sender: romeo, Emojis: []string{"👍", "😱"}, Time: t0},
	}
	if got := e.message(id).Reactions; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reactions %v, want %v", got, want)
	}
	// A new set replaces the sender's old one; an empty one removes it.
	e.update(func(tx client.Tx) error {
		if err := tx.SetReactions(ctx(t), id, romeo, []string{"❤️"}, t0.Add(time.Hour)); err != nil {
			return err
		}
		return tx.SetReactions(ctx(t), id, "mercutio@example.org", nil, t0.Add(time.Hour))
	})
	want = []client.Reaction{{Sender: romeo, Emojis: []string{"❤️"}, Time: t0.Add(time.Hour)}}
	if got := e.message(id).Reactions; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reactions %v, want %v", got, want)
	}
	err := e.db.Update(ctx(t), func(tx client.Tx) error { return tx.SetReactions(ctx(t), 999, romeo, []string{"x"}, t0) })
	mustErr(t, err, client.ErrNotFound)
}

func TestDeliveryStates(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	out := msg(c, romeo, 1, "outbound")
	out.Direction, out.State = client.Outbound, client.StatePending
	P, S, D, R, F := client.StatePending, client.StateSent, client.StateDelivered, client.StateRead, client.StateFailed
	tests := []struct {
		from, to client.DeliveryState
		changed  bool
	}{
		{P, S, true}, {P, D, true}, {P, R, true}, {P, F, true}, {P, P, false},
		{S, D, true}, {S, F, true}, {S, P, false}, {S, S, false},
		{D, R, true}, {D, S, false}, {D, F, false},
		{R, D, false}, {R, F, false},
		{F, P, true}, {F, S, false}, {F, R, false},
	}
	for _, tt := range tests {
		m := out
		m.State = tt.from
		if tt.from == F {
			m.Failure = "recipient-unavailable"
		}
		id := e.insert(m)[0].ID
		var changed bool
		e.update(func(tx client.Tx) error {
			var err error
			changed, err = tx.SetState(ctx(t), id, tt.to, "recipient-unavailable")
			return err
		})
		got := e.message(id)
		want := tt.from
		if tt.changed {
			want = tt.to
		}
		if changed != tt.changed || got.State != want {
			t.Errorf("%v → %v: changed %v, state %v; want %v, %v", tt.from, tt.to, changed, got.State, tt.changed, want)
		}
		if (got.State == F) != (got.Failure == "recipient-unavailable") {
			t.Errorf("%v → %v: failure %q in state %v", tt.from, tt.to, got.Failure, got.State)
		}
	}
	in := e.insert(msg(c, juliet, 2, "inbound"))[0].ID
	err := e.db.Update(ctx(t), func(tx client.Tx) error { _, err := tx.SetState(ctx(t), in, S, ""); return err })
	mustErr(t, err, sqlite.ErrInvalid)
}

func TestFindMessage(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	a := msg(c, juliet, 1, "a")
	a.XMLID, a.OriginID, a.StanzaIDs = "same", "same", []client.StanzaID{sid(romeo, "s-a")}
	b := msg(c, juliet, 2, "b")
	b.XMLID, b.OriginID = "attr-b", "origin-b"
	res := e.insert(a, b)
	ida, idb := res[0].ID, res[1].ID
	tests := []struct {
		ref  client.MessageRef
		want client.MessageID
	}{
		{client.MessageRef{Archive: jid.MustParse(romeo), StanzaID: "s-a"}, ida},
		{client.MessageRef{Archive: jid.MustParse(room), StanzaID: "s-a"}, 0},
		{client.MessageRef{Sender: juliet, OriginID: "same"}, ida},
		{client.MessageRef{Sender: juliet, XMLID: "same"}, ida},
		{client.MessageRef{Sender: juliet, XMLID: "attr-b"}, idb},
		{client.MessageRef{Sender: juliet, OriginID: "origin-b"}, idb},
		{client.MessageRef{Sender: juliet, XMLID: "origin-b"}, 0}, // b's id attribute is attr-b
		{client.MessageRef{Sender: "tybalt@capulet.example", XMLID: "same"}, 0},
	}
	for _, tt := range tests {
		var got client.MessageID
		err := e.db.View(ctx(t), func(tx client.Tx) error {
			var err error
			got, err = tx.FindMessage(ctx(t), c, tt.ref)
			return err
		})
		if tt.want == 0 {
			mustErr(t, err, client.ErrNotFound)
		} else if err != nil || got != tt.want {
			t.Errorf("FindMessage(%+v) = %d, %v; want %d", tt.ref, got, err, tt.want)
		}
	}
	err := e.db.View(ctx(t), func(tx client.Tx) error { _, err := tx.FindMessage(ctx(t), c, client.MessageRef{}); return err })
	mustErr(t, err, sqlite.ErrInvalid)
}

func TestUnreadAndActivity(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	quiet := e.conv(e.acct, "friar@verona.example")
	e.insert(msg(quiet, "friar@verona.example", 5, "hm"))
	unread := func() (int, client.Conversation) {
		cs, err := e.db.Conversations(ctx(t), e.acct)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range cs {
			if x.ID == c {
				return x.Unread, cs[0]
			}
		}
		t.Fatal("conversation missing")
		return 0, client.Conversation{}
	}
	var ms []client.Message
	for i := range 10 {
		ms = append(ms, msg(c, juliet, 100+i, "in"))
	}
	mine := msg(c, romeo, 111, "out")
	mine.Direction = client.Outbound
	res := e.insert(append(ms, mine)...)
	if n, first := unread(); n != 10 || first.ID != c || !first.LastActivity.Equal(t0.Add(111*time.Second)) {
		t.Fatalf("unread %d, first conversation %+v", n, first)
	}
	e.update(func(tx client.Tx) error { return tx.SetLastRead(ctx(t), c, res[6].ID) })
	if n, _ := unread(); n != 3 {
		t.Errorf("unread after reading up to the 7th: %d, want 3", n)
	}
	// Reading backwards does nothing.
	e.update(func(tx client.Tx) error { return tx.SetLastRead(ctx(t), c, res[2].ID) })
	if n, _ := unread(); n != 3 {
		t.Errorf("unread after moving the read position back: %d, want 3", n)
	}
	// Old history arriving from the archive is not unread; new messages are.
	e.insert(msg(c, juliet, 1, "old"), msg(c, juliet, 200, "new"))
	if n, _ := unread(); n != 4 {
		t.Errorf("unread after an old and a new message: %d, want 4", n)
	}
	e.update(func(tx client.Tx) error { return tx.DeleteMessage(ctx(t), res[9].ID) })
	if n, _ := unread(); n != 3 {
		t.Errorf("unread after deleting an unread message: %d, want 3", n)
	}
	conv, _ := viewConv(t, e, c)
	if conv.LastRead != res[6].ID || !conv.LastActivity.Equal(t0.Add(200*time.Second)) {
		t.Errorf("conversation %+v", conv)
	}
}

func viewConv(t *testing.T, e *env, id client.ConversationID) (client.Conversation, error) {
	var c client.Conversation
	err := e.db.View(ctx(t), func(tx client.Tx) error {
		var err error
		c, err = tx.Conversation(ctx(t), id)
		return err
	})
	return c, err
}

func TestConversations(t *testing.T) {
	e := newEnv(t)
	a := e.conv(e.acct, juliet)
	if again := e.conv(e.acct, juliet); again != a {
		t.Errorf("EnsureConversation twice: %d, %d", a, again)
	}
	var r client.ConversationID
	e.update(func(tx client.Tx) error {
		var err error
		if r, err = tx.EnsureConversation(ctx(t), e.acct, jid.MustParse(room), client.KindGroupchat); err != nil {
			return err
		}
		return tx.SetEncryption(ctx(t), r, client.EncryptionRequired)
	})
	got, err := viewConv(t, e, r)
	if err != nil || got.Kind != client.KindGroupchat || got.Peer.String() != room || got.Encryption != client.EncryptionRequired || got.Account != e.acct {
		t.Errorf("room conversation %+v, %v", got, err)
	}
	err = e.db.Update(ctx(t), func(tx client.Tx) error {
		_, err := tx.EnsureConversation(ctx(t), e.acct, jid.MustParse(juliet+"/balcony"), client.KindChat)
		return err
	})
	mustErr(t, err, sqlite.ErrInvalid)
	_, err = viewConv(t, e, 12345)
	mustErr(t, err, client.ErrNotFound)
}

func TestDeleteAccountDeletesEverything(t *testing.T) {
	e := newEnv(t)
	other := e.account(jid.MustParse("benvolio@montague.example"))
	c := e.conv(e.acct, juliet)
	oc := e.conv(other, juliet)
	var ms []client.Message
	for i := range 200 {
		m := msg(c, juliet, i, fmt.Sprintf("doomed message %d", i))
		m.StanzaIDs = []client.StanzaID{sid(romeo, fmt.Sprint("s", i))}
		ms = append(ms, m)
	}
	res := e.insert(ms...)
	keep := e.insert(msg(oc, juliet, 1, "doomed but in another account"))[0].ID
	e.update(func(tx client.Tx) error {
		if _, err := tx.Enqueue(ctx(t), client.OutboxItem{Account: e.acct, Message: res[0].ID}); err != nil {
			return err
		}
		if err := tx.PutRosterItem(ctx(t), e.acct, "1", client.RosterItem{JID: jid.MustParse(juliet), Groups: []string{"x"}}); err != nil {
			return err
		}
		return tx.PutMAMCursor(ctx(t), e.acct, client.MAMCursor{Archive: jid.MustParse(romeo), Newest: "s199"})
	})
	e.update(func(tx client.Tx) error { return tx.DeleteAccount(ctx(t), e.acct) })
	hits, err := e.db.Search(ctx(t), other, "doomed", 10)
	if err != nil || len(hits) != 1 || hits[0].Message != keep {
		t.Errorf("the other account's search: %+v, %v", hits, err)
	}
	if err := e.db.IntegrityCheck(ctx(t)); err != nil {
		t.Error(err)
	}
	e.db.Close()
	n := counts(t, e.path)
	for table, want := range map[string]int{"messages": 1, "message_stanza_ids": 0, "conversations": 1, "outbox": 0,
		"roster_items": 0, "roster_groups": 0, "archives": 0, "mam_cursors": 0, "accounts": 1} {
		if n[table] != want {
			t.Errorf("%s: %d rows left, want %d", table, n[table], want)
		}
	}
}

func TestBodiesAreNotTruncated(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	long := strings.Repeat("Ä long body with\x00 a NUL and ünïcödé. ", 5000)
	id := e.insert(msg(c, juliet, 1, long))[0].ID
	if got := e.message(id).Body; got != long {
		t.Errorf("body of %d bytes came back as %d bytes", len(long), len(got))
	}
}

func TestIDsAreNeverReused(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	res := e.insert(msg(c, juliet, 1, "a"), msg(c, juliet, 2, "b"))
	e.update(func(tx client.Tx) error { return tx.DeleteMessage(ctx(t), res[1].ID) })
	if id := e.insert(msg(c, juliet, 3, "c"))[0].ID; id <= res[1].ID {
		t.Errorf("new message got id %d after %d was deleted", id, res[1].ID)
	}
}

// TestMergeTakesServerOrder: a live message is placed by its arrival time
// until its archive copy brings the server's time; a message the server
// archived after it, but fetched from the archive first, then stays after
// it (the server's order wins over the arrival order).
func TestMergeTakesServerOrder(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	live := msg(c, juliet, 10, "first, received live")
	live.StanzaIDs = []client.StanzaID{sid(romeo, "s-1")}
	e.insert(live)
	second := client.Message{Conversation: c, Direction: client.Inbound, Type: client.TypeChat, Sender: juliet,
		StanzaIDs: []client.StanzaID{sid(romeo, "s-2")}, Server: t0.Add(9 * time.Second), Body: "second, from the archive"}
	e.insert(second)
	order := func() []string {
		var out []string
		for _, m := range e.latest(c) {
			out = append(out, m.Body)
		}
		return out
	}
	if got := order(); !slices.Equal(got, []string{second.Body, live.Body}) {
		t.Fatalf("before the merge: %q", got)
	}
	copyOf := second
	copyOf.StanzaIDs, copyOf.Server, copyOf.Body = []client.StanzaID{sid(romeo, "s-1")}, t0.Add(8*time.Second), live.Body
	if r := e.insert(copyOf)[0]; !r.Duplicate {
		t.Fatalf("the archive copy: %+v, want a duplicate", r)
	}
	if got := order(); !slices.Equal(got, []string{live.Body, second.Body}) {
		t.Fatalf("after the merge: %q, want the server's order", got)
	}

	// A server that stamps whole seconds: a copy stamped within the same
	// second refines the position (the engine spaces one second's archive
	// results 1 µs apart in the archive's order); another second does not
	// move it.
	third := second
	third.StanzaIDs, third.Server, third.Body = []client.StanzaID{sid(romeo, "s-3")}, t0.Add(20*time.Second), "third, whole second"
	fourth := third
	fourth.StanzaIDs, fourth.Body = []client.StanzaID{sid(romeo, "s-4")}, "fourth, same second, stored first"
	e.insert(fourth)
	e.insert(third)
	if got := order(); !slices.Equal(got[2:], []string{fourth.Body, third.Body}) {
		t.Fatalf("before the refinement: %q", got)
	}
	refined := fourth
	refined.Server = t0.Add(20*time.Second + 2*time.Microsecond)
	moved := third
	moved.Server = t0.Add(20*time.Second + time.Microsecond)
	for _, m := range []client.Message{moved, refined} {
		if r := e.insert(m)[0]; !r.Duplicate {
			t.Fatalf("%+v, want a duplicate", r)
		}
	}
	if got := order(); !slices.Equal(got[2:], []string{third.Body, fourth.Body}) {
		t.Fatalf("after the refinement: %q, want the archive's order", got)
	}
	// A copy the server archived again later (a resent stanza) does not
	// move a live message either.
	resent := msg(c, juliet, 40, "received live at 40 s")
	resent.OriginID = "o-resent"
	id := e.insert(resent)[0].ID
	again := resent
	again.StanzaIDs, again.Server, again.Received = []client.StanzaID{sid(romeo, "s-again")}, t0.Add(47*time.Second), time.Time{}
	if r := e.insert(again)[0]; !r.Duplicate || r.ID != id {
		t.Fatalf("the later copy: %+v", r)
	}
	if got := e.message(id); !got.Time.Equal(resent.Received) {
		t.Fatalf("a later archived copy moved the message to %v", got.Time)
	}

	other := refined
	other.Server = t0.Add(25 * time.Second)
	e.insert(other)
	if got := e.message(e.insert(other)[0].ID); !got.Server.Equal(refined.Server) {
		t.Fatalf("a copy stamped in another second moved the message to %v", got.Server)
	}

	// A server that stamps with sub-second digits (ejabberd): of two
	// stamps within one second the earlier stays, whichever copy came
	// first (offline delivery stamps the resend, after the archive's
	// stamp).
	precise := msg(c, juliet, 0, "archived at 60.129122 s")
	precise.StanzaIDs, precise.Server, precise.Received = []client.StanzaID{sid(romeo, "s-precise")}, t0.Add(60*time.Second+129122*time.Microsecond), time.Time{}
	precise.OriginID = "o-precise"
	pid := e.insert(precise)[0].ID
	offline := precise
	offline.StanzaIDs, offline.Server = nil, t0.Add(60*time.Second+151975*time.Microsecond)
	if r := e.insert(offline)[0]; !r.Duplicate || r.ID != pid {
		t.Fatalf("the offline copy: %+v", r)
	}
	if got := e.message(pid); !got.Time.Equal(precise.Server) || !got.Server.Equal(precise.Server) {
		t.Fatalf("a same-second copy moved a sub-second server time to %v (server %v)", got.Time, got.Server)
	}
	late := msg(c, juliet, 0, "resent at 70.151975 s, archived at 70.129122 s")
	late.OriginID, late.Received = "o-late", time.Time{}
	late.Server = t0.Add(70*time.Second + 151975*time.Microsecond)
	lid := e.insert(late)[0].ID
	archived := late
	archived.StanzaIDs, archived.Server = []client.StanzaID{sid(romeo, "s-late")}, t0.Add(70*time.Second+129122*time.Microsecond)
	if r := e.insert(archived)[0]; !r.Duplicate || r.ID != lid {
		t.Fatalf("the archive copy: %+v", r)
	}
	if got := e.message(lid); !got.Time.Equal(archived.Server) {
		t.Fatalf("the earlier stamp of the same second did not win: %v", got.Time)
	}
}

// TestMergeKeepsFirstPreciseStamp: with a server that stamps with
// sub-second digits (ejabberd), a message takes the earliest server time
// of its copies, across a second boundary too: its copies resent after a
// resumption (stamped when resent) do not outweigh the archive's stamp.
// Seen in TestSyncChaos: a sender's stanza archived twice (58.800838 and
// 58.803260), delivered twice after a resumption with delays stamped
// 59.311461 and 59.319021, stood after its successor, delivered once
// (59.421196) and archived at 58.840971.
func TestMergeKeepsFirstPreciseStamp(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	at := func(sec, micro int) time.Time {
		return t0.Add(time.Duration(sec)*time.Second + time.Duration(micro)*time.Microsecond)
	}
	// A live copy placed by its arrival, with the server's resend stamp.
	resent := func(origin, body string, recv, stamp time.Time) client.Message {
		m := msg(c, juliet, 0, body)
		m.OriginID, m.Received, m.Time, m.Server = origin, recv, recv, stamp
		return m
	}
	archived := func(m client.Message, id string, stamp time.Time) client.Message {
		m.StanzaIDs, m.Server, m.Time, m.Received = []client.StanzaID{sid(romeo, id)}, stamp, time.Time{}, time.Time{}
		return m
	}
	first := resent("o-468", "468", at(60, 345228), at(59, 311461))
	id := e.insert(first)[0].ID
	e.insert(resent("o-468", "468", at(60, 345300), at(59, 319021)))
	if got := e.message(id); !got.Time.Equal(first.Time) || !got.Server.Equal(first.Server) {
		t.Fatalf("a later resend stamp moved the message to %v (server %v), want it at its arrival, server %v",
			got.Time, got.Server, first.Server)
	}
	next := resent("o-471", "471", at(60, 352403), at(59, 421196))
	e.insert(next)
	e.insert(archived(first, "s-468", at(58, 800838)), archived(first, "s-468b", at(58, 803260)),
		archived(next, "s-471", at(58, 840971)))
	if got := e.message(id); !got.Time.Equal(at(58, 800838)) {
		t.Fatalf("468 at %v, want the archive's first stamp", got.Time)
	}
	var order []string
	for _, m := range e.latest(c) {
		order = append(order, m.Body)
	}
	if !slices.Equal(order, []string{"468", "471"}) {
		t.Fatalf("order %q, want the archive's", order)
	}

	// Placed by a server time already (the later resend stamp, in the
	// next second), a message takes an earlier sub-second stamp.
	placed := archived(msg(c, juliet, 0, "placed"), "s-placed", at(81, 319021))
	placed.OriginID = "o-placed"
	pid := e.insert(placed)[0].ID
	e.insert(archived(placed, "s-placed-first", at(80, 800838)))
	if got := e.message(pid); !got.Time.Equal(at(80, 800838)) || !got.Server.Equal(at(80, 800838)) {
		t.Fatalf("an earlier sub-second stamp in another second left the message at %v (server %v)", got.Time, got.Server)
	}
}

// TestNewestMarkable: the newest inbound markable timeline message between
// a read position and the message read up to, in timeline order.
func TestNewestMarkable(t *testing.T) {
	e := newEnv(t)
	c := e.conv(e.acct, juliet)
	other := e.conv(e.acct, "mercutio@montague.example")
	markable := func(m client.Message) client.Message { m.Markable = true; return m }
	out := msg(c, romeo, 150, "mine, markable by mistake")
	out.Direction, out.Markable = client.Outbound, true
	res := e.insert(
		markable(msg(c, juliet, 100, "first")), // 0
		msg(c, juliet, 200, "not markable"),    // 1
		out,                                    // 2
		markable(msg(c, juliet, 300, "third")), // 3
		msg(c, juliet, 400, "last"),            // 4
		markable(msg(other, "mercutio@montague.example", 350, "elsewhere")),
		markable(msg(c, juliet, 500, "newest")), // 6
	)
	fix := markable(msg(c, juliet, 600, "newest, corrected"))
	fix.Replaces = res[6].ID
	e.insert(fix)
	// The same second as the first, after it in the timeline (by id).
	tie := e.insert(markable(msg(c, juliet, 100, "tie")))[0].ID

	find := func(after, upTo client.MessageID) (client.MessageID, error) {
		var m client.Message
		err := e.db.View(ctx(t), func(tx client.Tx) (err error) {
			m, err = tx.NewestMarkable(ctx(t), c, after, upTo)
			return err
		})
		if m.ID != 0 && !m.Markable {
			t.Errorf("NewestMarkable returned message %d with Markable false", m.ID)
		}
		return m.ID, err
	}
	for _, tc := range []struct {
		name      string
		after, up client.MessageID
		want      client.MessageID
	}{
		{"everything", 0, res[6].ID, res[6].ID},
		{"up to a plain message", 0, res[4].ID, res[3].ID},
		{"skips plain and outbound ones", 0, res[2].ID, tie},
		{"up to itself", res[3].ID, res[3].ID, 0},
		{"after the read position only", res[3].ID, res[4].ID, 0},
		{"from before, over a tie", res[0].ID, res[1].ID, tie},
		{"read position ahead", res[6].ID, res[3].ID, 0},
	} {
		got, err := find(tc.after, tc.up)
		if tc.want == 0 {
			if !errors.Is(err, client.ErrNotFound) {
				t.Errorf("%s: %d, %v; want not found", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	if _, err := find(0, res[5].ID); err == nil || errors.Is(err, client.ErrNotFound) {
		t.Errorf("a message of another conversation: %v, want an invalid-argument error", err)
	}
	// Outbound messages are never stored as markable.
	if m, err := e.db.Message(ctx(t), res[2].ID); err != nil || m.Markable {
		t.Errorf("outbound message: markable %v, %v", m.Markable, err)
	}
}
