package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/stream"
	"github.com/tern-im/tern/protocol/xmpptest"
)

const nsRegister = "jabber:iq:register"

// TestPreAuthRegister creates an account before authentication (XEP-0077
// in-band registration over PreAuth), then signs in with it; registering
// the same name again is refused with conflict.
func TestPreAuthRegister(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			cfg := config(srv, "newbie", "r")
			register := func(ctx context.Context, f stream.Features, iq session.IQFunc) error {
				if f.Raw.Child("http://jabber.org/features/iq-register", "register") == nil {
					t.Errorf("%s does not advertise in-band registration", st.name)
				}
				form, err := iq(ctx, stanza.NewIQ("get", "", jid.JID{}, xmlstream.New(nsRegister, "query")))
				if err != nil {
					return err
				}
				q := form.Child(nsRegister, "query")
				if q.Child(nsRegister, "username") == nil || q.Child(nsRegister, "password") == nil {
					t.Errorf("registration form lacks username/password: %s", form)
				}
				_, err = iq(ctx, stanza.NewIQ("set", "", jid.JID{}, xmlstream.New(nsRegister, "query").Append(
					xmlstream.New(nsRegister, "username").SetText("newbie"),
					xmlstream.New(nsRegister, "password").SetText(password))))
				return err
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var console strings.Builder
			withConsole := cfg
			withConsole.Console = &console
			if err := session.PreAuth(ctx, withConsole, register); err != nil {
				t.Fatalf("register: %v", err)
			}
			if strings.Contains(console.String(), password) || !strings.Contains(console.String(), "<password>[redacted]</password>") {
				t.Fatalf("the XML console shows the new password:\n%s", console.String())
			}
			s := dialT(t, cfg)
			if got := s.Info().JID.Bare().String(); got != "newbie@"+srv.Domain {
				t.Fatalf("signed in as %s", got)
			}
			err := session.PreAuth(ctx, cfg, register)
			if !errors.Is(err, stanza.ErrConflict) {
				t.Fatalf("second registration: %v, want conflict", err)
			}
		})
	}
}
