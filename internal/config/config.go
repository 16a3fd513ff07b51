// Package config reads reconciled's TOML configuration: defaults first, the
// file decoded over them (every value of a wrong type reported in our
// words, types.go), unknown keys rejected, then Validate. Credentials
// (value, *_file or environment) are resolved only for the work that uses
// them (WithSecrets, secrets.go), or all of them by LoadAll. Every problem
// is reported with its key, and with its line where it can be found, all
// at once.
package config

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/fees"
	"reconciled/internal/schedule"
)

// Config is the whole configuration. Field comments name the TOML keys;
// config.example.toml documents each one.
type Config struct {
	Storage   Storage    `toml:"storage"`
	DataAPI   DataAPI    `toml:"data_api"`
	Records   Records    `toml:"records"`
	Reconcile Reconcile  `toml:"reconcile"`
	Mail      Mail       `toml:"mail"`
	Log       Log        `toml:"log"`
	Schedules []Schedule `toml:"schedule"`
	Daemon    Daemon     `toml:"daemon"`
	Limits    Limits     `toml:"limits"`
	Fees      Fees       `toml:"fees"`
	// Chargebacks is [chargebacks]: disputes from /chargeback/list.
	Chargebacks Chargebacks `toml:"chargebacks"`
	Balances    Balances    `toml:"balances"`  // balances.go
	Alerts      Alerts      `toml:"alerts"`    // alerts.go
	Callbacks   Callbacks   `toml:"callbacks"` // callbacks.go
	Web         Web         `toml:"web"`       // web.go

	// File is the file the config was read from ("" for Default).
	File string `toml:"-"`

	lines    lineIndex           // where each key is set, for problems found later
	env      func(string) string // for WithSecrets
	resolved Need                // the credentials resolved and checked
	zones    zones               // data_api.tz and records.tz, resolved by Validate
	vocab    *domain.Vocabulary  // the meanings of ECommPay's words, built by Validate
	contract *fees.Contract      // [[fees.tariff]], built by Validate
}

// zones are the config's time zones, loaded once by Validate (each with
// the name it was loaded for, so a config changed since is read anew).
type zones struct {
	data, records         *time.Location
	dataName, recordsName string
}

// Zone is data_api.tz: the zone people type and read times in. Validated
// configs resolved it once; one made in code is looked up now (UTC if its
// name is not a zone, which Validate would have refused).
func (c *Config) Zone() *time.Location {
	return zoneOf(c.zones.data, c.zones.dataName, c.DataAPI.TZ)
}

// RecordsZone is the zone of merchant times written without one:
// records.tz, else data_api.tz.
func (c *Config) RecordsZone() *time.Location {
	if c.Records.TZ == "" {
		return c.Zone()
	}
	return zoneOf(c.zones.records, c.zones.recordsName, c.Records.TZ)
}

func zoneOf(loaded *time.Location, loadedName, name string) *time.Location {
	if loaded != nil && loadedName == name {
		return loaded
	}
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	return time.UTC
}

// Storage is [storage].
type Storage struct {
	Path string `toml:"path"` // the bbolt database file
}

// DataAPI is [data_api].
type DataAPI struct {
	BaseURL     string   `toml:"base_url"`
	Token       Secret   `toml:"token"`
	TokenFile   string   `toml:"token_file"`
	Secret      Secret   `toml:"secret"`
	SecretFile  string   `toml:"secret_file"`
	Projects    []int64  `toml:"projects"`
	TZ          string   `toml:"tz"`
	PageSize    int      `toml:"page_size"`
	Timeout     Duration `toml:"timeout"`
	Lookback    Duration `toml:"lookback"`
	Start       string   `toml:"start"` // YYYY-MM-DD: where the very first sync begins
	MaxAttempts int      `toml:"max_attempts"`
	// Fields are the operation parameters asked for ("fields" of
	// /operations/get); nil: every one reconciled stores.
	Fields []string `toml:"fields"`
}

// Records is [records]: how the merchant's files read.
type Records struct {
	AmountUnit string            `toml:"amount_unit"` // "major" or "minor"
	TZ         string            `toml:"tz"`          // zone of times written without one; default data_api.tz
	Columns    map[string]string `toml:"columns"`     // canonical column → the file's header
	Statuses   map[string]string `toml:"statuses"`    // the file's word → paid, failed, pending, refunded
	Types      map[string]string `toml:"types"`       // the file's word → purchase, payout, refund
}

