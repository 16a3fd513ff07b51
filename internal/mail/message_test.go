package mail_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"reconciled/internal/mail"
)

// binary is every byte value, so that an attachment round trip shows the
// encoding loses nothing.
func binary() []byte {
	b := make([]byte, 0, 512)
	for i := range 512 {
		b = append(b, byte(i*7))
	}
	return b
}

func testMessage() *mail.Message {
	return &mail.Message{
		ID:      "report-2025-01-31.1@reconciled.test",
		From:    "Reconciled <reconciled@example.test>",
		To:      []string{"finance@example.test", "Audit Team <audit@example.test>"},
		Subject: "Сверка за 31.01.2025: 3 расхождения",
		Text:    "Hello,\r\nthe report for 2025-01-31 is attached: 3 mismatches, 1 500,00 ₽.\r\n",
		HTML:    "<p>Hello,</p><p>the report for <b>2025-01-31</b> is attached.</p>",
		Attachments: []mail.Attachment{
			{Name: "report-2025-01-31.csv", ContentType: "text/csv; charset=utf-8", Data: []byte("payment_id;amount\r\n1;1500.00\r\n")},
			{Name: "report-2025-01-31.bin", ContentType: "application/octet-stream", Data: binary()},
		},
		Date: time.Date(2025, 1, 31, 7, 0, 0, 0, time.FixedZone("MSK", 3*3600)),
	}
}

// parsed is a message read back with net/mail and mime/multipart only.
type parsed struct {
	Header      netmail.Header
	Subject     string
	Text, HTML  string
	Attachments []mail.Attachment
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, data)
	}
	var p parsed
	p.Header = msg.Header
	p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	walk(t, &p, msg.Header, msg.Body)
	return p
}

// header is what walk needs of net/mail's and multipart's headers.
type header interface{ Get(string) string }

// walk collects the text and HTML bodies and the attachments of a part.
func walk(t *testing.T, p *parsed, h header, body io.Reader) {
	t.Helper()
	contentType, disposition := h.Get("Content-Type"), h.Get("Content-Disposition")
	switch enc := strings.ToLower(h.Get("Content-Transfer-Encoding")); enc {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable": // multipart.Reader decodes it already, and drops the header
		body = quotedprintable.NewReader(body)
	case "", "7bit", "8bit", "binary":
	default:
		t.Fatalf("Content-Transfer-Encoding %q", enc)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", mt, err)
			}
			walk(t, p, part.Header, part)
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("reading a %s part: %v", mt, err)
	}
	if disp, dparams, err := mime.ParseMediaType(disposition); err == nil && disp == "attachment" {
		p.Attachments = append(p.Attachments, mail.Attachment{Name: dparams["filename"], ContentType: contentType, Data: data})
		return
	}
	switch mt {
	case "text/plain":
		p.Text = string(data)
	case "text/html":
		p.HTML = string(data)
	default:
		t.Fatalf("unexpected inline part %s", contentType)
	}
}

// checkDelivered compares what was received with what was sent.
func checkDelivered(t *testing.T, got parsed, want *mail.Message) {
	t.Helper()
	if got.Subject != want.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	}
	if id := got.Header.Get("Message-Id"); id != "<"+want.ID+">" {
		t.Errorf("Message-ID = %q, want <%s>", id, want.ID)
	}
	if d, err := got.Header.Date(); err != nil || !d.Equal(want.Date) {
		t.Errorf("Date = %q (%v), want %v", got.Header.Get("Date"), err, want.Date)
	}
	if got.Text != want.Text {
		t.Errorf("text body = %q, want %q", got.Text, want.Text)
	}
	if got.HTML != want.HTML {
		t.Errorf("HTML body = %q, want %q", got.HTML, want.HTML)
	}
	if len(got.Attachments) != len(want.Attachments) {
		t.Fatalf("%d attachments, want %d", len(got.Attachments), len(want.Attachments))
	}
	for i, a := range got.Attachments {
		w := want.Attachments[i]
		if a.Name != w.Name {
			t.Errorf("attachment %d is named %q, want %q", i, a.Name, w.Name)
		}
		if mt, _, _ := mime.ParseMediaType(a.ContentType); w.ContentType != "" && !strings.HasPrefix(w.ContentType, mt) {
			t.Errorf("attachment %q has type %q, want %q", a.Name, a.ContentType, w.ContentType)
		}
		if !bytes.Equal(a.Data, w.Data) {
			t.Errorf("attachment %q: %d bytes received differ from the %d sent", a.Name, len(a.Data), len(w.Data))
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	m := testMessage()
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, data)
	checkDelivered(t, p, m)
	if got := p.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	to, err := p.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "finance@example.test" || to[1].Name != "Audit Team" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/mixed") {
		t.Errorf("Content-Type = %q, want multipart/mixed", ct)
	}
	if !bytes.Contains(data, []byte("multipart/alternative")) {
		t.Error("text and HTML are not multipart/alternative")
	}
}

func TestEncodeTextOnly(t *testing.T) {
	m := testMessage()
	m.HTML, m.Attachments = "", nil
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, data)
	checkDelivered(t, p, m)
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
}

