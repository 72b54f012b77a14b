package widgets

import (
	"image/color"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
	terntheme "github.com/tern-im/tern/app/theme"
	"github.com/tern-im/tern/protocol/client"
)

// Texts the message row shows.
const (
	// RetractedText replaces the body of a retracted message (XEP-0424).
	RetractedText = "This message was retracted."
	// EditedText marks a corrected message (XEP-0308).
	EditedText = "edited"
	// RetryLabel is the text of the button that sends a failed message again.
	RetryLabel = "Retry"
	// RepairLabel is the text of the button that repairs the OMEMO session
	// after a decryption failure.
	RepairLabel = "Repair"
	// HistoryLabel is the text of the button that shows a corrected
	// message's earlier text.
	HistoryLabel = "History"
	// UndecryptableText starts the text shown instead of a message that
	// could not be decrypted.
	UndecryptableText = "Could not decrypt this message"
)

// bubbleShare is the largest part of the row's width a bubble takes.
const bubbleShare = 0.75

// Reply is the quoted context of a reply (XEP-0461): who wrote the message
// answered and the start of its text.
type Reply struct {
	Sender string
	Text   string
}

// Row is what one timeline row shows.
type Row struct {
	Message client.Message
	// Day is the day separator shown above the message ("" for none).
	Day string
	// Sender is the author's name, shown above the first message of a
	// group of consecutive messages from one sender ("" for none).
	Sender string
	// Author is the author's name on every row (for /me).
	Author string
	// Time is the message's time as shown (e.g. "09:41").
	Time string
	// Reply is the quoted context when the message answers another one.
	Reply *Reply
	// Undecryptable is why the message could not be decrypted ("" when it
	// was, or was not encrypted); Repairable that a repair may help.
	Undecryptable string
	Repairable    bool
	// Focus marks the message a search jumped to.
	Focus bool
}

// Own reports whether the row is one of our messages.
func (r Row) Own() bool { return r.Message.Direction == client.Outbound }

// Body returns the text the bubble shows: the latest correction, or the
// retraction placeholder.
func (r Row) Body() string {
	switch {
	case !r.Message.Retracted.IsZero():
		return RetractedText
	case r.Undecryptable != "":
		return UndecryptableText + ": " + r.Undecryptable
	case r.Message.LastCorrection != nil:
		return r.Message.LastCorrection.Body
	}
	return r.Message.Body
}

// Me reports a /me action (XEP-0245): the body starts with "/me ".
func (r Row) Me() bool {
	return r.Message.Retracted.IsZero() && r.Undecryptable == "" && strings.HasPrefix(r.Body(), "/me ")
}

// Encrypted reports that the message travelled end-to-end encrypted and
// was decrypted (DESIGN.md §7: never shown as encrypted otherwise).
func (r Row) Encrypted() bool {
	return r.Message.Encryption == client.EncryptionOMEMO && r.Undecryptable == ""
}

// Meta returns the line under the body: time, "edited" and, for our
// messages, the delivery state (with the reason when it failed).
func (r Row) Meta() string {
	parts := []string{r.Time}
	if r.Message.LastCorrection != nil && r.Message.Retracted.IsZero() {
		parts = append(parts, EditedText)
	}
	if r.Own() {
		parts = append(parts, StateText(r.Message.State, r.Message.Failure))
	}
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " · ")
}

// Reactions returns the reactions line: each emoji with how many senders
// reacted with it, most frequent first ("" for none).
func (r Row) Reactions() string {
	if !r.Message.Retracted.IsZero() {
		return ""
	}
	var order []string
	count := map[string]int{}
	for _, re := range r.Message.Reactions {
		for _, e := range re.Emojis {
			if count[e] == 0 {
				order = append(order, e)
			}
			count[e]++
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return count[b] - count[a] })
	parts := make([]string, len(order))
	for i, e := range order {
		parts[i] = e + " " + strconv.Itoa(count[e])
	}
	return strings.Join(parts, "  ")
}