// Reconcile is [reconcile].
type Reconcile struct {
	AmountTolerance int64               `toml:"amount_tolerance"` // minor units
	StatusMap       map[string][]string `toml:"status_map"`       // merchant status → ECommPay operation statuses
	DefaultBase     Duration            `toml:"default_base"`
	DefaultLimit    Duration            `toml:"default_limit"`
	Limits          []Limit             `toml:"limit"`
	Recheck         bool                `toml:"recheck"`
	RecheckMax      int                 `toml:"recheck_max"`
	RecheckInterval Duration            `toml:"recheck_interval"`
	RecheckEvery    Duration            `toml:"recheck_every"`
	// What ECommPay's words mean, over the built-in table
	// (internal/domain/vocabulary.go): an operation type → a kind
	// (purchase, hold, release, payout, refund, refund_reverse, fee,
	// none); an operation status → success, failure or pending; a payment
	// status → those or refunded, partly_refunded.
	OperationTypes    map[string]string `toml:"operation_types"`
	OperationStatuses map[string]string `toml:"operation_statuses"`
	PaymentStatuses   map[string]string `toml:"payment_statuses"`
}

// Vocabulary is ECommPay's vocabulary with the meanings the config gives
// ([reconcile.operation_types], …), built once by Validate (the sync, the
// engine and status read it on every call). The config must be valid; a
// Config never validated gets one built for the call.
func (c *Config) Vocabulary() *domain.Vocabulary {
	if c.vocab != nil {
		return c.vocab
	}
	return c.buildVocabulary()
}

func (c *Config) buildVocabulary() *domain.Vocabulary {
	r := &c.Reconcile
	types := map[string]domain.Kind{}
	for w, k := range r.OperationTypes {
		types[w] = domain.Kind(k)
	}
	op := map[string]domain.Outcome{}
	for w, o := range r.OperationStatuses {
		op[w] = domain.Outcome(o)
	}
	pay := map[string]domain.Outcome{}
	for w, o := range r.PaymentStatuses {
		pay[w] = domain.Outcome(o)
	}
	return domain.Builtin.With(types, op, pay)
}

// Limit is one [[reconcile.limit]]: a payment method's base and limit time.
type Limit struct {
	Method string   `toml:"method"`
	Type   string   `toml:"type"`
	Base   Duration `toml:"base"`
	Limit  Duration `toml:"limit"`
}

// Mail is [mail]: the SMTP server reports are sent through.
type Mail struct {
	Host         string `toml:"host"`
	Port         int    `toml:"port"`
	TLS          string `toml:"tls"` // "starttls", "tls" or "none"
	Username     string `toml:"username"`
	Password     Secret `toml:"password"`
	PasswordFile string `toml:"password_file"`
	From         string `toml:"from"`
	// CAFile is a PEM file of certificates trusted for the server's TLS
	// certificate besides the system's roots (a company's own CA).
	CAFile string `toml:"ca_file"`
	// ZipAbove: attachments larger than this many bytes are sent zipped
	// (0: never).
	ZipAbove int64 `toml:"zip_above"`
	// MaxAge: a message not delivered this long after it was queued is
	// given up (and status shows it).
	MaxAge Duration `toml:"max_age"`
	// RetryMin and RetryMax bound the wait between delivery attempts,
	// doubling from the one to the other.
	RetryMin Duration `toml:"retry_min"`
	RetryMax Duration `toml:"retry_max"`
}

// Daemon is [daemon]: how `reconciled run` is reached.
type Daemon struct {
	// Socket is the control socket's path; "" puts it beside the database
	// (reconciled.sock).
	Socket string `toml:"socket"`
	// Metrics is a loopback host:port for /metrics (Prometheus) and
	// /healthz; "" serves neither.
	Metrics string `toml:"metrics"`
}

// Fees is [fees]: the fees ECommPay charges, and the merchant's contract.
type Fees struct {
	// Sync: a sync also pulls /financial-reporting/operations and stores
	// the fee charged on each operation, with a watermark of its own.
	Sync bool `toml:"sync"`
	// Tolerance: minor units by which a charged fee may differ from its
	// tariff's before it is a fee_mismatch.
	Tolerance int64 `toml:"tolerance"`
	// Tariffs are [[fees.tariff]]: fee = max(min, min(max, amount ×
	// percent + fixed)) for one method's operations of one record type,
	// in one currency or any (internal/fees).
	Tariffs []Tariff `toml:"tariff"`
}

