package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	token  = "WKiarERJ5pcceNerpM9R5TNnyPTQMl"
	secret = "s3cr3t-value-never-shown"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// minimal is the smallest valid config.
const minimal = `
[storage]
path = "/tmp/x.db"
[data_api]
token = "` + token + `"
secret = "` + secret + `"
projects = [580]
`

// parse is ParseAll (check-config's): every problem, credentials too.
func parse(t *testing.T, text string) (*Config, Problems) {
	t.Helper()
	c, err := ParseAll("test.toml", []byte(text), env(nil))
	if err == nil {
		return c, nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T, want Problems: %v", err, err)
	}
	return nil, ps
}

func TestExampleParsesAndDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseAll("config.example.toml", data, env(map[string]string{
		EnvDataAPISecret: "from-env", EnvMailPassword: "pw",
	}))
	if err != nil {
		t.Fatalf("config.example.toml:\n%v", err)
	}
	if c.DataAPI.PageSize != 1000 || c.DataAPI.Lookback.Duration != 72*time.Hour || len(c.Schedules) != 2 || c.DataAPI.Secret.Value() != "from-env" {
		t.Errorf("unexpected values: %+v", c)
	}
	// Every key of the Config struct appears in the example, set or commented.
	var missing []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("toml")
			if tag == "" || tag == "-" {
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Secret{}) && ft != reflect.TypeOf(Duration{}) {
				walk(prefix+tag+".", ft)
				continue
			}
			key := regexp.MustCompile(`(?m)^#?\s*` + tag + `\s*=`)
			table := regexp.MustCompile(`(?m)^\[` + regexp.QuoteMeta(prefix+tag) + `\]`)
			if !key.Match(data) && !(ft.Kind() == reflect.Map && table.Match(data)) {
				missing = append(missing, prefix+tag)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
	if len(missing) > 0 {
		t.Errorf("config.example.toml does not document %v", missing)
	}
}

func TestDefaultsApply(t *testing.T) {
	c, ps := parse(t, minimal)
	if ps != nil {
		t.Fatal(ps)
	}
	if c.DataAPI.TZ != "UTC" || c.DataAPI.Timeout.Duration != 6*time.Minute || c.Records.AmountUnit != "major" || c.DataAPI.BaseURL != "https://data.ecommpay.com/v1" {
		t.Errorf("defaults not applied: %+v", c.DataAPI)
	}
}

func TestProblemsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", minimal + "tokn = 1\n", "test.toml:8: data_api.tokn: unknown key"},
		{"unknown table", minimal + "[extra]\na = 1\n", "test.toml:8: extra: unknown key"},
		{"page size", minimal + "page_size = 5000\n", "test.toml:8: data_api.page_size: 5000 is not in 1..1000"},
		{"wrong type", minimal + "page_size = \"big\"\n", "test.toml:8: data_api.page_size:"},
		{"bad duration", minimal + "lookback = \"3 days\"\n", "test.toml:8: data_api.lookback:"},
		{"bad tz", minimal + "tz = \"Mars/Base\"\n", "test.toml:8: data_api.tz:"},
		{"token length", strings.Replace(minimal, token, "short", 1), "test.toml:5: data_api.token: has 5 characters"},
		{"syntax", minimal + "x = = 1\n", "test.toml:8:"},
		{"bad cron", minimal + "[[schedule]]\njob = \"sync\"\ncron = \"*/10 * *\"\n", "test.toml:10: schedule[1].cron:"},
		{"second schedule", minimal + "[[schedule]]\njob = \"sync\"\ncron = \"@hourly\"\n[[schedule]]\njob = \"nap\"\ncron = \"@hourly\"\n", "test.toml:12: schedule[2].job: \"nap\""},
		{"cron panic", minimal + "[[schedule]]\njob = \"sync\"\ncron = \"CRON_TZ=Europe/Moscow\"\n", "schedule[1].cron:"},
		{"report without mail", minimal + "[[schedule]]\njob = \"report\"\ncron = \"@daily\"\nto = [\"a@example.com\"]\n", "reports are mailed"},
		{"mail tls", minimal + "[mail]\nhost = \"127.0.0.1\"\ntls = \"ssl\"\nfrom = \"r@example.com\"\n", "test.toml:10: mail.tls:"},
		{"amount unit", minimal + "[records]\namount_unit = \"cents\"\n", "test.toml:9: records.amount_unit:"},
		{"no projects", strings.Replace(minimal, "projects = [580]", "", 1), "data_api.projects: list at least one"},
		{"records column", minimal + "[records.columns]\namont = \"Сумма\"\n", "test.toml:9: records.columns.amont: not a column"},
		{"records status word", minimal + "[records.statuses]\n\"оплачен\" = \"paidd\"\n", "records.statuses.оплачен: \"paidd\": use one of paid, failed, pending, refunded"},
		{"records words twice", minimal + "[records.types]\n\"Оплата\" = \"purchase\"\n\"оплата\" = \"payout\"\n", "the same word as"},
		{"status map", minimal + "[reconcile.status_map]\npaid = [\"succes\"]\n", "reconcile.status_map.paid: \"succes\" is not an ECommPay operation status"},
		{"limit type", minimal + "[[reconcile.limit]]\nmethod = \"advcash\"\ntype = \"sale\"\n", "test.toml:10: reconcile.limit[1].type: \"sale\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parse(t, tt.text)
			if ps == nil {
				t.Fatal("no problem reported")
			}
			if !strings.Contains(ps.Error(), tt.want) {
				t.Errorf("got\n%v\nwant a line containing %q", ps, tt.want)
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	_, ps := parse(t, minimal+"page_size = 0\ntz = \"\"\ntimeout = \"-1s\"\n")
	if len(ps) != 3 {
		t.Fatalf("got %d problems, want 3:\n%v", len(ps), ps)
	}
}

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	noSecret := strings.Replace(minimal, `secret = "`+secret+`"`, "", 1)

	c, err := ParseAll("t", []byte(noSecret+"secret_file = \""+file+"\"\n"), env(map[string]string{EnvDataAPISecret: "from-env"}))
	if err != nil || c.DataAPI.Secret.Value() != "from-file" {
		t.Fatalf("secret_file: %v %v", err, c)
	}
	c, err = ParseAll("t", []byte(noSecret+"secret_file = \"$CREDENTIALS_DIRECTORY/secret\"\n"), env(map[string]string{"CREDENTIALS_DIRECTORY": dir}))
	if err != nil || c.DataAPI.Secret.Value() != "from-file" {
		t.Fatalf("$CREDENTIALS_DIRECTORY: %v", err)
	}
	c, err = ParseAll("t", []byte(noSecret), env(map[string]string{EnvDataAPISecret: "from-env"}))
	if err != nil || c.DataAPI.Secret.Value() != "from-env" {
		t.Fatalf("env: %v", err)
	}
	if _, err := ParseAll("t", []byte(minimal+"secret_file = \""+file+"\"\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("value and file: %v", err)
	}
	if _, err := ParseAll("t", []byte(noSecret+"secret_file = \"/nonexistent/x\"\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "data_api.secret_file: cannot read /nonexistent/x") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := ParseAll("t", []byte(noSecret), env(nil)); err == nil || !strings.Contains(err.Error(), "data_api.secret: missing") {
		t.Fatalf("no secret: %v", err)
	}
}

func TestSecretNeverShows(t *testing.T) {
	c, ps := parse(t, minimal+"[mail]\nhost = \"127.0.0.1\"\nusername = \"u\"\npassword = \""+secret+"2\"\nfrom = \"r@example.com\"\n")
	if ps != nil {
		t.Fatal(ps)
	}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s"} {
		fmt.Fprintf(&out, verb+"\n", c)
		fmt.Fprintf(&out, verb+"\n", *c)
		fmt.Fprintf(&out, verb+"\n", c.DataAPI.Secret)
		fmt.Fprintf(&out, verb+"\n", c.DataAPI)
	}
	js, _ := json.Marshal(c)
	out.Write(js)
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "secret", c.DataAPI.Secret, "mail", c.Mail, "cfg", c)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "secret", c.DataAPI.Secret, "cfg", c)
	for _, s := range []string{secret, token, fmt.Sprintf("%x", secret)} {
		if strings.Contains(out.String(), s) {
			t.Errorf("a credential shows:\n%s", out.String())
			break
		}
	}
	if !strings.Contains(out.String(), "<redacted>") {
		t.Error("expected <redacted> in the output")
	}
	if c.DataAPI.Secret.Value() != secret {
		t.Error("Value must give the secret")
	}
}

