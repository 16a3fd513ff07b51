package ledger

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestOutbox: a report is produced once with its mail; a sent message
// keeps its delivery record and loses its bytes; the latest produced day
// of a prefix is found.
func TestOutbox(t *testing.T) {
	l := openTemp(t)
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	body := json.RawMessage(`{"attachments":[{"data":"AAAA"}]}`)
	m := &Mail{ID: "a@example.test", Queued: now, To: []string{"f@example.test"}, Subject: "s", Message: body}
	if err := l.SaveProduced(Produced{Key: "report|x|2026-11-21", At: now}, m); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveProduced(Produced{Key: "report|x|2026-11-21", At: now}, m); !errors.Is(err, ErrProduced) {
		t.Fatalf("second SaveProduced: %v, want ErrProduced", err)
	}
	if err := l.SaveProduced(Produced{Key: "report|x|2026-11-22", At: now}, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveProduced(Produced{Key: "report|y|2026-11-23", At: now}, nil); err != nil {
		t.Fatal(err)
	}
	if last, ok, err := l.LastProduced("report|x|"); err != nil || !ok || last != "report|x|2026-11-22" {
		t.Errorf("LastProduced: %q %v %v", last, ok, err)
	}
	if _, ok, _ := l.LastProduced("report|z|"); ok {
		t.Error("LastProduced found a prefix never produced")
	}

	got, ok, err := l.MailByID(m.ID)
	if err != nil || !ok || got.State() != MailPending || string(got.Message) != string(body) {
		t.Fatalf("queued: %+v %v %v", got, ok, err)
	}
	got.Attempts, got.Sent = 1, now.Add(time.Minute)
	if err := l.UpdateMail(&got); err != nil {
		t.Fatal(err)
	}
	got, _, _ = l.MailByID(m.ID)
	if got.State() != MailSent || got.Attempts != 1 || got.Message != nil || got.Subject != "s" {
		t.Errorf("sent: state %s, attempts %d, %d bytes of message kept", got.State(), got.Attempts, len(got.Message))
	}
	if pending, _ := l.Outbox(true); len(pending) != 0 {
		t.Errorf("%d pending after the send", len(pending))
	}
}