// Chargebacks is [chargebacks].
type Chargebacks struct {
	// Sync: a sync also pulls /chargeback/list and stores each
	// chargeback, with a watermark of its own.
	Sync bool `toml:"sync"`
	// Lookback: how far before its watermark the chargeback sync pulls
	// again, so that a status decided weeks after the dispute opened is
	// seen whichever time the API's interval selects on.
	Lookback Duration `toml:"lookback"`
}

// MaxChargebackLookback bounds chargebacks.lookback: a year and a half
// covers every card scheme's dispute cycle.
const MaxChargebackLookback = 540 * 24 * time.Hour

// Tariff is one [[fees.tariff]].
type Tariff struct {
	Method   string `toml:"method"`
	Type     string `toml:"type"`     // purchase, payout or refund
	Currency string `toml:"currency"` // "" any
	Percent  string `toml:"percent"`  // an exact decimal: "2.5"
	Fixed    int64  `toml:"fixed"`    // minor units
	Min      int64  `toml:"min"`      // minor units; 0 none
	Max      int64  `toml:"max"`      // minor units; 0 none
}

// Contract is [[fees.tariff]] as Validate checked it; a config made in
// code has its tariffs read now (nil when they do not hold).
func (c *Config) Contract() *fees.Contract {
	if c.contract != nil || len(c.Fees.Tariffs) == 0 {
		return c.contract
	}
	var ps Problems
	built := *c
	built.validateFees(func(key, format string, args ...any) { ps = append(ps, Problem{Key: key}) })
	if len(ps) > 0 {
		return nil
	}
	return built.contract
}

// validateFees checks [fees] and builds the contract.
func (c *Config) validateFees(bad func(key, format string, args ...any)) {
	f := &c.Fees
	if f.Tolerance < 0 {
		bad("fees.tolerance", "%d is negative: give the minor units a fee may be off, 0 for none", f.Tolerance)
	}
	var ts []fees.Tariff
	ok := true
	for i, t := range f.Tariffs {
		key := fmt.Sprintf("fees.tariff[%d]", i+1)
		if strings.TrimSpace(t.Method) == "" {
			bad(key+".method", "is empty: the payment method as ECommPay names it, e.g. \"advcash\"")
			ok = false
		}
		if !slices.Contains([]string{domain.RecordPurchase, domain.RecordPayout, domain.RecordRefund}, t.Type) {
			bad(key+".type", "%q: use purchase, payout or refund", t.Type)
			ok = false
		}
		if t.Currency != "" {
			if _, err := domain.Exponent(strings.ToUpper(t.Currency)); err != nil {
				bad(key+".currency", "%q is not an ISO 4217 code; leave it out for any currency", t.Currency)
				ok = false
			}
		}
		p, err := fees.ParsePercent(t.Percent)
		if t.Percent == "" {
			p, err = 0, nil // a fixed fee only
		}
		if err != nil {
			bad(key+".percent", "%v", err)
			ok = false
		}
		for _, v := range []struct {
			name string
			n    int64
		}{{"fixed", t.Fixed}, {"min", t.Min}, {"max", t.Max}} {
			if v.n < 0 {
				bad(key+"."+v.name, "%d is negative: minor units, 0 for none", v.n)
				ok = false
			}
		}
		if t.Max > 0 && t.Max < t.Min {
			bad(key+".max", "%d is below min %d", t.Max, t.Min)
			ok = false
		}
		ts = append(ts, fees.Tariff{Method: t.Method, Type: t.Type, Currency: strings.ToUpper(t.Currency), Percent: p, Fixed: t.Fixed, Min: t.Min, Max: t.Max})
	}
	if !ok {
		return
	}
	contract, at, err := fees.NewContract(ts)
	if err != nil {
		bad(fmt.Sprintf("fees.tariff[%d]", at+1), "%v (method %q, type %q, currency %q)", err, ts[at].Method, ts[at].Type, ts[at].Currency)
		return
	}
	c.contract = contract
}

// Limits is [limits]: how much work one command may make, so that one
// person's file or a burst of commands cannot take the host's memory.
type Limits struct {
	// MaxImportBytes: the largest file import reads (bytes); a larger one,
	// or anything but a regular file, is refused before it is read.
	MaxImportBytes int64 `toml:"max_import_bytes"`
	// MaxUnzippedBytes: what an XLSX file's parts may hold once unzipped,
	// together (an XLSX is a zip).
	MaxUnzippedBytes int64 `toml:"max_unzipped_bytes"`
	// MaxCommands: commands of the control socket the daemon runs at
	// once; the others wait in line.
	MaxCommands int `toml:"max_commands"`
	// MaxQueued: commands that may wait in that line; one more is refused.
	MaxQueued int `toml:"max_queued"`
}

