// Package search is Tern's global full-text search over the history: a
// query box, the results with their matching words in context (snippets
// from the store's FTS5 index), and a jump to the message, whose
// conversation then opens around it. Queries run off the Fyne thread; a
// late answer to an old query is dropped.
package search

import (
	"context"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
)

// Limit is how many results a query shows per account.
const Limit = 100

// MinQuery is the shortest query searched as the user types, in runes.
const MinQuery = 2

// Texts of the search screen.
const (
	Placeholder   = "Search messages"
	NoResultsText = "No messages found."
)

// Searcher runs full-text queries (client.History's Search; the model
// passes it through).
type Searcher interface {
	Search(ctx context.Context, acct client.AccountID, query string, limit int) ([]client.SearchHit, error)
}

// Runner runs a function on a goroutine it owns and waits for, and hands
// functions to the Fyne thread (chat.Tasks).
type Runner interface {
	Go(f func(ctx context.Context))
	Do(f func())
}

// Result is one search result.
type Result struct {
	Account client.AccountID
	client.SearchHit
	// Name names the conversation.
	Name string
}

// Screen is the search screen.
type Screen struct {
	// OnJump is called with the result the user picks.
	OnJump func(Result)
	// Now returns the current time, for the results' dates (nil: time.Now).
	Now func() time.Time

	run      Runner
	searcher Searcher
	accounts func() []client.AccountID
	name     func(client.AccountID, client.ConversationID) string

	seq     int // the number of the latest query
	results []Result
	entry   *widgets.Entry
	status  *widget.Label
	list    *widget.List
	content fyne.CanvasObject
}

// NewScreen returns the search screen: accounts lists the accounts to
// search, name names a conversation.
func NewScreen(run Runner, s Searcher, accounts func() []client.AccountID, name func(client.AccountID, client.ConversationID) string) *Screen {
	sc := &Screen{run: run, searcher: s, accounts: accounts, name: name}
	sc.entry = widgets.NewEntry()
	sc.entry.SetPlaceHolder(Placeholder)
	sc.entry.ActionItem = widget.NewIcon(theme.SearchIcon())
	sc.entry.OnChanged = func(q string) {
		if len([]rune(q)) >= MinQuery {
			sc.Query(q)
		}
	}
	sc.entry.OnSubmitted = func(q string) {
		if len(sc.results) > 0 && sc.OnJump != nil {
			sc.OnJump(sc.results[0])
			return
		}
		sc.Query(q)
	}
	sc.status = widget.NewLabel("")
	sc.status.Hide()
	sc.list = widget.NewList(
		func() int { return len(sc.results) },
		func() fyne.CanvasObject { return newResultRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(sc.results) {
				o.(*resultRow).set(sc.results[id], sc.now())
			}
		},
	)
	sc.list.OnSelected = func(id widget.ListItemID) {
		sc.list.UnselectAll()
		if id < len(sc.results) && sc.OnJump != nil {
			sc.OnJump(sc.results[id])
		}
	}
	sc.content = container.NewBorder(container.NewVBox(sc.entry, sc.status), nil, nil, nil, sc.list)
	return sc
}

func (sc *Screen) now() time.Time {
	if sc.Now != nil {
		return sc.Now()
	}
	return time.Now()
}

// Content returns the screen's root object.
func (sc *Screen) Content() fyne.CanvasObject { return sc.content }

// Entry returns the query box (to focus it, and to pass on the window's
// shortcuts).
func (sc *Screen) Entry() *widgets.Entry { return sc.entry }

// Results returns the results shown.
func (sc *Screen) Results() []Result { return sc.results }

// Status returns the line above the results ("" when hidden).
func (sc *Screen) Status() string {
	if !sc.status.Visible() {
		return ""
	}
	return sc.status.Text
}

// Query searches every account for q off the Fyne thread and shows the
// results, most relevant first.
func (sc *Screen) Query(q string) {
	sc.seq++
	seq := sc.seq
	accts := sc.accounts()
	s := sc.searcher
	sc.run.Go(func(ctx context.Context) {
		var out []Result
		var err error
		for _, a := range accts {
			hits, e := s.Search(ctx, a, q, Limit)
			if e != nil {
				err = e
				break
			}
			for _, h := range hits {
				out = append(out, Result{Account: a, SearchHit: h})
			}
		}
		slices.SortStableFunc(out, func(a, b Result) int {
			switch {
			case a.Score > b.Score:
				return -1
			case a.Score < b.Score:
				return 1
			}
			return b.Time.Compare(a.Time)
		})
		sc.run.Do(func() {
			if seq != sc.seq {
				return // a newer query was typed meanwhile
			}
			if err != nil {
				sc.results = nil
				sc.status.SetText(fmt.Sprintf("Search failed: %v", err))
				sc.status.Show()
				sc.list.Refresh()
				return
			}
			for i := range out {
				out[i].Name = sc.name(out[i].Account, out[i].Conversation)
			}
			sc.results = out
			if len(out) == 0 {
				sc.status.SetText(NoResultsText)
				sc.status.Show()
			} else {
				sc.status.Hide()
			}
			sc.list.Refresh()
			sc.list.ScrollToTop()
		})
	})
}

// SnippetSegments shows a snippet with its matches in bold.
func SnippetSegments(parts []client.SnippetPart) []widget.RichTextSegment {
	var out []widget.RichTextSegment
	for _, p := range parts {
		st := widget.RichTextStyleInline
		if p.Match {
			st = widget.RichTextStyleStrong
			st.Inline = true
		}
		out = append(out, &widget.TextSegment{Text: p.Text, Style: st})
	}
	return out
}

// resultRow is one result: the conversation, the date and the snippet.
type resultRow struct {
	widget.BaseWidget
	name    *widget.Label
	when    *widget.Label
	snippet *widget.RichText
}

func newResultRow() *resultRow {
	r := &resultRow{
		name:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		when:    widget.NewLabel(""),
		snippet: widget.NewRichText(),
	}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.when.SizeName = theme.SizeNameCaptionText
	r.when.Importance = widget.LowImportance
	r.snippet.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

// DateText is a result's time: the time today, else the date.
func DateText(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	switch {
	case t.Format(time.DateOnly) == now.Format(time.DateOnly):
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan 15:04")
	}
	return t.Format("2 Jan 2006")
}

func (r *resultRow) set(res Result, now time.Time) {
	r.name.SetText(res.Name)
	r.when.SetText(DateText(res.Time, now))
	r.snippet.Segments = SnippetSegments(res.Snippet)
	r.snippet.Refresh()
}

func (r *resultRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewVBox(container.NewBorder(nil, nil, nil, r.when, r.name), r.snippet))
}