func TestParseErrorsDoNotEchoSecrets(t *testing.T) {
	for _, text := range []string{
		"[mail]\npassword = fKzQwErTyUiOp\n",
		"[data_api]\nsecret = 12:30:00zz\n",
		"[data_api]\ntoken = tRuEvAlUeXyZq\n",
	} {
		_, err := Parse("t.toml", []byte(text), env(nil))
		if err == nil {
			t.Fatalf("%q parsed", text)
		}
		for _, s := range []string{"KzQwErTy", "12:30:00", "vAlUeXyZ"} {
			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(s)) {
				t.Errorf("error shows the secret: %v", err)
			}
		}
		if !strings.Contains(err.Error(), "double quotes") {
			t.Errorf("error does not say what to do: %v", err)
		}
	}
}

func TestSecretInAnUnexportedField(t *testing.T) {
	type holder struct{ s Secret }
	h := holder{NewSecret(secret)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, h); strings.Contains(out, secret) {
			t.Errorf("%s shows the secret: %s", verb, out)
		}
	}
}

func TestLinesSkipMultilineStringsAndNameTheTable(t *testing.T) {
	text := minimal + `[[schedule]]
job = "sync"
cron = "@hourly"
[[schedule]]
job = "sync"
cron = "@hourly"
corn = 1
`
	_, ps := parse(t, text)
	if ps == nil || !strings.Contains(ps.Error(), "test.toml:14: schedule[2].corn: unknown key") {
		t.Errorf("got %v", ps)
	}
	idx := keyLines([]byte("a = \"\"\"\npage_size = 3\n\"\"\"\n[data_api]\npage_size = 5000\n"))
	if n := idx.find("data_api.page_size"); n != 5 {
		t.Errorf("line %d, want 5 (the first page_size is inside a string)", n)
	}
}

func TestVocabularyAndFields(t *testing.T) {
	tests := []struct {
		name, text string
		key        string // the problem's key; "" = valid
		line       int
	}{
		{"meanings", minimal + `
[reconcile.operation_types]
"capture settlement" = "purchase"
gift = "none"
[reconcile.operation_statuses]
"awaiting review" = "pending"
[reconcile.payment_statuses]
"awaiting review" = "pending"
[reconcile.status_map]
failed = ["decline", "awaiting review"]
`, "", 0},
		{"bad kind", minimal + `
[reconcile.operation_types]
"capture settlement" = "money"
`, `reconcile.operation_types."capture settlement"`, 10},
		{"bad outcome", minimal + `
[reconcile.operation_statuses]
held = "refunded"
`, "reconcile.operation_statuses.held", 10},
		{"status map names an unknown status", minimal + `
[reconcile.status_map]
failed = ["decline", "awaiting review"]
`, "reconcile.status_map.failed", 10},
		{"fields without an amount", minimal + `fields = ["operation_type", "operation_status", "payment_type", "payment_status", "payment_method"]
`, "data_api.fields", 8},
		{"fields with an unknown name", minimal + `fields = ["operation_type", "operation_status", "payment_type", "payment_status", "payment_method", "sum_initial", "rrn"]
`, "data_api.fields", 8},
		{"fields with what is needed", minimal + `fields = ["operation_type", "operation_status", "payment_type", "payment_status", "payment_method", "sum_initial"]
`, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := parse(t, tt.text)
			if tt.key == "" {
				if ps != nil {
					t.Fatal(ps)
				}
				v := c.Vocabulary()
				if k := v.Type("capture settlement").Kind; tt.name == "meanings" && k != "purchase" {
					t.Errorf("capture settlement is %q, want the config's purchase", k)
				}
				return
			}
			if len(ps) != 1 || ps[0].Key != tt.key || ps[0].Line != tt.line {
				t.Fatalf("problems = %v, want one at %s line %d", ps, tt.key, tt.line)
			}
		})
	}
}
