// Package notify tells the user about new messages while Tern's window is
// not focused: desktop notifications (through github.com/gen2brain/beeep,
// the freedesktop.org notification service on Linux), the unread count in
// the window title, and a system tray icon with an unread state and a menu.
// It also carries the window's focus to the accounts' engines as XEP-0352
// client state indication.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gen2brain/beeep"

	"github.com/tern-im/tern/protocol/client"
)

// MaxPreview bounds the text of a notification, in runes.
const MaxPreview = 120

// Staleness is how old a received message may be and still be notified:
// older ones arrive from an archive (catching up after being offline) and
// are counted as unread only.
const Staleness = 10 * time.Minute

// queueSize bounds the notifications waiting for the notification service.
const queueSize = 16

// Notifier shows a desktop notification. Its method may block (it talks
// to a service); Center calls it off the UI thread.
type Notifier interface {
	Notify(title, body string) error
}

// Beeep shows notifications with github.com/gen2brain/beeep, with Icon
// (PNG bytes, or nil for the service's default) as the picture.
type Beeep struct{ Icon []byte }

// Notify implements Notifier.
func (b Beeep) Notify(title, body string) error {
	var icon any = ""
	if b.Icon != nil {
		icon = b.Icon
	}
	if err := beeep.Notify(title, body, icon); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Settings are the user's notification choices.
type Settings struct {
	// Enabled turns notifications on.
	Enabled bool
	// HideText shows only the sender, never the message text (privacy).
	HideText bool
}

// Center decides which messages to notify and hands them to a Notifier
// on a goroutine of its own, so that the UI never waits for the
// notification service. Its methods are safe for concurrent use.
type Center struct {
	notifier Notifier
	log      *slog.Logger
	now      func() time.Time
	queue    chan note
	wg       sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	focused  bool
	settings Settings
}

// note is one notification to show.
type note struct{ title, body string }

// NewCenter starts a Center that notifies through n (nil: nothing is
// shown) until ctx ends; call Wait afterwards. now is the clock (nil:
// time.Now). The window counts as focused until SetFocused says otherwise.
func NewCenter(ctx context.Context, n Notifier, s Settings, now func() time.Time, log *slog.Logger) *Center {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Center{notifier: n, log: log, now: now, queue: make(chan note, queueSize), focused: true, settings: s}
	c.wg.Add(1)
	go c.run(ctx)
	return c
}

// run shows queued notifications until ctx ends.
func (c *Center) run(ctx context.Context) {
	defer c.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-c.queue:
			if c.notifier == nil {
				continue
			}
			if err := c.notifier.Notify(n.title, n.body); err != nil {
				c.log.Info("could not show a notification", "err", err)
			}
		}
	}
}

// Wait blocks until the Center's goroutine has returned (cancel its
// context first).
func (c *Center) Wait() { c.wg.Wait() }

// SetFocused records whether Tern's window has the focus.
func (c *Center) SetFocused(focused bool) {
	c.mu.Lock()
	c.focused = focused
	c.mu.Unlock()
}

// Focused reports whether Tern's window has the focus.
func (c *Center) Focused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.focused
}

// SetSettings changes the notification settings.
func (c *Center) SetSettings(s Settings) {
	c.mu.Lock()
	c.settings = s
	c.mu.Unlock()
}

// Received considers a received message for a notification: it is shown
// when notifications are on, the window is not focused and the message is
// recent and from someone else. sender names the conversation for the
// user. It reports whether a notification was queued; it never blocks
// (when the service is slow, extra notifications are dropped).
func (c *Center) Received(sender string, msg client.Message) bool {
	c.mu.Lock()
	s, focused := c.settings, c.focused
	c.mu.Unlock()
	if !s.Enabled || focused || msg.Direction != client.Inbound {
		return false
	}
	if !msg.Time.IsZero() && c.now().Sub(msg.Time) > Staleness {
		return false
	}
	title, body := Text(sender, msg, s.HideText)
	select {
	case c.queue <- note{title: title, body: body}:
		return true
	default:
		c.log.Debug("notification dropped: the notification service is slow")
		return false
	}
}

// Text returns the title and body of the notification of msg from
// sender; with hide set the body never contains the message text.
func Text(sender string, msg client.Message, hide bool) (title, body string) {
	title = sender
	switch {
	case hide:
		body = "New message"
	case !msg.Retracted.IsZero():
		body = "Message retracted"
	case msg.Body != "":
		body = strings.Join(strings.Fields(msg.Body), " ")
	case len(msg.Attachments) > 0:
		body = "Sent a file"
	default:
		body = "New message"
	}
	if msg.Encryption != client.EncryptionNone && msg.Body == "" && !hide {
		body = "Encrypted message"
	}
	if r := []rune(body); len(r) > MaxPreview {
		body = string(r[:MaxPreview-1]) + "…"
	}
	return title, body
}
