// Package mail builds one e-mail message and sends it over SMTP; reconciled
// mails its daily reconciliation report with it.
//
// A Message is plain data: its ID (the Message-ID without angle brackets)
// and Date are chosen by the caller, so that a message kept in an outbox and
// sent again carries the same Message-ID and Date, and a receiving system
// can tell a resend from a new message. Encode turns it into an RFC 5322
// message (built with github.com/wneessen/go-mail): text and HTML as
// multipart/alternative, attachments base64-encoded. ZipAttachments replaces
// large attachments by zip archives beforehand.
//
// A Sender sends messages through the SMTP server its Options name (the
// caller converts the config's [mail] section; this package does not
// import the config):
// mandatory STARTTLS, implicit TLS or none, and SMTP AUTH (PLAIN, else
// LOGIN) when a user name is set. Permanent tells an error worth retrying
// (a connection failure, a 4xx reply) from one that is not (a 5xx reply, an
// invalid message). Neither a Sender nor its errors ever show the password.
package mail

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// ErrInvalid is wrapped by the errors for a message that cannot be sent as
// it is (a bad address, no ID, ...); Permanent reports true for them.
var ErrInvalid = errors.New("mail: invalid message")

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string // file name shown to the recipient, e.g. "report-2025-01-31.xlsx"
	ContentType string // e.g. "text/csv; charset=utf-8"; "" guesses from Name's extension
	Data        []byte
}

// Message is one e-mail.
type Message struct {
	// ID is the Message-ID without angle brackets, e.g.
	// "report-2025-01-31.1@reconciled.example.com". The caller chooses it
	// and keeps it stable, so that a resend carries the same one.
	ID      string
	From    string   // an address, optionally with a name: "Reconciled <r@example.com>"
	To      []string // at least one
	Subject string
	// Text and HTML are the two versions of the body; at least one is
	// needed. With both, the message is multipart/alternative.
	Text, HTML  string
	Attachments []Attachment
	// Date is the Date header; it is also the modification time of the
	// files in the zip archives ZipAttachments makes.
	Date time.Time
}

// ZipAttachments replaces each attachment larger than above bytes by a zip
// archive named Name+".zip" (content type application/zip) that holds it,
// deflated, with m.Date as its modification time, so that the same message
// always zips to the same bytes. above <= 0 never zips; an attachment that
// is already application/zip is left as it is.
func (m *Message) ZipAttachments(above int64) error {
	if above <= 0 {
		return nil
	}
	for i, a := range m.Attachments {
		if int64(len(a.Data)) <= above || isZip(a.ContentType) {
			continue
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name, Method: zip.Deflate, Modified: m.Date})
		if err != nil {
			return fmt.Errorf("mail: zipping attachment %q: %w", a.Name, err)
		}
		if _, err := w.Write(a.Data); err != nil {
			return fmt.Errorf("mail: zipping attachment %q: %w", a.Name, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("mail: zipping attachment %q: %w", a.Name, err)
		}
		m.Attachments[i] = Attachment{Name: a.Name + ".zip", ContentType: "application/zip", Data: buf.Bytes()}
	}
	return nil
}

func isZip(contentType string) bool {
	t, _, err := mime.ParseMediaType(contentType)
	return err == nil && t == "application/zip"
}

// Encode returns the whole message as sent (RFC 5322, CRLF line ends).
// Encoding the same message twice gives the same headers and parts; only
// the MIME boundaries differ.
func (m *Message) Encode() ([]byte, error) {
	msg, err := m.build()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("mail: encoding message %s: %w", m.ID, err)
	}
	return buf.Bytes(), nil
}

// Validate checks what Encode and Send need; its errors wrap ErrInvalid.
func (m *Message) Validate() error {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if err := checkID(m.ID); err != nil {
		return invalid("Message-ID %q: %v", m.ID, err)
	}
	if m.Date.IsZero() {
		return invalid("message %s has no Date", m.ID)
	}
	if _, err := netmail.ParseAddress(m.From); err != nil {
		return invalid("message %s: From %q is not an e-mail address (%v)", m.ID, m.From, err)
	}
	if len(m.To) == 0 {
		return invalid("message %s has no recipient", m.ID)
	}
	for _, to := range m.To {
		if _, err := netmail.ParseAddress(to); err != nil {
			return invalid("message %s: recipient %q is not an e-mail address (%v)", m.ID, to, err)
		}
	}
	if m.Text == "" && m.HTML == "" {
		return invalid("message %s has neither a text nor an HTML body", m.ID)
	}
	for _, a := range m.Attachments {
		if strings.TrimSpace(a.Name) == "" {
			return invalid("message %s: an attachment has no name", m.ID)
		}
		if a.ContentType != "" {
			if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
				return invalid("message %s: attachment %q: content type %q: %v", m.ID, a.Name, a.ContentType, err)
			}
		}
	}
	return nil
}

// checkID accepts what RFC 5322 allows between the angle brackets of a
// Message-ID (id-left "@" id-right, without the obsolete and quoted forms).
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("empty: choose a stable ID such as \"report-2025-01-31@reconciled.example.com\", so that a resend carries the same one")
	case strings.ContainsAny(id, "<>"):
		return errors.New("give it without the angle brackets")
	}
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return errors.New("it must be left-part@right-part, e.g. \"report-2025-01-31@reconciled.example.com\"")
	}
	for _, r := range id {
		if r <= ' ' || r > '~' || strings.ContainsRune(`()[]:;\,"`, r) {
			return fmt.Errorf("character %q is not allowed", r)
		}
	}
	return nil
}

// build makes the go-mail message.
func (m *Message) build() (*gomail.Msg, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("%w: message %s: From: %v", ErrInvalid, m.ID, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("%w: message %s: To: %v", ErrInvalid, m.ID, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID)
	msg.SetDateWithValue(m.Date)
	// An automated report: no out-of-office replies, please (RFC 3834).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		var opts []gomail.FileOption
		if a.ContentType != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), opts...)
	}
	return msg, nil
}
