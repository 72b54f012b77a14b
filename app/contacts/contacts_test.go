package contacts_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/contacts"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// The compile-time proof that the engine offers what the screen needs.
var _ contacts.Engine = (*client.Client)(nil)

type tasks struct {
	wg sync.WaitGroup
	ui sync.Mutex
}

func (t *tasks) Do(f func()) {
	t.ui.Lock()
	defer t.ui.Unlock()
	fyne.Do(f)
}

func (t *tasks) Go(f func(ctx context.Context)) {
	t.wg.Add(1)
	go func() { defer t.wg.Done(); f(context.Background()) }()
}

// server is a fake engine and directory sharing one roster: the engine's
// calls change what the directory reads, as a server's pushes would.
type server struct {
	mu      sync.Mutex
	roster  []client.RosterItem
	reqs    []client.SubscriptionRequest
	blocked []jid.JID
	calls   []string
}

func (s *server) call(c string) {
	s.calls = append(s.calls, c)
}

func (s *server) item(j jid.JID) *client.RosterItem {
	for i := range s.roster {
		if s.roster[i].JID == j {
			return &s.roster[i]
		}
	}
	return nil
}

func (s *server) AddContact(_ context.Context, j jid.JID, name string, groups []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call("add " + j.String() + " " + name + " [" + strings.Join(groups, ",") + "]")
	s.roster = append(s.roster, client.RosterItem{JID: j, Name: name, Groups: groups})
	return nil
}

func (s *server) RenameContact(_ context.Context, j jid.JID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call("rename " + j.String() + " " + name)
	s.item(j).Name = name
	return nil
}

func (s *server) SetGroups(_ context.Context, j jid.JID, groups []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call("groups " + j.String() + " [" + strings.Join(groups, ",") + "]")
	s.item(j).Groups = groups
	return nil
}

func (s *server) RemoveContact(_ context.Context, j jid.JID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call("remove " + j.String())
	s.roster = slices.DeleteFunc(s.roster, func(it client.RosterItem) bool { return it.JID == j })
	return nil
}

func (s *server) RequestSubscription(_ context.Context, j jid.JID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call("subscribe " + j.String())
	s.item(j).Ask = true
	return nil
}

func (s *server) answer(op string, j jid.JID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call(op + " " + j.String())
	s.reqs = slices.DeleteFunc(s.reqs, func(r client.SubscriptionRequest) bool { return r.JID == j })
}

func (s *server) ApproveSubscription(_ context.Context, j jid.JID) error {
	s.answer("approve", j)
	return nil
}

func (s *server) DenySubscription(_ context.Context, j jid.JID) error {
	s.answer("deny", j)
	return nil
}

func (s *server) Block(_ context.Context, jids ...jid.JID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call("block " + jids[0].String())
	s.blocked = append(s.blocked, jids...)
	return nil
}

func (s *server) Unblock(_ context.Context, jids ...jid.JID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call("unblock " + jids[0].String())
	s.blocked = slices.DeleteFunc(s.blocked, func(j jid.JID) bool { return slices.Contains(jids, j) })
	return nil
}

func (s *server) Roster(context.Context, client.AccountID) ([]client.RosterItem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.roster), nil
}

func (s *server) SubscriptionRequests(context.Context, client.AccountID) ([]client.SubscriptionRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs), nil
}