// SocketPath is the control socket's path.
func (c *Config) SocketPath() string {
	if c.Daemon.Socket != "" {
		return c.Daemon.Socket
	}
	return filepath.Join(filepath.Dir(c.Storage.Path), "reconciled.sock")
}

// Log is [log].
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Schedule is one [[schedule]] job of the daemon.
type Schedule struct {
	Job    string   `toml:"job"`    // sync, reconcile, report or export
	Cron   string   `toml:"cron"`   // e.g. "*/10 * * * *" or "CRON_TZ=Europe/Moscow 0 7 * * *"
	To     []string `toml:"to"`     // report: recipients
	Format string   `toml:"format"` // report, export: csv or xlsx
	What   string   `toml:"what"`   // export: operations, reconciliation, summary or settlement
	Dir    string   `toml:"dir"`    // report, export: folder for the files (default: beside the database)
}

// Duration is a time.Duration written as "6m" or "72h".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"90s\", \"6m\" or \"72h\"", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Environment variables that supply secrets when the file does not.
const (
	EnvDataAPIToken  = "RECONCILED_DATA_API_TOKEN"
	EnvDataAPISecret = "RECONCILED_DATA_API_SECRET"
	EnvMailPassword  = "RECONCILED_MAIL_PASSWORD"
)

// Default is the configuration before any file is read.
func Default() *Config {
	return &Config{
		Storage: Storage{Path: "/var/lib/reconciled/reconciled.db"},
		DataAPI: DataAPI{
			BaseURL:     "https://data.ecommpay.com/v1",
			TZ:          "UTC",
			PageSize:    1000,
			Timeout:     Duration{6 * time.Minute},
			Lookback:    Duration{72 * time.Hour},
			MaxAttempts: 6,
		},
		Records: Records{AmountUnit: "major"},
		Reconcile: Reconcile{
			DefaultBase:     Duration{30 * time.Minute},
			DefaultLimit:    Duration{72 * time.Hour},
			Recheck:         true,
			RecheckMax:      100,
			RecheckInterval: Duration{200 * time.Millisecond},
			RecheckEvery:    Duration{time.Hour},
		},
		Mail: Mail{Port: 587, TLS: "starttls", ZipAbove: 5 << 20, MaxAge: Duration{72 * time.Hour},
			RetryMin: Duration{time.Minute}, RetryMax: Duration{time.Hour}},
		Log:         Log{Level: "info", Format: "text"},
		Chargebacks: Chargebacks{Lookback: Duration{120 * 24 * time.Hour}},
		// An honest file of a million lines is about 200 MB as CSV, 60 MB
		// as XLSX unzipping to about 700 MB.
		Limits: Limits{MaxImportBytes: 256 << 20, MaxUnzippedBytes: 1 << 30, MaxCommands: 2, MaxQueued: 16},

		Balances:  Balances{Sync: true},
		Alerts:    defaultAlerts(),
		Callbacks: Callbacks{Path: DefaultCallbackPath, MaxBodyBytes: DefaultCallbackMaxBodyBytes, MaxConnections: DefaultCallbackMaxConnections},
	}
}

// Problem is one thing wrong with a config.
type Problem struct {
	File string
	Line int    // 0 when unknown
	Key  string // e.g. "data_api.page_size" or "schedule[2].cron"
	Msg  string
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a config; it is the error Load and
// Validate return.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads the config file at path over the defaults and validates it,
// credentials aside: no secret file or variable is read (WithSecrets does,
// for the work that uses them). env is the environment, os.Getenv in
// production; it is kept for WithSecrets. On error the result is Problems.
func Load(path string, env func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read the config: %v", err)}}
	}
	return Parse(path, data, env)
}

// LoadAll is Load with every credential resolved and checked too (NeedAll),
// and every problem of both at once: what check-config and the daemon use.
func LoadAll(path string, env func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read the config: %v", err)}}
	}
	return ParseAll(path, data, env)
}

// Parse is Load for a config already in memory; file names it in errors.
func Parse(file string, data []byte, env func(string) string) (*Config, error) {
	c, ps := parseFile(file, data, env)
	if len(ps) > 0 {
		return nil, sortProblems(ps)
	}
	return c, nil
}

