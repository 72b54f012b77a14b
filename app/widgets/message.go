package widgets

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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
)

// bubbleShare is the largest part of the row's width a bubble takes.
const bubbleShare = 0.75

// Row is what one timeline row shows.
type Row struct {
	Message client.Message
	// Day is the day separator shown above the message ("" for none).
	Day string
	// Sender is the author's name, shown above the first message of a
	// group of consecutive messages from one sender ("" for none).
	Sender string
	// Time is the message's time as shown (e.g. "09:41").
	Time string
}

// Own reports whether the row is one of our messages.
func (r Row) Own() bool { return r.Message.Direction == client.Outbound }

// Body returns the text the bubble shows: the latest correction, or the
// retraction placeholder.
func (r Row) Body() string {
	switch {
	case !r.Message.Retracted.IsZero():
		return RetractedText
	case r.Message.LastCorrection != nil:
		return r.Message.LastCorrection.Body
	}
	return r.Message.Body
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
	return strings.Join(slicesCompact(parts), " · ")
}

// slicesCompact drops empty strings.
func slicesCompact(s []string) []string {
	out := s[:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
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
// sender name, then the message in a bubble (ours on the right, tinted),
// with its time, "edited", its delivery state and, when sending failed, a
// Retry button. It wraps its text itself so that its height is known before
// it is drawn (HeightFor), as a virtualized list needs.
type MessageRow struct {
	widget.BaseWidget

	// OnRetry is called with the message's ID when the user taps Retry.
	OnRetry func(client.MessageID)

	row    Row
	width  float32 // the width the text was wrapped for
	day    *widget.Label
	sender *widget.Label
	body   *widget.Label
	meta   *widget.Label
	retry  *widget.Button
	bubble *canvas.Rectangle
	box    *fyne.Container
}

// NewMessageRow returns an empty row.
func NewMessageRow() *MessageRow {
	r := &MessageRow{
		day:    widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		sender: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		body:   widget.NewLabel(""),
		meta:   widget.NewLabel(""),
		bubble: canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
	}
	r.day.SizeName = theme.SizeNameCaptionText
	r.day.Importance = widget.LowImportance
	r.sender.SizeName = theme.SizeNameCaptionText
	r.meta.SizeName = theme.SizeNameCaptionText
	r.meta.Importance = widget.LowImportance
	r.bubble.CornerRadius = theme.Padding() * 3
	r.retry = widget.NewButtonWithIcon(RetryLabel, theme.ViewRefreshIcon(), func() {
		if r.OnRetry != nil {
			r.OnRetry(r.row.Message.ID)
		}
	})
	r.retry.Importance = widget.DangerImportance
	r.ExtendBaseWidget(r)
	return r
}

// Set shows row, wrapping its text for a timeline of the given width.
func (r *MessageRow) Set(row Row, width float32) {
	r.row, r.width = row, width
	r.day.SetText(row.Day)
	r.day.Hidden = row.Day == ""
	r.sender.SetText(row.Sender)
	r.sender.Hidden = row.Sender == ""
	r.body.SetText(strings.Join(wrap(row.Body(), r.textWidth(width), r.body.TextStyle), "\n"))
	r.body.TextStyle.Italic = !row.Message.Retracted.IsZero()
	r.meta.SetText(row.Meta())
	failed := row.Own() && row.Message.State == client.StateFailed
	r.retry.Hidden = !failed
	switch {
	case failed:
		r.meta.Importance = widget.DangerImportance
		r.bubble.FillColor = theme.Color(theme.ColorNameError)
		r.bubble.FillColor = withAlpha(r.bubble.FillColor, 0x30)
	case row.Own():
		r.meta.Importance = widget.LowImportance
		r.bubble.FillColor = withAlpha(theme.Color(theme.ColorNamePrimary), 0x40)
	default:
		r.meta.Importance = widget.LowImportance
		r.bubble.FillColor = theme.Color(theme.ColorNameInputBackground)
	}
	r.meta.Alignment = fyne.TextAlignLeading
	r.sender.Alignment = fyne.TextAlignLeading
	if row.Own() {
		r.meta.Alignment = fyne.TextAlignTrailing
		r.sender.Alignment = fyne.TextAlignTrailing
	}
	r.Refresh()
}

// Row returns what the row shows.
func (r *MessageRow) Row() Row { return r.row }

// HeightFor returns the row's height once Set for width.
func (r *MessageRow) HeightFor() float32 { return r.MinSize().Height }

// textWidth is the widest a line of the body may be in a row of width.
func (r *MessageRow) textWidth(width float32) float32 {
	inner := theme.InnerPadding()
	return max(width*bubbleShare-4*inner, 40)
}

// CreateRenderer implements fyne.Widget.
func (r *MessageRow) CreateRenderer() fyne.WidgetRenderer {
	bubble := container.NewStack(r.bubble, container.NewVBox(r.body, r.meta))
	r.box = container.New(&rowLayout{r: r}, r.day, r.sender, bubble, r.retry)
	return widget.NewSimpleRenderer(r.box)
}

// rowLayout stacks the day, the sender, the bubble and the retry button,
// aligning the last three to the sender's side.
type rowLayout struct{ r *MessageRow }

// Layout implements fyne.Layout.
func (l *rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	own := l.r.row.Own()
	pad := theme.Padding()
	y := float32(0)
	for i, o := range objs {
		if !o.Visible() {
			continue
		}
		ms := o.MinSize()
		w := ms.Width
		if i == 0 {
			w = size.Width
		}
		w = min(w, size.Width)
		x := pad
		if own && i != 0 {
			x = size.Width - w - pad
		}
		if i == 0 {
			x = 0
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
		if !o.Visible() {
			continue
		}
		ms := o.MinSize()
		s.Width = max(s.Width, ms.Width)
		s.Height += ms.Height
	}
	return s
}

var _ fyne.Layout = (*rowLayout)(nil)

// wrap breaks text into lines no wider than width, at spaces where it can
// and inside words that are wider than a line by themselves. Line breaks in
// text are kept.
func wrap(text string, width float32, style fyne.TextStyle) []string {
	size := theme.TextSize()
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
			// A word wider than a line is cut by runes.
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
