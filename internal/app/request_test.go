package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/outbox"
)

// refusal is the *RequestError err holds, or fails the test.
func refusal(t *testing.T, what string, err error) *RequestError {
	t.Helper()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("%s: err = %v, want a *RequestError", what, err)
	}
	return re
}

// flagged names a field as a command line would: its flag.
func flagged(field string) string {
	singular := map[string]string{"projects": "project", "methods": "method", "statuses": "status", "types": "type",
		"currencies": "currency", "results": "result"}
	if f, ok := singular[field]; ok {
		return "--" + f
	}
	return "--" + field
}

func TestRequestErrorNamesFieldsEachFrontDoorsWay(t *testing.T) {
	e := &RequestError{Field: "to", Value: "x{from}", Msg: "{to} {%q} is not after {from}: {%s}"}
	if got, want := e.Error(), `to "x{from}" is not after from: x{from}`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := e.Text(flagged), `--to "x{from}" is not after --from: x{from}`; got != want {
		t.Errorf("Text = %q, want %q (a value is never read as a field)", got, want)
	}
}

func TestExportRequestCheck(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		req   ExportRequest
		field string
		want  string // Text(flagged)
	}{
		{ExportRequest{What: "nonsense", Format: "csv"}, "what", `--what "nonsense": use operations, reconciliation, summary, settlement or audit`},
		{ExportRequest{What: "operations", Format: "ods"}, "format", `--format "ods": use csv or xlsx`},
		{ExportRequest{What: "nonsense", Format: "ods"}, "what", `--what "nonsense": use operations, reconciliation, summary, settlement or audit`},
		{ExportRequest{What: "audit", Format: "xlsx", By: "day"}, "format", `the audit trail exports as csv`},
		{ExportRequest{What: "audit", Format: "csv", From: day, Filter: export.Filter{Types: []string{"sale"}}, Results: []string{"matched"}, By: "day"},
			"what", `--what audit exports the whole trail: it takes no --by, --from, --result, --type`},
		{ExportRequest{What: "audit", Format: "csv", To: day, Filter: export.Filter{Projects: []int64{1}, Methods: []string{"m"}, Statuses: []string{"s"}, Currencies: []string{"EUR"}}},
			"what", `--what audit exports the whole trail: it takes no --currency, --method, --project, --status, --to`},
		{ExportRequest{What: "summary", Format: "csv", By: "week"}, "by", `--by "week": use day, method, status, currency, project`},
		{ExportRequest{What: "reconciliation", Format: "csv", Results: []string{"matched", "nope"}}, "results", `--result "nope": use one of ` + strings.Join(domain.Results, ", ")},
		{ExportRequest{What: "operations", Format: "csv", Results: []string{"matched"}}, "results", `--result filters --what reconciliation, not operations`},
		{ExportRequest{What: "operations", Format: "csv", Delimiter: '"'}, "delimiter", `--delimiter "\"": give one character other than a quote or newline`},
		{ExportRequest{What: "operations", Format: "csv", Delimiter: '\n'}, "delimiter", `--delimiter "\n": give one character other than a quote or newline`},
		{ExportRequest{What: "operations", Format: "csv", From: day, To: day}, "to", `--to must be after --from`},
	} {
		re := refusal(t, c.want, c.req.Check())
		if re.Field != c.field || re.Text(flagged) != c.want {
			t.Errorf("%+v: field %q, %q; want %q, %q", c.req, re.Field, re.Text(flagged), c.field, c.want)
		}
	}
	for _, req := range []ExportRequest{
		{What: "operations", Format: "csv"},
		{What: "audit", Format: "csv", Delimiter: ';', BOM: true},
		{What: "summary", Format: "xlsx", From: day, To: day.AddDate(0, 0, 1), By: "method"},
		{What: "reconciliation", Format: "csv", Results: []string{domain.ResultAmountMismatch}, To: day},
		{What: "operations", Format: "csv", Delimiter: '\t'},
	} {
		if err := req.Check(); err != nil {
			t.Errorf("%+v: refused: %v", req, err)
		}
	}
}