func TestEncodeIsStable(t *testing.T) {
	m := testMessage()
	a, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := parse(t, a), parse(t, b)
	for _, h := range []string{"Message-Id", "Date", "Subject", "From", "To"} {
		if pa.Header.Get(h) != pb.Header.Get(h) {
			t.Errorf("%s differs between two encodings: %q, %q", h, pa.Header.Get(h), pb.Header.Get(h))
		}
	}
	if id := pa.Header.Get("Message-Id"); id != "<report-2025-01-31.1@reconciled.test>" {
		t.Errorf("Message-ID = %q", id)
	}
	// Encoding must not change the message.
	if !m.Date.Equal(testMessage().Date) || len(m.Attachments) != 2 {
		t.Error("Encode changed the message")
	}
}

func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*mail.Message)
		want   string
	}{
		"no ID":          {func(m *mail.Message) { m.ID = "" }, "stable"},
		"ID in brackets": {func(m *mail.Message) { m.ID = "<a@b>" }, "angle brackets"},
		"ID without @":   {func(m *mail.Message) { m.ID = "report-1" }, "left-part@right-part"},
		"ID with space":  {func(m *mail.Message) { m.ID = "a b@c" }, "not allowed"},
		"no Date":        {func(m *mail.Message) { m.Date = time.Time{} }, "no Date"},
		"bad From":       {func(m *mail.Message) { m.From = "reconciled" }, `From "reconciled"`},
		"no To":          {func(m *mail.Message) { m.To = nil }, "no recipient"},
		"bad To":         {func(m *mail.Message) { m.To = []string{"ok@example.test", "finance at example"} }, `"finance at example"`},
		"no body":        {func(m *mail.Message) { m.Text, m.HTML = "", "" }, "neither"},
		"unnamed file":   {func(m *mail.Message) { m.Attachments[0].Name = " " }, "no name"},
		"bad type":       {func(m *mail.Message) { m.Attachments[1].ContentType = "text/" }, "content type"},
	} {
		t.Run(name, func(t *testing.T) {
			m := testMessage()
			tc.change(m)
			_, err := m.Encode()
			if err == nil {
				t.Fatal("Encode accepted it")
			}
			if !errors.Is(err, mail.ErrInvalid) || !mail.Permanent(err) {
				t.Errorf("error %v: not ErrInvalid or not Permanent", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestZipAttachments(t *testing.T) {
	big := bytes.Repeat([]byte("payment_id;amount;currency\r\n"), 100) // 2800 bytes
	m := testMessage()
	m.Attachments = []mail.Attachment{
		{Name: "small.csv", ContentType: "text/csv", Data: []byte("a;b\r\n")},
		{Name: "big.csv", ContentType: "text/csv", Data: big},
		{Name: "limit.bin", Data: bytes.Repeat([]byte{1}, 1000)}, // exactly the limit: kept
		{Name: "already.zip", ContentType: "application/zip", Data: bytes.Repeat([]byte{2}, 2000)},
	}
	orig := append([]mail.Attachment(nil), m.Attachments...)
	if err := m.ZipAttachments(1000); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2, 3} {
		if a := m.Attachments[i]; a.Name != orig[i].Name || !bytes.Equal(a.Data, orig[i].Data) {
			t.Errorf("attachment %q changed to %q", orig[i].Name, a.Name)
		}
	}
	z := m.Attachments[1]
	if z.Name != "big.csv.zip" || z.ContentType != "application/zip" {
		t.Fatalf("big.csv became %q (%s), want big.csv.zip (application/zip)", z.Name, z.ContentType)
	}
	if len(z.Data) >= len(big) {
		t.Errorf("zipped to %d bytes from %d: not deflated", len(z.Data), len(big))
	}
	zr, err := zip.NewReader(bytes.NewReader(z.Data), int64(len(z.Data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("%d files in the zip", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "big.csv" || f.Method != zip.Deflate || !f.Modified.Equal(m.Date) {
		t.Errorf("zip entry %q, method %d, modified %v; want big.csv, deflate, %v", f.Name, f.Method, f.Modified, m.Date)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Errorf("the zip gives back %d bytes (%v), not the %d zipped", len(got), err, len(big))
	}

	// The same message zips to the same bytes.
	m2 := testMessage()
	m2.Attachments = append([]mail.Attachment(nil), orig...)
	if err := m2.ZipAttachments(1000); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m2.Attachments[1].Data, z.Data) {
		t.Error("zipping the same message twice gave different bytes")
	}

	// The zip survives encoding.
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, parse(t, data), m)
}

func TestZipAttachmentsNever(t *testing.T) {
	for _, above := range []int64{0, -1} {
		m := testMessage()
		if err := m.ZipAttachments(above); err != nil {
			t.Fatal(err)
		}
		for i, a := range m.Attachments {
			if a.Name != testMessage().Attachments[i].Name {
				t.Errorf("ZipAttachments(%d) zipped %q", above, a.Name)
			}
		}
	}
}
