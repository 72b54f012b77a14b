package sqlite_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// TestLastMessages: the conversation list's previews in one read are what
// LatestPage(conv, 1) returns for each conversation of the account: not a
// correction (even a newer one), the higher id among messages of one
// time, nothing for an empty conversation or for another account.
func TestLastMessages(t *testing.T) {
	e := newEnv(t)
	juliet := e.conv(e.acct, "juliet@capulet.example")
	nurse := e.conv(e.acct, "nurse@capulet.example")
	e.conv(e.acct, "friar@verona.example") // no messages
	other := e.account(jid.MustParse("benvolio@montague.example"))
	otherConv := e.conv(other, "mercutio@verona.example")

	res := e.insert(
		msg(juliet, "juliet@capulet.example", 10, "first"),
		msg(juliet, "juliet@capulet.example", 20, "second"),
		msg(nurse, "nurse@capulet.example", 30, "same time, lower id"),
		msg(nurse, "nurse@capulet.example", 30, "same time, higher id"),
		msg(otherConv, "mercutio@verona.example", 40, "not romeo's"),
	)
	corr := msg(juliet, "juliet@capulet.example", 50, "second, corrected")
	corr.Replaces = res[1].ID
	e.insert(corr)

	got, err := e.db.LastMessages(ctx(t), e.acct)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b client.Message) int { return int(a.Conversation - b.Conversation) })
	var want []client.Message
	for _, c := range []client.ConversationID{juliet, nurse} {
		want = append(want, e.latest(c)[len(e.latest(c))-1])
	}
	slices.SortFunc(want, func(a, b client.Message) int { return int(a.Conversation - b.Conversation) })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("LastMessages:\n got %s\nwant %s", sprintAll(got), sprintAll(want))
	}
	if got[0].Body != "second" || got[0].LastCorrection == nil || got[0].LastCorrection.Body != "second, corrected" {
		t.Errorf("juliet's last message: %q, correction %+v", got[0].Body, got[0].LastCorrection)
	}
	if got[1].Body != "same time, higher id" {
		t.Errorf("nurse's last message: %q", got[1].Body)
	}

	none, err := e.db.LastMessages(ctx(t), client.AccountID(999))
	if err != nil || len(none) != 0 {
		t.Errorf("unknown account: %v, %v", none, err)
	}
}