// StateText describes the delivery state of one of our messages.
func StateText(s client.DeliveryState, failure string) string {
	switch s {
	case client.StatePending:
		return "sending…"
	case client.StateSent:
		return "sent ✓"
	case client.StateDelivered:
		return "delivered ✓✓"
	case client.StateRead:
		return "read ✓✓"
	case client.StateFailed:
		if failure == "" {
			return "not sent"
		}
		return "not sent: " + failure
	}
	return ""
}

// MessageRow is a row of a chat timeline: an optional day separator and
// sender name, then the message in a bubble (ours on the right, tinted):
// the quoted context of a reply, the body with XEP-0393 styling and
// clickable links, reactions, then a line with the lock of an encrypted
// message, time, "edited" (with a History button) and the delivery state.
// A failed message has a Retry button, an undecryptable one a Repair
// button. It wraps its text itself so that its height is known before it
// is drawn, as a virtualized list needs.
type MessageRow struct {
	widget.BaseWidget

	// OnRetry is called with the message's ID when the user taps Retry.
	OnRetry func(client.MessageID)
	// OnRepair is called with the message's ID when the user taps Repair.
	OnRepair func(client.MessageID)
	// OnHistory is called with the row when the user asks for the text
	// before a correction.
	OnHistory func(Row)
	// OnMenu is called with the row and the absolute position of a
	// secondary tap (the message's actions).
	OnMenu func(Row, fyne.Position)

	row       Row
	width     float32 // the width the text was wrapped for
	shown     rowKey  // what Set last laid out
	day       *widget.Label
	sender    *widget.Label
	quote     *widget.Label
	quoteBar  *canvas.Rectangle
	quoteBox  *fyne.Container
	body      *widget.RichText
	reactions *widget.Label
	lock      *widget.Icon
	meta      *widget.Label
	history   *TapIcon
	metaLine  *fyne.Container
	retry     *widget.Button // created when a row first needs it
	repair    *widget.Button // created when a row first needs it
	actions   *fyne.Container
	bubble    *canvas.Rectangle
	box       *fyne.Container
}

// NewMessageRow returns an empty row.
func NewMessageRow() *MessageRow {
	r := &MessageRow{
		day:       widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		sender:    widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		quote:     widget.NewLabel(""),
		quoteBar:  canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)),
		body:      widget.NewRichText(),
		reactions: widget.NewLabel(""),
		lock:      widget.NewIcon(terntheme.LockIcon()),
		meta:      widget.NewLabel(""),
		bubble:    canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
	}
	r.day.SizeName = theme.SizeNameCaptionText
	r.day.Importance = widget.LowImportance
	r.sender.SizeName = theme.SizeNameCaptionText
	r.quote.SizeName = theme.SizeNameCaptionText
	r.quote.Importance = widget.LowImportance
	r.quoteBar.SetMinSize(fyne.NewSize(3, 0))
	r.quoteBox = container.NewBorder(nil, nil, r.quoteBar, nil, r.quote)
	r.reactions.SizeName = theme.SizeNameCaptionText
	r.meta.SizeName = theme.SizeNameCaptionText
	r.meta.Importance = widget.LowImportance
	r.bubble.CornerRadius = theme.Padding() * 3
	r.history = NewTapIcon(theme.HistoryIcon(), func() {
		if r.OnHistory != nil {
			r.OnHistory(r.row)
		}
	})
	r.metaLine = container.NewHBox(r.lock, r.meta, r.history)
	r.actions = container.NewHBox()
	r.ExtendBaseWidget(r)
	return r
}

// rowKey is everything a row's look depends on: Set does nothing when it
// is unchanged (a list updates every visible row when it scrolls, and
// laying out rich text takes about a millisecond a row).
type rowKey struct {
	id                                          client.MessageID
	width                                       float32
	variant                                     fyne.ThemeVariant
	day, sender, author, body, meta, reactions  string
	replySender, replyText                      string
	reply, focus, encrypted, edited, retracted  bool
	own, failed, undecryptable, repairable, set bool
}

