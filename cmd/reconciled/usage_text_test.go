package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// TestRequestRefusalsReadAsTheyDid pins the whole text of each refusal of
// a request that makes no sense (internal/app's checks, in the command
// line's words), which check speaks first when a line has two faults, and
// that nothing opened or created the database before it was refused.
func TestRequestRefusalsReadAsTheyDid(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	file := filepath.Join(w.dir, "books.csv")
	if err := os.WriteFile(file, []byte("order_id,amount,currency,status,date\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	results := strings.Join(domain.Results, ", ")
	long := strings.Repeat("s", 101)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"export", "--what", "nonsense"}, `--what "nonsense": use operations, reconciliation, summary, settlement or audit`},
		{[]string{"export", "--what", "{from}"}, `--what "{from}": use operations, reconciliation, summary, settlement or audit`},
		{[]string{"export", "--format", "ods"}, `--format "ods": use csv or xlsx`},
		{[]string{"export", "--what", "bogus", "--format", "xlsx"}, `--what "bogus": use operations, reconciliation, summary, settlement or audit`},
		{[]string{"export", "--format", "xlsx"}, `--format xlsx needs -o FILE (a workbook is not for a terminal)`},
		{[]string{"export", "--what", "audit", "--format", "xlsx"}, `--format xlsx needs -o FILE (a workbook is not for a terminal)`},
		{[]string{"export", "--what", "audit", "--format", "xlsx", "-o", filepath.Join(w.dir, "a.xlsx")}, `the audit trail exports as csv`},
		{[]string{"export", "--what", "audit", "--type", "x", "--by", "day", "--from", "2026-01-01", "--to", "2026-01-02", "--currency", "UAH", "--result", "matched"},
			`--what audit exports the whole trail: it takes no --by, --currency, --from, --result, --to, --type`},
		{[]string{"export", "--what", "audit", "--project", "580", "--method", "advcash", "--status", "success"},
			`--what audit exports the whole trail: it takes no --method, --project, --status`},
		{[]string{"export", "--by", "week"}, `--by "week": use day, method, status, currency, project`},
		{[]string{"export", "--by", "week", "--result", "nope"}, `--by "week": use day, method, status, currency, project`},
		{[]string{"export", "--by", ""}, `--by "": use day, method, status, currency, project`},
		{[]string{"export", "--by", "", "--result", "nope"}, `--by "": use day, method, status, currency, project`},
		{[]string{"export", "--what", "audit", "--by", ""}, `--what audit exports the whole trail: it takes no --by`},
		{[]string{"export", "--what", "audit", "--by", "day"}, `--what audit exports the whole trail: it takes no --by`},
		{[]string{"export", "--what", "reconciliation", "--result", "nope"}, `--result "nope": use one of ` + results},
		{[]string{"export", "--what", "operations", "--result", "matched"}, `--result filters --what reconciliation, not operations`},
		{[]string{"export", "--delimiter", ";;"}, `--delimiter ";;": give one character other than a quote or newline`},
		{[]string{"export", "--delimiter", `"`}, `--delimiter "\"": give one character other than a quote or newline`},
		{[]string{"export", "--delimiter", ""}, `--delimiter "": give one character other than a quote or newline`},
		{[]string{"export", "--what", "bogus", "--delimiter", ";;"}, `--what "bogus": use operations, reconciliation, summary, settlement or audit`},
		{[]string{"export", "--result", "matched", "--delimiter", ";;"}, `--result filters --what reconciliation, not operations`},
		{[]string{"export", "--from", "2026-11-02", "--to", "2026-11-01"}, `--to must be after --from`},
		{[]string{"export", "--from", "2026-11-02", "--to", "2026-11-01T23:00:00Z"}, `--to must be after --from`},
		{[]string{"export", "--from", "someday"}, `--from "someday": use 2026-11-20, "2026-11-20 10:00:00" or RFC 3339`},
		{[]string{"reconcile", "--no-recheck", "--from", "2026-11-02", "--to", "2026-11-01"}, `--to must be after --from`},
		{[]string{"reconcile", "--no-recheck", "--from", "2026-11-02", "--to", "2026-11-02"}, `--to must be after --from`},
		{[]string{"stats", "--by", "week"}, `--by "week": use day, method, status, currency, project, settlement`},
		{[]string{"stats", "--by", ""}, `--by "": use day, method, status, currency, project, settlement`},
		{[]string{"sync", "--from", "2030-01-01"}, `--from 2030-01-01 is in the future`},
		{[]string{"sync", "--to", "2026-11-01"}, `--to needs --from`},
		{[]string{"sync", "--from", "2026-10-31 10:00", "--to", "2026-10-31 10:00"}, `--to must be after --from`},
		{[]string{"sync", "--from", "yesterday"}, `--from "yesterday": use 2026-11-20, "2026-11-20 10:00:00" or RFC 3339`},
		{[]string{"report", "--send", "--format", "pdf"}, `--format "pdf": use xlsx or csv`},
		{[]string{"report", "--to", "a@example.test"}, `--to and --format go with --send`},
		{[]string{"report", "--send"}, `--send: no SMTP server in the config: set mail.host`},
		{[]string{"report", "--send", "--to", "not an address"}, `--send: no SMTP server in the config: set mail.host`},
		{[]string{"report", "--date", "20.11.2026"}, `--date "20.11.2026": give a day as YYYY-MM-DD`},
		{[]string{"resolve", "order-1", "--reason", "x", "--type", "sale"}, `--type "sale": use purchase, payout or refund`},
		{[]string{"resolve", "--type", "sale"}, `--type "sale": use purchase, payout or refund`},
		{[]string{"resolve", "order-1", "--reason", "Bank Fee"}, `resolve: --reason "Bank Fee": give a short code of lower-case letters, digits, '-', '_' or '.', e.g. bank-fee`},
		{[]string{"resolve", "--reason", "Bank Fee"}, `resolve: give the payment id: reconciled resolve PAYMENT_ID --reason CODE`},
		{[]string{"unresolve", "order-1", "--type", "Purchase"}, `--type "Purchase": use purchase, payout or refund`},
		{[]string{"import", file, "--source", ""}, `import: --source "": give a name of 1 to 100 bytes of printable characters`},
		{[]string{"import", file, "--source", "\x1b[2J"}, `import: --source "\x1b[2J": give a name of 1 to 100 bytes of printable characters`},
		{[]string{"import", file, "--source", long}, `import: --source "` + long + `": give a name of 1 to 100 bytes of printable characters`},
	}
	check := func(w *world, args []string, want string) {
		t.Helper()
		code, stdout, stderr := w.run(t, args...)
		if code != exitUsage || stdout != "" || stderr != "reconciled: "+want+"\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr\n%q\nwant exit %d and\n%q", args, code, stdout, stderr, exitUsage, "reconciled: "+want+"\n")
		}
		if _, err := os.Stat(w.db); !os.IsNotExist(err) {
			t.Fatalf("%q: the database exists after a refused request (%v)", args, err)
		}
	}
	for _, c := range cases {
		check(w, c.args, c.want)
	}

	appendConfig(t, w, "[mail]\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\nfrom = \"reconciled@example.test\"\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--send"}, "--send: no recipients: give --to, or `to` in the report [[schedule]]"},
		{[]string{"report", "--send", "--to", "not an address"}, `--to "not an address" is not an e-mail address`},
		{[]string{"report", "--send", "--to", "a@example.test,{to}"}, `--to "{to}" is not an e-mail address`},
	} {
		check(w, c.args, c.want)
	}
}