func (s *server) Blocklist(context.Context, client.AccountID) ([]jid.JID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.blocked), nil
}

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestContactsScreen(t *testing.T) {
	test.NewTempApp(t)
	srv := &server{
		roster: []client.RosterItem{
			{JID: mustJID(t, "nurse@capulet.lit"), Name: "Nurse", Subscription: client.SubscriptionBoth, Groups: []string{"Capulets"}},
			{JID: mustJID(t, "tybalt@capulet.lit"), Subscription: client.SubscriptionTo},
		},
		reqs: []client.SubscriptionRequest{
			{JID: mustJID(t, "benvolio@montague.lit"), Nick: "Benvolio", Status: "It's me", Received: time.Now()},
			{JID: mustJID(t, "paris@verona.lit")},
		},
	}
	run := &tasks{}
	s := contacts.NewScreen(run, srv, srv, 1)
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(520, 640))
	s.Load()
	run.wg.Wait()
	test.AssertRendersToMarkup(t, "contacts.xml", w.Canvas())

	// Approve one request, deny the other.
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.ApproveLabel)[0])
	run.wg.Wait()
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.DenyLabel)[0])
	run.wg.Wait()
	if len(s.Requests()) != 0 {
		t.Fatalf("requests left: %v", s.Requests())
	}

	// Add juliet: a roster item and a subscription request.
	addr, name, groups := s.Form()
	test.Type(addr, "not an address")
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.AddLabel)[0])
	if s.Status() != contacts.ErrBadAddress.Error() {
		t.Fatalf("status = %q", s.Status())
	}
	addr.SetText("")
	test.Type(addr, "juliet@capulet.lit")
	test.Type(name, "Juliet")
	test.Type(groups, "Capulets, Verona, Capulets")
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.AddLabel)[0])
	run.wg.Wait()
	if got := contactInfo(s); !slices.Equal(got, []string{
		"Juliet: juliet@capulet.lit · Capulets, Verona · request sent",
		"Nurse: nurse@capulet.lit · Capulets",
		"tybalt@capulet.lit: tybalt@capulet.lit · does not see your presence",
	}) {
		t.Fatalf("contacts = %q", got)
	}

	// Rename tybalt and give him a group; block him, unblock him; remove
	// the nurse.
	s.Select(mustJID(t, "tybalt@capulet.lit"))
	en, eg := s.Editor()
	test.Type(en, "Tybalt")
	test.Type(eg, "Capulets")
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.SaveLabel)[0])
	run.wg.Wait()
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.BlockLabel)[0])
	run.wg.Wait()
	if c, ok := s.Selected(); !ok || !c.Blocked || c.Name != "Tybalt" {
		t.Fatalf("selected after block = %+v, %v", c, ok)
	}
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.UnblockLabel)[0])
	run.wg.Wait()
	s.Select(mustJID(t, "nurse@capulet.lit"))
	test.Tap(findButtons(t, w.Canvas().Content(), contacts.RemoveLabel)[0])
	run.wg.Wait()

	want := []string{
		"approve benvolio@montague.lit",
		"deny paris@verona.lit",
		"add juliet@capulet.lit Juliet [Capulets,Verona]",
		"subscribe juliet@capulet.lit",
		"rename tybalt@capulet.lit Tybalt",
		"groups tybalt@capulet.lit [Capulets]",
		"block tybalt@capulet.lit",
		"unblock tybalt@capulet.lit",
		"remove nurse@capulet.lit",
	}
	if !slices.Equal(srv.calls, want) {
		t.Fatalf("engine calls:\n%q\nwant\n%q", srv.calls, want)
	}
	if got := contactInfo(s); len(got) != 2 {
		t.Fatalf("contacts after removal = %q", got)
	}
}

func contactInfo(s *contacts.Screen) []string {
	var out []string
	for _, c := range s.Contacts() {
		out = append(out, contacts.DisplayName(c.RosterItem)+": "+contacts.Info(c))
	}
	return out
}

func TestParseGroups(t *testing.T) {
	if got := contacts.ParseGroups(" a, b,,a , c "); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("ParseGroups = %q", got)
	}
}

func findButtons(t *testing.T, o fyne.CanvasObject, text string) []*widget.Button {
	if !o.Visible() {
		return nil
	}
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return []*widget.Button{b}
	}
	var children []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		children = v.Objects
	case fyne.Widget:
		children = test.TempWidgetRenderer(t, v).Objects()
	}
	var out []*widget.Button
	for _, c := range children {
		out = append(out, findButtons(t, c, text)...)
	}
	return out
}
