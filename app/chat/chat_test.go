package chat_test

import (
	"testing"
	"time"

	"github.com/tern-im/tern/app/chat"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/protocol/client"
)

func TestDayText(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(-time.Hour), "Today"},
		{now.AddDate(0, 0, -1), "Yesterday"},
		{time.Date(2025, 1, 6, 9, 0, 0, 0, time.Local), "Monday, 6 January"},
		{time.Date(2024, 12, 31, 9, 0, 0, 0, time.Local), "31 December 2024"},
	} {
		if got := chat.DayText(tc.t, now); got != tc.want {
			t.Errorf("DayText(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestRowsGroupBySenderAndGap(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	at := func(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }
	in := func(id, min int) client.Message {
		return client.Message{ID: client.MessageID(id), Direction: client.Inbound, Sender: "juliet@capulet.lit", Time: at(min)}
	}
	out := func(id, min int) client.Message {
		return client.Message{ID: client.MessageID(id), Direction: client.Outbound, Sender: "romeo@montague.lit", Time: at(min)}
	}
	tl := model.Timeline{Messages: []client.Message{in(1, -60), in(2, -59), out(3, -58), out(4, -40), in(5, -39)}}
	rows := chat.Rows(tl, "You", now)
	want := []string{"juliet@capulet.lit", "", "You", "You", "juliet@capulet.lit"}
	for i, r := range rows {
		if r.Sender != want[i] {
			t.Errorf("row %d sender = %q, want %q", i, r.Sender, want[i])
		}
	}
	if rows[0].Day != "Today" || rows[1].Day != "" {
		t.Errorf("days = %q %q", rows[0].Day, rows[1].Day)
	}
}