func keyOf(row Row, width float32) rowKey {
	k := rowKey{
		id: row.Message.ID, width: width, day: row.Day, sender: row.Sender, author: row.Author,
		body: row.Body(), meta: row.Meta(), reactions: row.Reactions(), reply: row.Reply != nil,
		focus: row.Focus, encrypted: row.Encrypted(), edited: row.Message.LastCorrection != nil,
		retracted: !row.Message.Retracted.IsZero(), own: row.Own(),
		failed:        row.Own() && row.Message.State == client.StateFailed,
		undecryptable: row.Undecryptable != "", repairable: row.Repairable, set: true,
	}
	if row.Reply != nil {
		k.replySender, k.replyText = row.Reply.Sender, row.Reply.Text
	}
	if app := fyne.CurrentApp(); app != nil {
		k.variant = app.Settings().ThemeVariant()
	}
	return k
}

// Set shows row, wrapping its text for a timeline of the given width.
func (r *MessageRow) Set(row Row, width float32) {
	k := keyOf(row, width)
	r.row, r.width = row, width
	if k == r.shown {
		return
	}
	r.shown = k
	r.day.Text = row.Day
	r.day.Hidden = row.Day == ""
	r.sender.Text = row.Sender
	r.sender.Hidden = row.Sender == ""
	tw := r.textWidth(width)
	r.quoteBox.Hidden = row.Reply == nil
	if row.Reply != nil {
		q := row.Reply.Text
		if row.Reply.Sender != "" {
			q = row.Reply.Sender + ": " + q
		}
		r.quote.Text = strings.Join(wrap(q, tw-theme.InnerPadding()*2, fyne.TextStyle{}, theme.CaptionTextSize()), "\n")
		r.quote.Refresh()
	}
	r.body.Segments = bodySegments(row, tw)
	r.reactions.Text = row.Reactions()
	r.reactions.Hidden = r.reactions.Text == ""
	r.meta.Text = row.Meta()
	r.lock.Hidden = !row.Encrypted()
	r.history.Hidden = row.Message.LastCorrection == nil || !row.Message.Retracted.IsZero()
	failed := row.Own() && row.Message.State == client.StateFailed
	r.setActions(failed, row.Undecryptable != "" && row.Repairable)
	r.bubble.StrokeWidth = 0
	switch {
	case failed || row.Undecryptable != "":
		r.meta.Importance = widget.DangerImportance
		r.bubble.FillColor = withAlpha(theme.Color(theme.ColorNameError), 0x30)
	case row.Own():
		r.meta.Importance = widget.LowImportance
		r.bubble.FillColor = withAlpha(theme.Color(theme.ColorNamePrimary), 0x40)
	default:
		r.meta.Importance = widget.LowImportance
		r.bubble.FillColor = theme.Color(theme.ColorNameInputBackground)
	}
	if row.Focus {
		r.bubble.StrokeColor = theme.Color(theme.ColorNamePrimary)
		r.bubble.StrokeWidth = 2
	}
	r.quoteBar.FillColor = theme.Color(theme.ColorNamePrimary)
	r.meta.Alignment = fyne.TextAlignLeading
	r.sender.Alignment = fyne.TextAlignLeading
	if row.Own() {
		r.meta.Alignment = fyne.TextAlignTrailing
		r.sender.Alignment = fyne.TextAlignTrailing
	}
	r.day.Refresh()
	r.sender.Refresh()
	r.body.Refresh()
	r.reactions.Refresh()
	r.meta.Refresh()
	r.Refresh()
}

// setActions shows the Retry and Repair buttons a row needs; most rows
// need none, so the buttons are made on first use.
func (r *MessageRow) setActions(retry, repair bool) {
	if retry && r.retry == nil {
		r.retry = widget.NewButtonWithIcon(RetryLabel, theme.ViewRefreshIcon(), func() {
			if r.OnRetry != nil {
				r.OnRetry(r.row.Message.ID)
			}
		})
		r.retry.Importance = widget.DangerImportance
		r.actions.Add(r.retry)
	}
	if repair && r.repair == nil {
		r.repair = widget.NewButtonWithIcon(RepairLabel, theme.ViewRefreshIcon(), func() {
			if r.OnRepair != nil {
				r.OnRepair(r.row.Message.ID)
			}
		})
		r.repair.Importance = widget.HighImportance
		r.actions.Add(r.repair)
	}
	if r.retry != nil {
		r.retry.Hidden = !retry
	}
	if r.repair != nil {
		r.repair.Hidden = !repair
	}
}

