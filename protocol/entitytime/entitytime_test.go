package entitytime_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/entitytime"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

func parse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func TestParse(t *testing.T) {
	// XEP-0202 Example 2: A Response to the Query.
	got, err := entitytime.Parse(parse(t, `<iq type='result'
    from='juliet@capulet.com/balcony'
    to='romeo@montague.net/orchard'
    id='time_1'>
  <time xmlns='urn:xmpp:time'>
    <tzo>-06:00</tzo>
    <utc>2006-12-19T17:58:35Z</utc>
  </time>
</iq>`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2006, 12, 19, 17, 58, 35, 0, time.UTC); !got.UTC.Equal(want) || got.UTC.Location() != time.UTC || got.Offset != -6*time.Hour {
		t.Fatalf("got %+v", got)
	}
	if l := got.Local(); l.Hour() != 11 || l.Format("-07:00") != "-06:00" {
		t.Errorf("Local = %v", l)
	}

	tests := []struct {
		name, tzo, utc string
		wantUTC        time.Time
		wantOff        time.Duration
		err            error
	}{
		{"fractional", "Z", "2006-12-19T17:58:35.123Z", time.Date(2006, 12, 19, 17, 58, 35, 123e6, time.UTC), 0, nil},
		{"many digits", "+05:30", "2006-12-19T17:58:35.1234567891234Z", time.Date(2006, 12, 19, 17, 58, 35, 123456789, time.UTC), 5*time.Hour + 30*time.Minute, nil},
		{"utc with offset", "+01:00", "2006-12-19T18:58:35+01:00", time.Date(2006, 12, 19, 17, 58, 35, 0, time.UTC), time.Hour, nil},
		{"+14:00", "+14:00", "2006-12-19T17:58:35Z", time.Date(2006, 12, 19, 17, 58, 35, 0, time.UTC), 14 * time.Hour, nil},
		{"tzo out of range", "+19:00", "2006-12-19T17:58:35Z", time.Time{}, 0, entitytime.ErrMalformed},
		{"tzo minutes", "+01:60", "2006-12-19T17:58:35Z", time.Time{}, 0, entitytime.ErrMalformed},
		{"tzo name", "MDT", "2006-12-19T17:58:35Z", time.Time{}, 0, entitytime.ErrMalformed},
		{"tzo missing", "", "2006-12-19T17:58:35Z", time.Time{}, 0, entitytime.ErrMalformed},
		{"legacy utc", "Z", "20020910T17:58:35", time.Time{}, 0, entitytime.ErrMalformed},
		{"utc offset out of range", "Z", "2006-12-19T17:58:35+24:00", time.Time{}, 0, entitytime.ErrMalformed},
		{"utc missing", "Z", "", time.Time{}, 0, entitytime.ErrMalformed},
		{"utc too long", "Z", "2006-12-19T17:58:35." + strings.Repeat("1", 100) + "Z", time.Time{}, 0, entitytime.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := entitytime.Parse(parse(t, `<time xmlns='urn:xmpp:time'><tzo>`+tt.tzo+`</tzo><utc>`+tt.utc+`</utc></time>`))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && (!got.UTC.Equal(tt.wantUTC) || got.Offset != tt.wantOff) {
				t.Fatalf("got %+v", got)
			}
		})
	}
	for _, bad := range []string{`<iq type='result' id='x'/>`, `<time xmlns='jabber:iq:time'/>`} {
		if _, err := entitytime.Parse(parse(t, bad)); !errors.Is(err, entitytime.ErrMalformed) {
			t.Errorf("Parse(%s) err = %v", bad, err)
		}
	}
}

func TestAnswer(t *testing.T) {
	mdt := time.FixedZone("MDT", -6*3600)
	now := time.Date(2006, 12, 19, 11, 58, 35, 0, mdt)
	if got := entitytime.Answer(now).String(); got != `<time xmlns='urn:xmpp:time'><tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z</utc></time>` {
		t.Errorf("Answer = %s", got)
	}
	if got := entitytime.Answer(now.UTC()).String(); got != `<time xmlns='urn:xmpp:time'><tzo>+00:00</tzo><utc>2006-12-19T17:58:35Z</utc></time>` {
		t.Errorf("Answer in UTC = %s", got)
	}
	india := time.Date(2024, 1, 2, 3, 4, 5, 600e6, time.FixedZone("IST", 5*3600+30*60))
	back, err := entitytime.Parse(entitytime.Answer(india))
	if err != nil || !back.UTC.Equal(india) || back.Offset != 5*time.Hour+30*time.Minute || !back.Local().Equal(india) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	// Historical zones with seconds in their offset are cut to minutes.
	lmt := time.Date(1850, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 3600+45))
	if got := entitytime.Now(lmt).Offset; got != time.Hour {
		t.Errorf("Now(LMT).Offset = %v", got)
	}
}

func TestRequest(t *testing.T) {
	// XEP-0202 Example 1.
	got := entitytime.Request(jid.MustParse("juliet@capulet.com/balcony")).String()
	if want := `<iq xmlns='jabber:client' type='get' id='' to='juliet@capulet.com/balcony'><time xmlns='urn:xmpp:time'/></iq>`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestParseOffset(t *testing.T) {
	for in, want := range map[string]time.Duration{"Z": 0, "+00:00": 0, "-00:00": 0, "-06:00": -6 * time.Hour, "+18:00": 18 * time.Hour, "-09:30": -9*time.Hour - 30*time.Minute} {
		if got, err := entitytime.ParseOffset(in); err != nil || got != want {
			t.Errorf("ParseOffset(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"z", "+6:00", "+06:0", "+0600", "06:00", "+18:01", "+ab:00", "-06:00Z"} {
		if _, err := entitytime.ParseOffset(bad); !errors.Is(err, entitytime.ErrMalformed) {
			t.Errorf("ParseOffset(%q) err = %v", bad, err)
		}
	}
}