// ParseAll is LoadAll for a config already in memory.
func ParseAll(file string, data []byte, env func(string) string) (*Config, error) {
	c, ps := parseFile(file, data, env)
	if c != nil {
		var sps Problems
		c, sps = c.withSecrets(NeedAll)
		// A credential with a problem of its own (a value of the wrong
		// type, left out) is not "missing" as well.
		had := map[string]bool{}
		for _, p := range ps {
			had[p.Key] = true
		}
		for _, p := range sps {
			if !had[p.Key] {
				ps = append(ps, p)
			}
		}
	}
	if len(ps) > 0 {
		return nil, sortProblems(ps)
	}
	return c, nil
}

// sortProblems orders problems as the file reads, those without a line last.
func sortProblems(ps Problems) Problems {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line)
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return ps
}

// parseFile decodes and validates data. The config is nil only for a file
// that is not TOML at all; Problems lists everything else found, type
// errors included: the file is decoded into plain values first, values of
// the wrong type are reported (types.go) and left out, and the rest is
// decoded into the config, so that one wrong value does not hide the
// others.
func parseFile(file string, data []byte, env func(string) string) (*Config, Problems) {
	c := Default()
	c.File, c.env = file, env
	lines := keyLines(data)
	c.lines = lines
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, Problems{decodeProblem(file, err)}
	}
	ps := checkTypes(raw)
	typeKeys := map[string]bool{}
	for _, p := range ps {
		typeKeys[p.Key] = true
	}
	var clean bytes.Buffer
	var md toml.MetaData
	err := toml.NewEncoder(&clean).Encode(raw)
	if err == nil {
		md, err = toml.Decode(clean.String(), c)
	}
	if err != nil {
		// Not foreseen by checkTypes: the decoder's own words, on the
		// file itself (its lines).
		if _, ferr := toml.Decode(string(data), Default()); ferr != nil {
			err = ferr
		}
		return nil, append(ps, decodeProblem(file, err))
	}
	unknown := map[string]bool{}
	seen := map[string]int{}
	for _, k := range md.Undecoded() {
		key := k.String()
		unknown[key] = true
		if len(k) > 1 && unknown[k[:len(k)-1].String()] {
			continue // inside an unknown table, reported already
		}
		// In an array of tables the decoder says "schedule.corn"; the
		// file says which [[schedule]] it was in.
		if list := lines.indexed[key]; seen[key] < len(list) {
			key = list[seen[k.String()]]
			seen[k.String()]++
		}
		ps = append(ps, Problem{Key: key, Msg: "unknown key"})
	}
	if err := c.Validate(); err != nil {
		for _, p := range err.(Problems) {
			// A value of the wrong type is left out, and its default
			// may not do: that is the same problem.
			if !typeKeys[p.Key] && !typeKeys[tableOf(p.Key)] {
				ps = append(ps, p)
			}
		}
	}
	for i := range ps {
		ps[i].File = file
		if ps[i].Line == 0 {
			ps[i].Line = lines.find(ps[i].Key)
		}
	}
	return c, ps
}

// tableOf is the key of the table or list a key is in: "schedule[1]" for
// "schedule[1].cron", "reconcile.status_map" for "reconcile.status_map.paid".
func tableOf(key string) string {
	if i := strings.LastIndexAny(key, ".["); i > 0 {
		return key[:i]
	}
	return key
}

// decodeProblem is a problem the TOML decoder found, in its words but for
// its "toml: " and the value of a secret.
func decodeProblem(file string, err error) Problem {
	p := Problem{File: file, Msg: err.Error()}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		p.Line, p.Key, p.Msg = pe.Position.Line, pe.LastKey, pe.Message
	} else if m := reDecodeError.FindStringSubmatch(p.Msg); m != nil {
		// Type errors are plain errors: `toml: line 8 (last key "k"): …`.
		p.Line, _ = strconv.Atoi(m[1])
		p.Key, p.Msg = m[2], m[3]
	}
	p.Msg = strings.TrimPrefix(p.Msg, "toml: ")
	if isSecretKey(p.Key) {
		// The decoder quotes the bad value; for a secret that is the
		// secret itself.
		p.Msg = "is not a valid TOML string: write it in double quotes"
	}
	return p
}

