package search_test

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/search"
	"github.com/tern-im/tern/protocol/client"
)

func TestSnippetSegmentsBoldMatches(t *testing.T) {
	segs := search.SnippetSegments([]client.SnippetPart{{Text: "Where is the "}, {Text: "ring", Match: true}, {Text: "?"}})
	if len(segs) != 3 {
		t.Fatalf("%d segments", len(segs))
	}
	for i, bold := range []bool{false, true, false} {
		ts := segs[i].(*widget.TextSegment)
		if ts.Style.TextStyle.Bold != bold || !ts.Style.Inline {
			t.Errorf("segment %d %q: bold %v inline %v", i, ts.Text, ts.Style.TextStyle.Bold, ts.Style.Inline)
		}
	}
}

func TestDateText(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{now.Add(-time.Hour), "11:00"},
		{time.Date(2025, 1, 6, 9, 5, 0, 0, time.Local), "6 Jan 09:05"},
		{time.Date(2023, 12, 31, 9, 0, 0, 0, time.Local), "31 Dec 2023"},
	} {
		if got := search.DateText(tc.t, now); got != tc.want {
			t.Errorf("DateText(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