// Row returns what the row shows.
func (r *MessageRow) Row() Row { return r.row }

// History returns the button that shows a corrected message's history.
func (r *MessageRow) History() *TapIcon { return r.history }

// TapIcon is a small icon that can be tapped (an inline action).
type TapIcon struct {
	widget.BaseWidget
	// OnTapped is called when the icon is tapped.
	OnTapped func()
	icon     *widget.Icon
}

// NewTapIcon returns a tappable icon of the inline icon size.
func NewTapIcon(res fyne.Resource, tapped func()) *TapIcon {
	t := &TapIcon{OnTapped: tapped, icon: widget.NewIcon(res)}
	t.ExtendBaseWidget(t)
	return t
}

// Tapped implements fyne.Tappable.
func (t *TapIcon) Tapped(*fyne.PointEvent) {
	if t.OnTapped != nil {
		t.OnTapped()
	}
}

// Cursor implements desktop.Cursorable: a pointer over the action.
func (t *TapIcon) Cursor() desktop.Cursor { return desktop.PointerCursor }

// MinSize implements fyne.CanvasObject.
func (t *TapIcon) MinSize() fyne.Size {
	return fyne.NewSquareSize(theme.IconInlineSize() + 2*theme.Padding())
}

// CreateRenderer implements fyne.Widget.
func (t *TapIcon) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewPadded(t.icon))
}

// HeightFor returns the row's height once Set for width.
func (r *MessageRow) HeightFor() float32 { return r.MinSize().Height }

// BodyText returns the text of the body as shown (wrapped).
func (r *MessageRow) BodyText() string { return r.body.String() }

// Links returns the URLs of the links in the body.
func (r *MessageRow) Links() []string {
	var out []string
	for _, s := range r.body.Segments {
		if h, ok := s.(*widget.HyperlinkSegment); ok && h.URL != nil {
			out = append(out, h.URL.String())
		}
	}
	return out
}

// TappedSecondary implements fyne.SecondaryTappable: the message's menu.
func (r *MessageRow) TappedSecondary(e *fyne.PointEvent) {
	if r.OnMenu != nil {
		r.OnMenu(r.row, e.AbsolutePosition)
	}
}

// textWidth is the widest a line of the body may be in a row of width.
func (r *MessageRow) textWidth(width float32) float32 {
	inner := theme.InnerPadding()
	return max(width*bubbleShare-4*inner, 40)
}

// CreateRenderer implements fyne.Widget.
func (r *MessageRow) CreateRenderer() fyne.WidgetRenderer {
	inside := container.New(tightVBox{}, r.quoteBox, r.body, r.reactions, r.metaLine)
	bubble := container.NewStack(r.bubble, container.NewPadded(inside))
	r.box = container.New(&rowLayout{r: r}, r.day, r.sender, bubble, r.actions)
	return widget.NewSimpleRenderer(r.box)
}

// rowLayout stacks the day, the sender, the bubble and the action
// buttons, aligning the last three to the sender's side.
type rowLayout struct{ r *MessageRow }

// Layout implements fyne.Layout.
func (l *rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	own := l.r.row.Own()
	pad := theme.Padding()
	y := float32(0)
	for i, o := range objs {
		if !visible(o) {
			continue
		}
		ms := o.MinSize()
		w := min(ms.Width, size.Width)
		x := pad
		switch {
		case i == 0:
			x, w = 0, size.Width
		case own:
			x = size.Width - w - pad
		}
		o.Move(fyne.NewPos(x, y))
		o.Resize(fyne.NewSize(w, ms.Height))
		y += ms.Height
	}
}

// MinSize implements fyne.Layout.
func (l *rowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if !visible(o) {
			continue
		}
		ms := o.MinSize()
		s.Width = max(s.Width, ms.Width)
		s.Height += ms.Height
	}
	return s
}