// TestNoConfigFileReadsAsItDid pins where a command looks for its config
// and what it says when there is none.
func TestNoConfigFileReadsAsItDid(t *testing.T) {
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Now: time.Now}
	code := m.Run(context.Background(), []string{"status"})
	want := "reconciled: no config file: looked for --config, $RECONCILED_CONFIG, ./reconciled.toml, /etc/reconciled/reconciled.toml\n" +
		"  start from config.example.toml (cp config.example.toml reconciled.toml), or try `reconciled demo`\n"
	if code != exitUsage || stdout.Len() != 0 || stderr.String() != want {
		t.Errorf("exit %d, stdout %q, stderr\n%q\nwant exit %d and\n%q", code, stdout.String(), stderr.String(), exitUsage, want)
	}

	if err := os.WriteFile("reconciled.toml", []byte("[storage]\npath = \"x.db\"\n[data_api]\ntokn = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := m.Run(context.Background(), []string{"status"}); code != exitUsage || !strings.Contains(stderr.String(), "reconciled.toml:4: data_api.tokn: unknown key") {
		t.Errorf("./reconciled.toml is not the one read: exit %d\n%s", code, stderr.String())
	}
	env := filepath.Join(t.TempDir(), "elsewhere.toml")
	if err := os.WriteFile(env, []byte("[storage]\npath = \"x.db\"\n[data_api]\ntokn2 = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.Getenv = func(k string) string {
		if k == "RECONCILED_CONFIG" {
			return env
		}
		return ""
	}
	stderr.Reset()
	if code := m.Run(context.Background(), []string{"status"}); code != exitUsage || !strings.Contains(stderr.String(), "elsewhere.toml:4: data_api.tokn2: unknown key") {
		t.Errorf("$RECONCILED_CONFIG is not read before ./reconciled.toml: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := m.Run(context.Background(), []string{"--config", "reconciled.toml", "status"}); code != exitUsage || !strings.Contains(stderr.String(), "data_api.tokn: unknown key") {
		t.Errorf("--config is not read before $RECONCILED_CONFIG: exit %d\n%s", code, stderr.String())
	}
}