// Warnings are what a valid config does that is most likely a mistake:
// check-config prints them, and a sync logs them.
func (c *Config) Warnings() Problems {
	var ps Problems
	if u, err := url.Parse(c.DataAPI.BaseURL); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		ps = append(ps, Problem{Key: "data_api.base_url", Msg: fmt.Sprintf("plain http to %s, which is not this host: the token and every operation travel unencrypted; use https", u.Hostname())})
	}
	ps = append(ps, c.callbackWarnings()...)
	for i := range ps {
		ps[i].File, ps[i].Line = c.File, c.lines.find(ps[i].Key)
	}
	return ps
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// BaseURLRedacted is data_api.base_url to show: a password in it is "xxxxx".
func (d DataAPI) BaseURLRedacted() string {
	if u, err := url.Parse(d.BaseURL); err == nil && u.User != nil {
		return u.Redacted()
	}
	return d.BaseURL
}

// isSecretKey reports whether a config key holds a credential.
func isSecretKey(key string) bool {
	switch key {
	case "data_api.token", "data_api.secret", "mail.password":
		return true
	}
	// callbacks.project[2].secret, or the decoder's callbacks.project.secret
	return strings.HasPrefix(key, "callbacks.project") && strings.HasSuffix(key, ".secret")
}

var reDecodeError = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Jobs the daemon can schedule.
var Jobs = []string{"sync", "reconcile", "report", "export"}