// visible reports whether o takes space: a container of hidden objects
// (the action buttons) does not.
func visible(o fyne.CanvasObject) bool {
	if !o.Visible() {
		return false
	}
	if c, ok := o.(*fyne.Container); ok {
		return slices.ContainsFunc(c.Objects, func(o fyne.CanvasObject) bool { return o.Visible() })
	}
	return true
}

var _ fyne.Layout = (*rowLayout)(nil)

// tightVBox stacks the visible objects, overlapping the inner padding of
// consecutive labels so that a bubble's lines sit close together.
type tightVBox struct{}

// gap is how much consecutive objects overlap.
func (tightVBox) gap() float32 { return theme.InnerPadding() * 0.75 }

// Layout implements fyne.Layout.
func (l tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - l.gap()
	}
}

// MinSize implements fyne.Layout.
func (l tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	n := 0
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
		n++
	}
	if n > 1 {
		s.Height -= float32(n-1) * l.gap()
	}
	return s
}

// bodySegments turns a row's body into rich text, styled (XEP-0393) and
// wrapped to width.
func bodySegments(row Row, width float32) []widget.RichTextSegment {
	var lines []model.Line
	var base fyne.TextStyle
	colour := theme.ColorNameForeground
	switch {
	case !row.Message.Retracted.IsZero():
		lines, base, colour = model.Plain(row.Body()), fyne.TextStyle{Italic: true}, theme.ColorNamePlaceHolder
	case row.Undecryptable != "":
		lines, base, colour = model.Plain(row.Body()), fyne.TextStyle{Italic: true}, theme.ColorNameError
	case row.Me():
		// XEP-0245: "/me laughs" is shown as an action of the author.
		lines, base = model.Plain("* "+row.Author+" "+strings.TrimPrefix(row.Body(), "/me ")), fyne.TextStyle{Italic: true}
	default:
		lines = model.ParseStyling(row.Body())
	}
	w := &wrapper{width: width, size: theme.TextSize(), colour: colour}
	for i, l := range lines {
		if i > 0 {
			w.newline()
		}
		w.line(l, base)
	}
	return w.segs
}

// wrapper lays styled lines out into rich text segments, breaking lines
// at spaces (or inside words wider than a line) so that none is wider
// than width.
type wrapper struct {
	width  float32
	size   float32
	colour fyne.ThemeColorName
	segs   []widget.RichTextSegment
	x      float32 // the width used on the current line
	indent string  // the quotation bars continued lines start with
	mono   bool
}

// quoteBar is drawn once per quotation level at the start of its lines.
const quoteBar = "┃ "

func (w *wrapper) line(l model.Line, base fyne.TextStyle) {
	w.indent = strings.Repeat(quoteBar, l.Quote)
	w.mono = l.Pre
	w.x = 0
	w.startLine()
	for _, sp := range l.Spans {
		st := base
		st.Bold = st.Bold || sp.Style&model.StyleStrong != 0
		st.Italic = st.Italic || sp.Style&model.StyleEmphasis != 0
		st.Monospace = sp.Style&model.StyleMono != 0
		text := sp.Text
		if sp.Style&model.StyleStrike != 0 {
			text = strike(text)
		}
		if sp.Link != "" {
			w.link(sp.Link, st)
			continue
		}
		for _, tok := range tokens(text) {
			w.token(tok, st)
		}
	}
}

// startLine writes the quotation bars of a line.
func (w *wrapper) startLine() {
	if w.indent == "" {
		return
	}
	w.add(w.indent, fyne.TextStyle{}, theme.ColorNamePrimary)
	w.x = w.measure(w.indent, fyne.TextStyle{})
}

// newline ends the current line.
func (w *wrapper) newline() {
	w.add("\n", fyne.TextStyle{}, w.colour)
	w.x = 0
}

// wrapLine ends the current line inside a paragraph and continues the
// quotation.
func (w *wrapper) wrapLine() {
	w.newline()
	w.startLine()
}

func (w *wrapper) measure(s string, st fyne.TextStyle) float32 {
	return fyne.MeasureText(s, w.size, st).Width
}