func TestDelimiterReadsOneCharacter(t *testing.T) {
	for in, want := range map[string]rune{";": ';', `\t`: '\t', "\t": '\t', "|": '|', "é": 'é'} {
		if got, err := Delimiter(in); err != nil || got != want {
			t.Errorf("Delimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ";;", `"`, "\r", "\n", `\n`, "\xff", "\xe2\x80"} { // the last two: not UTF-8
		re := refusal(t, in, func() error { _, err := Delimiter(in); return err }())
		if re.Field != "delimiter" || re.Value != in {
			t.Errorf("Delimiter(%q): field %q value %q", in, re.Field, re.Value)
		}
	}
}

func TestSummaryTable(t *testing.T) {
	for _, by := range export.SummaryTables {
		if err := CheckSummaryTable(by); err != nil {
			t.Errorf("%q refused: %v", by, err)
		}
	}
	if re := refusal(t, "empty", CheckSummaryTable("")); re.Text(flagged) != `--by "": use day, method, status, currency, project` {
		t.Errorf("empty: %q", re.Text(flagged))
	}
}

func TestSyncRequestCheck(t *testing.T) {
	before, after := now.Add(-time.Hour), now.Add(time.Hour)
	for _, c := range []struct {
		req        SyncRequest
		field, err string
	}{
		{SyncRequest{From: after}, "from", "from " + after.Format(time.RFC3339) + " is in the future"},
		{SyncRequest{To: before}, "to", "to needs from"},
		{SyncRequest{From: before, To: before}, "to", "to must be after from"},
		{SyncRequest{From: before, To: before.Add(-time.Minute)}, "to", "to must be after from"},
	} {
		re := refusal(t, c.err, c.req.Check(now))
		if re.Field != c.field || re.Error() != c.err {
			t.Errorf("%+v: field %q, %q; want %q, %q", c.req, re.Field, re.Error(), c.field, c.err)
		}
	}
	for _, req := range []SyncRequest{{}, {From: before}, {From: before, To: after}, {From: now}, {Projects: []int64{580}}} {
		if err := req.Check(now); err != nil {
			t.Errorf("%+v: refused: %v", req, err)
		}
	}
}

func TestRunRequestCheck(t *testing.T) {
	before := now.Add(-time.Hour)
	for _, req := range []RunRequest{{From: now, To: now}, {From: now, To: before}} {
		if re := refusal(t, "window", req.Check()); re.Field != "to" || re.Error() != "to must be after from" {
			t.Errorf("%+v: field %q, %q", req, re.Field, re.Error())
		}
	}
	for _, req := range []RunRequest{{}, {From: before}, {To: now}, {From: before, To: now}} {
		if err := req.Check(); err != nil {
			t.Errorf("%+v: refused: %v", req, err)
		}
	}
}

// App.Sync checks its request again: a window in the future asks the Data
// API nothing (the fake would answer a request, and its counter moves).
func TestSyncRefusesAWindowInTheFutureBeforeItAsks(t *testing.T) {
	w := newAPIWorld(t, 10, apiToken)
	_, err := w.app.Sync(context.Background(), SyncRequest{From: now.Add(time.Hour)})
	if re := refusal(t, "sync", err); re.Field != "from" {
		t.Fatalf("field %q", re.Field)
	}
	if n := len(w.stored(t)); n != 0 {
		t.Fatalf("%d operations stored", n)
	}
}

func TestSendRequestDefaultsAndCheck(t *testing.T) {
	cfg := config.Default()
	if re := refusal(t, "no host", CheckMailServer(cfg)); re.Text(flagged) != "--send: no SMTP server in the config: set mail.host" {
		t.Errorf("no host: %q", re.Text(flagged))
	}
	cfg.Mail.Host = "mail.example.test"
	if err := CheckMailServer(cfg); err != nil {
		t.Errorf("with a host: %v", err)
	}
	if got := (SendRequest{}).Defaults(cfg); len(got.To) != 0 || got.Format != "" {
		t.Errorf("no report schedule, yet defaults %+v", got)
	}
	cfg.Schedules = []config.Schedule{{Job: "export", To: []string{"x@example.test"}, Format: "csv"},
		{Job: "report", To: []string{"finance@example.test"}, Format: "csv"}, {Job: "report", To: []string{"later@example.test"}}}
	if got := (SendRequest{}).Defaults(cfg); strings.Join(got.To, ",") != "finance@example.test" || got.Format != "csv" {
		t.Errorf("the first report schedule's defaults: %+v", got)
	}
	if got := (SendRequest{To: []string{"me@example.test"}, Format: "xlsx"}).Defaults(cfg); strings.Join(got.To, ",") != "me@example.test" || got.Format != "xlsx" {
		t.Errorf("given recipients and format replaced: %+v", got)
	}
	for _, c := range []struct {
		req  SendRequest
		want string
	}{
		{SendRequest{To: []string{"a@example.test"}, Format: "pdf"}, `--format "pdf": use xlsx or csv`},
		{SendRequest{}, "--send: no recipients: give --to, or `to` in the report [[schedule]]"},
		{SendRequest{To: []string{"a@example.test", "not an address"}}, `--to "not an address" is not an e-mail address`},
	} {
		if re := refusal(t, c.want, c.req.Check()); re.Text(flagged) != c.want {
			t.Errorf("%+v: %q, want %q", c.req, re.Text(flagged), c.want)
		}
	}
	if err := (SendRequest{To: []string{"a@example.test"}, Format: "csv"}).Check(); err != nil {
		t.Errorf("a good request refused: %v", err)
	}
	if err := CheckReportFormat(""); err != nil {
		t.Errorf("no format (the default) refused: %v", err)
	}
}

// SendReport checks again: no recipient queues nothing.
func TestSendReportRefusesARequestWithoutRecipients(t *testing.T) {
	a := testApp(t, nil, nil)
	a.Config.Mail.Host = "mail.example.test"
	a.Outbox = outbox.New(a.Ledger, outbox.Options{Mail: func() config.Mail { return a.Config.Mail }, Now: a.Now})
	dr, err := a.Report(context.Background(), a.Yesterday())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = a.SendReport(context.Background(), dr, SendRequest{User: "tester"})
	if re := refusal(t, "send", err); re.Field != "to" {
		t.Fatalf("field %q", re.Field)
	}
	if ms, err := a.Ledger.Outbox(false); err != nil || len(ms) != 0 {
		t.Fatalf("%d messages queued (%v)", len(ms), err)
	}
}

func TestItemTypeAndSource(t *testing.T) {
	for _, typ := range append([]string{""}, domain.RecordTypes...) {
		if err := CheckItemType(typ); err != nil {
			t.Errorf("%q refused: %v", typ, err)
		}
	}
	if re := refusal(t, "sale", CheckItemType("sale")); re.Text(flagged) != `--type "sale": use purchase, payout or refund` {
		t.Errorf("sale: %q", re.Text(flagged))
	}
	if got, err := SourceName(" payouts\x1b[2J "); err != nil || got != domain.CleanName(" payouts\x1b[2J ") {
		t.Errorf("SourceName = %q, %v", got, err)
	}
	for _, in := range []string{"", "\x1b", strings.Repeat("s", MaxSourceBytes+1)} {
		re := refusal(t, in, func() error { _, err := SourceName(in); return err }())
		want := `import: --source "` + strings.ReplaceAll(in, "\x1b", `\x1b`) + `": give a name of 1 to 100 bytes of printable characters`
		if re.Field != "source" || re.Value != in || re.Text(flagged) != want {
			t.Errorf("%q: field %q value %q: %q, want %q", in, re.Field, re.Value, re.Text(flagged), want)
		}
	}
	if _, err := SourceName(strings.Repeat("s", MaxSourceBytes)); err != nil {
		t.Errorf("%d bytes refused: %v", MaxSourceBytes, err)
	}
}

// Import and Unresolve check their requests again, before they read or
// store anything.
func TestImportAndUnresolveCheckTheirRequests(t *testing.T) {
	a := testApp(t, nil, nil)
	opened := 0
	path := writeBooks(t, "orders.csv", "payment_id,type,amount,currency,status,created_at\np-1,purchase,10.00,EUR,paid,2026-11-20 10:00:00\n")
	steps := 0
	_, err := Import(context.Background(), a.Config, ImportRequest{Path: path, Source: "", User: "tester", Steps: func(string) { steps++ }},
		func() (*App, error) { opened++; return a, nil })
	if re := refusal(t, "import", err); re.Field != "source" || opened != 0 || steps != 0 {
		t.Fatalf("field %q, opened %d, steps %d", re.Field, opened, steps)
	}
	_, err = a.Unresolve(context.Background(), ResolveRequest{ID: "p-1", Type: "sale", User: "tester"})
	if re := refusal(t, "unresolve", err); re.Field != "type" {
		t.Fatalf("field %q", re.Field)
	}
	_, err = a.Resolve(context.Background(), ResolveRequest{ID: "p-1", Reason: "bank-fee", Type: "sale", User: "tester"})
	if re := refusal(t, "resolve", err); re.Field != "type" {
		t.Fatalf("field %q", re.Field)
	}
}

// Export checks its request before it writes a byte.
func TestExportChecksItsRequest(t *testing.T) {
	a := testApp(t, []domain.Operation{sale(1, "p1", now, 100)}, nil)
	var b bytes.Buffer
	_, err := a.Export(context.Background(), ExportRequest{What: "audit", Format: "csv", By: "method"}, &b)
	if re := refusal(t, "export", err); re.Field != "what" || b.Len() != 0 {
		t.Fatalf("field %q, %d bytes written", re.Field, b.Len())
	}
}
