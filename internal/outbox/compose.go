package outbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"time"

	"reconciled/internal/ledger"
	"reconciled/internal/mail"
)

// Letter is what a message of reconciled says: a text body, optionally
// an HTML one, and one attachment, or none (File "": an alert).
type Letter struct {
	// Key names the message: the same key gives the same Message-ID (a
	// scheduled report's produced key; a new one for each report --send).
	Key        string
	To         []string
	Subject    string
	Text, HTML string
	File       string // the attachment's name; its content type follows the extension; "": none
	Data       []byte
}

// contentTypes of the files reconciled mails, by extension: set rather
// than guessed, as a host without mime.types knows no .xlsx.
var contentTypes = map[string]string{
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".csv":  "text/csv; charset=utf-8",
}

// Compose makes the outbox's record of lt, made at now: from mail.from,
// its attachment zipped above mail.zip_above, its Message-ID from lt.Key.
// It is not queued yet.
func (o *Outbox) Compose(lt Letter, now time.Time) (*ledger.Mail, error) {
	c := o.opts.Mail()
	msg := mail.Message{
		ID:      messageID(lt.Key, c.From),
		From:    c.From,
		To:      lt.To,
		Subject: lt.Subject,
		Text:    lt.Text,
		HTML:    lt.HTML,
		Date:    now.Truncate(time.Second),
	}
	if lt.File != "" {
		msg.Attachments = []mail.Attachment{{Name: lt.File, ContentType: contentTypes[filepath.Ext(lt.File)], Data: lt.Data}}
	}
	if err := msg.ZipAttachments(c.ZipAbove); err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	js, err := json.Marshal(&msg)
	if err != nil {
		return nil, err
	}
	return &ledger.Mail{ID: msg.ID, Queued: now.UTC(), To: lt.To, Subject: msg.Subject, Message: js}, nil
}

// messageID is a stable Message-ID for key, in the domain of from.
func messageID(key, from string) string {
	sum := sha256.Sum256([]byte(key))
	domain := "reconciled.invalid"
	if a, err := netmail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			domain = d
		}
	}
	return "reconciled." + hex.EncodeToString(sum[:12]) + "@" + domain
}