// Validate checks every value but the credentials (WithSecrets checks
// those) and returns Problems naming the keys.
func (c *Config) Validate() error {
	var ps Problems
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Storage.Path == "" {
		bad("storage.path", "is empty: give the database file, e.g. /var/lib/reconciled/reconciled.db")
	}

	d := &c.DataAPI
	if u, err := url.Parse(d.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("data_api.base_url", "%q is not an http(s) URL", d.BaseURL)
	}
	if len(d.Projects) == 0 {
		bad("data_api.projects", "list at least one project id, e.g. projects = [580, 579]")
	}
	seen := map[int64]bool{}
	for _, p := range d.Projects {
		if p <= 0 {
			bad("data_api.projects", "project id %d is not positive", p)
		}
		if seen[p] {
			bad("data_api.projects", "project id %d is listed twice", p)
		}
		seen[p] = true
	}
	if loc, err := time.LoadLocation(d.TZ); err != nil || d.TZ == "" {
		bad("data_api.tz", "%q is not an IANA time zone such as \"UTC\" or \"Europe/Moscow\"", d.TZ)
	} else {
		c.zones.data, c.zones.dataName = loc, d.TZ
	}
	if d.PageSize < 1 || d.PageSize > 1000 {
		bad("data_api.page_size", "%d is not in 1..1000", d.PageSize)
	}
	if d.Timeout.Duration <= 0 {
		bad("data_api.timeout", "must be positive")
	}
	if d.Lookback.Duration < 0 {
		bad("data_api.lookback", "must not be negative")
	}
	if d.Start != "" {
		if _, err := time.Parse(time.DateOnly, d.Start); err != nil {
			bad("data_api.start", "%q is not a date YYYY-MM-DD", d.Start)
		}
	}
	if d.MaxAttempts < 1 || d.MaxAttempts > 100 {
		bad("data_api.max_attempts", "%d is not in 1..100", d.MaxAttempts)
	}
	if d.Fields != nil {
		if _, err := dataapi.ParseFields(d.Fields); err != nil {
			bad("data_api.fields", "%v; leave the key out to ask for all of them", err)
		}
	}

	c.validateRecords(bad)
	c.validateReconcile(bad)

	m := &c.Mail
	if m.Host != "" {
		if m.Port < 1 || m.Port > 65535 {
			bad("mail.port", "%d is not a TCP port", m.Port)
		}
		if !slices.Contains([]string{"starttls", "tls", "none"}, m.TLS) {
			bad("mail.tls", "%q: use \"starttls\", \"tls\" or \"none\"", m.TLS)
		}
		if _, err := mail.ParseAddress(m.From); err != nil {
			bad("mail.from", "%q is not an e-mail address", m.From)
		}
		if m.CAFile != "" {
			if data, err := os.ReadFile(m.CAFile); err != nil {
				bad("mail.ca_file", "cannot read %s: %v", m.CAFile, errors.Unwrap(err))
			} else if !x509.NewCertPool().AppendCertsFromPEM(data) {
				bad("mail.ca_file", "%s holds no PEM certificate", m.CAFile)
			}
		}
		if m.ZipAbove < 0 {
			bad("mail.zip_above", "%d: give a size in bytes, or 0 to never zip", m.ZipAbove)
		}
		if m.RetryMin.Duration < time.Second || m.RetryMax.Duration < m.RetryMin.Duration {
			bad("mail.retry_min", "%s to %s: give 1s or more, and retry_max at least retry_min", m.RetryMin.Duration, m.RetryMax.Duration)
		}
		if m.MaxAge.Duration < time.Minute {
			bad("mail.max_age", "%s is too short to deliver anything: give at least \"1m\"", m.MaxAge.Duration)
		}
	}

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q: use text or json", c.Log.Format)
	}

	if a := c.Daemon.Metrics; a != "" {
		host, port, err := net.SplitHostPort(a)
		ip := net.ParseIP(host)
		switch {
		case err != nil || port == "":
			bad("daemon.metrics", "%q: give host:port, e.g. \"127.0.0.1:9464\"", a)
		case host != "localhost" && (ip == nil || !ip.IsLoopback()):
			bad("daemon.metrics", "%q: metrics are served on a loopback address only (127.0.0.1, ::1 or localhost)", a)
		}
	}
	if p := c.SocketPath(); len(p) > 104 {
		bad("daemon.socket", "%q is %d bytes long; a Unix socket's path takes at most 104: set a shorter one", p, len(p))
	}
	if l := c.Limits; l.MaxImportBytes <= 0 {
		bad("limits.max_import_bytes", "%d: give the largest file import may read, in bytes (default %d)", l.MaxImportBytes, Default().Limits.MaxImportBytes)
	}
	if l := c.Limits; l.MaxUnzippedBytes <= 0 {
		bad("limits.max_unzipped_bytes", "%d: give the most an XLSX file may unzip to, in bytes (default %d)", l.MaxUnzippedBytes, Default().Limits.MaxUnzippedBytes)
	}
	if l := c.Limits; l.MaxCommands < 1 {
		bad("limits.max_commands", "%d: at least 1 command must run", l.MaxCommands)
	}
	if l := c.Limits; l.MaxQueued < 0 {
		bad("limits.max_queued", "%d is negative: 0 refuses a command when max_commands run", l.MaxQueued)
	}

	for i, s := range c.Schedules {
		key := fmt.Sprintf("schedule[%d]", i+1)
		if !slices.Contains(Jobs, s.Job) {
			bad(key+".job", "%q: use one of %s", s.Job, strings.Join(Jobs, ", "))
		}
		if _, err := schedule.Parse(s.Cron); err != nil {
			bad(key+".cron", "%v", err)
		}
		for _, to := range s.To {
			if _, err := mail.ParseAddress(to); err != nil {
				bad(key+".to", "%q is not an e-mail address", to)
			}
		}
		if s.Job == "report" && len(s.To) > 0 && m.Host == "" {
			bad(key+".to", "reports are mailed: set [mail] host")
		}
		if s.Format != "" && s.Format != "csv" && s.Format != "xlsx" {
			bad(key+".format", "%q: use csv or xlsx", s.Format)
		}
		if s.What != "" && (s.Job != "export" || !slices.Contains([]string{"operations", "reconciliation", "summary", "settlement"}, s.What)) {
			bad(key+".what", "%q: an export job takes operations, reconciliation, summary or settlement", s.What)
		}
		if s.Job == "export" && len(s.To) > 0 && m.Host == "" {
			bad(key+".to", "exports are mailed: set [mail] host")
		}
	}
	c.validateFees(bad)
	c.validateAlerts(bad)
	c.validateCallbacks(bad)
	c.validateWeb(bad)
	if lb := c.Chargebacks.Lookback.Duration; lb < 0 || lb > MaxChargebackLookback {
		bad("chargebacks.lookback", "%s is not in 0..%s: give how far back a chargeback's status may still change, e.g. \"2880h\" (120 days)", lb, MaxChargebackLookback)
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// Canonical record columns, statuses and types (docs/commands.md); the records
// package has the same lists.
var (
	recordColumns  = []string{"payment_id", "type", "amount", "currency", "status", "created_at", "provider_payment_id", "operation_id", "project_id", "customer_id", "method"}
	recordStatuses = []string{"paid", "failed", "pending", "refunded"}
	recordTypes    = []string{"purchase", "payout", "refund"}
)

func (c *Config) validateRecords(bad func(key, format string, args ...any)) {
	r := &c.Records
	if r.AmountUnit != "major" && r.AmountUnit != "minor" {
		bad("records.amount_unit", "%q: use \"major\" (1000.00) or \"minor\" (100000)", r.AmountUnit)
	}
	if r.TZ != "" {
		if loc, err := time.LoadLocation(r.TZ); err != nil {
			bad("records.tz", "%q is not an IANA time zone", r.TZ)
		} else {
			c.zones.records, c.zones.recordsName = loc, r.TZ
		}
	}
	for canonical, name := range r.Columns {
		if !slices.Contains(recordColumns, canonical) {
			bad("records.columns."+canonical, "not a column: use one of %s", strings.Join(recordColumns, ", "))
		}
		if strings.TrimSpace(name) == "" {
			bad("records.columns."+canonical, "empty header name")
		}
	}
	checkWords := func(table string, words map[string]string, allowed []string) {
		seen := map[string]string{}
		for word, to := range words {
			if !slices.Contains(allowed, to) {
				bad("records."+table+"."+word, "%q: use one of %s", to, strings.Join(allowed, ", "))
			}
			lw := strings.ToLower(strings.TrimSpace(word))
			if prev, ok := seen[lw]; ok && prev != word {
				bad("records."+table+"."+word, "the same word as %q, up to case", prev)
			}
			seen[lw] = word
		}
	}
	checkWords("statuses", r.Statuses, recordStatuses)
	checkWords("types", r.Types, recordTypes)
}

// asStrings lists the words of kinds or outcomes.
func asStrings[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// quoteKey writes a TOML key as the file would: bare if it can be, else
// quoted ("awaiting foo").
func quoteKey(k string) string {
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return strconv.Quote(k)
		}
	}
	return k
}