// token places a word or a run of spaces.
func (w *wrapper) token(tok string, st fyne.TextStyle) {
	tw := w.measure(tok, st)
	if strings.TrimSpace(tok) == "" && !w.mono {
		if w.x+tw > w.width {
			w.wrapLine() // the spaces are dropped at the break
			return
		}
		w.add(tok, st, w.colour)
		w.x += tw
		return
	}
	start := w.measure(w.indent, fyne.TextStyle{})
	if w.x+tw > w.width && w.x > start {
		w.wrapLine()
	}
	if w.x+tw <= w.width {
		w.add(tok, st, w.colour)
		w.x += tw
		return
	}
	// Wider than a line by itself: cut by runes.
	var b strings.Builder
	for _, r := range tok {
		rw := w.measure(b.String()+string(r), st)
		if w.x+rw > w.width && b.Len() > 0 {
			w.add(b.String(), st, w.colour)
			w.wrapLine()
			b.Reset()
		}
		b.WriteRune(r)
	}
	w.add(b.String(), st, w.colour)
	w.x += w.measure(b.String(), st)
}

// link places a clickable link; a link wider than a line is cut into
// pieces that each open it.
func (w *wrapper) link(link string, st fyne.TextStyle) {
	u, err := url.Parse(link)
	if err != nil {
		// Not a URL after all: show it as text.
		w.token(link, st)
		return
	}
	// A hyperlink is drawn with padding of its own.
	slack := theme.InnerPadding()
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			w.segs = append(w.segs, &widget.HyperlinkSegment{Text: b.String(), URL: u})
			w.x += w.measure(b.String(), st) + slack
			b.Reset()
		}
	}
	lw := w.measure(link, st) + slack
	if w.x+lw > w.width && w.x > w.measure(w.indent, fyne.TextStyle{}) {
		w.wrapLine()
	}
	if w.x+lw <= w.width {
		b.WriteString(link)
		flush()
		return
	}
	// Wider than a line: cut by runes.
	for _, r := range link {
		if w.x+w.measure(b.String()+string(r), st)+slack > w.width && b.Len() > 0 {
			flush()
			w.wrapLine()
		}
		b.WriteRune(r)
	}
	flush()
}

// add appends text, merged into the previous segment when it has the same
// style.
func (w *wrapper) add(text string, st fyne.TextStyle, colour fyne.ThemeColorName) {
	if n := len(w.segs); n > 0 {
		if prev, ok := w.segs[n-1].(*widget.TextSegment); ok && (prev.Style.TextStyle == st && prev.Style.ColorName == colour || text == "\n") {
			prev.Text += text
			return
		}
	}
	w.segs = append(w.segs, &widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		Inline: true, TextStyle: st, ColorName: colour, SizeName: theme.SizeNameText,
	}})
}

// tokens splits text into words and runs of spaces.
func tokens(s string) []string {
	var out []string
	start := 0
	space := false
	for i, r := range s {
		sp := r == ' ' || r == '\t'
		if i > start && sp != space {
			out = append(out, s[start:i])
			start = i
		}
		space = sp
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// strike draws a line through text with U+0336 COMBINING LONG STROKE
// OVERLAY (Fyne text has no strike-through style).
func strike(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
		if r != ' ' {
			b.WriteRune('\u0336')
		}
	}
	return b.String()
}

// wrap breaks plain text into lines no wider than width at the given text
// size, at spaces where it can and inside words wider than a line. Line
// breaks in text are kept.
func wrap(text string, width float32, style fyne.TextStyle, size float32) []string {
	measure := func(s string) float32 { return fyne.MeasureText(s, size, style).Width }
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Split(para, " ") {
			cand := word
			if line != "" {
				cand = line + " " + word
			}
			if measure(cand) <= width || line == "" && measure(word) <= width {
				line = cand
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			line = ""
			for _, r := range word {
				if measure(line+string(r)) > width && line != "" {
					lines = append(lines, line)
					line = ""
				}
				line += string(r)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// withAlpha returns c with alpha a.
func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}