func (c *Config) validateReconcile(bad func(key, format string, args ...any)) {
	r := &c.Reconcile
	if r.AmountTolerance < 0 {
		bad("reconcile.amount_tolerance", "%d is negative", r.AmountTolerance)
	}
	checkMeanings := func(table string, words map[string]string, allowed []string) {
		for word, meaning := range words {
			key := "reconcile." + table + "." + quoteKey(word)
			if strings.TrimSpace(word) == "" || word != strings.TrimSpace(word) {
				bad(key, "give the word exactly as ECommPay sends it, without spaces around it")
			}
			if !slices.Contains(allowed, meaning) {
				bad(key, "%q: use one of %s", meaning, strings.Join(allowed, ", "))
			}
		}
	}
	checkMeanings("operation_types", r.OperationTypes, asStrings(domain.Kinds))
	checkMeanings("operation_statuses", r.OperationStatuses, asStrings(domain.OperationOutcomes))
	checkMeanings("payment_statuses", r.PaymentStatuses, asStrings(domain.PaymentOutcomes))
	vocab := c.buildVocabulary()
	c.vocab = vocab
	for status, list := range r.StatusMap {
		if !slices.Contains(recordStatuses, status) || status == "pending" {
			bad("reconcile.status_map."+status, "not a final merchant status: use paid, failed or refunded")
		}
		for _, s := range list {
			if !vocab.Known(domain.FieldOperationStatus, s) {
				bad("reconcile.status_map."+status, "%q is not an ECommPay operation status (%s; or give it a meaning in [reconcile.operation_statuses])",
					s, strings.Join(vocab.Words(domain.FieldOperationStatus), ", "))
			}
		}
	}
	if r.DefaultBase.Duration <= 0 {
		bad("reconcile.default_base", "must be positive")
	}
	if r.DefaultLimit.Duration < r.DefaultBase.Duration {
		bad("reconcile.default_limit", "must not be shorter than default_base")
	}
	for i, l := range r.Limits {
		key := fmt.Sprintf("reconcile.limit[%d]", i+1)
		if strings.TrimSpace(l.Method) == "" {
			bad(key+".method", "empty: give the payment method as ECommPay names it, e.g. \"advcash\"")
		}
		if !slices.Contains(recordTypes, l.Type) {
			bad(key+".type", "%q: use purchase, payout or refund", l.Type)
		}
		if l.Base.Duration < 0 || l.Limit.Duration < 0 || l.Limit.Duration > 0 && l.Limit.Duration < l.Base.Duration {
			bad(key+".limit", "base and limit must not be negative, and limit not shorter than base")
		}
	}
	if r.RecheckMax < 0 {
		bad("reconcile.recheck_max", "%d is negative", r.RecheckMax)
	}
	if r.RecheckInterval.Duration < 0 || r.RecheckEvery.Duration < 0 {
		bad("reconcile.recheck_interval", "must not be negative")
	}
}
