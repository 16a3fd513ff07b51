package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"reconciled/internal/config"
	"reconciled/internal/domain"
	"reconciled/internal/export"
	"reconciled/internal/ledger"
	"reconciled/internal/outbox"
	"reconciled/internal/report"
)

// mailListLimit caps the open exceptions listed in the report's HTML and
// text (mail and -o): the attachment lists them all.
const mailListLimit = 500

// IsReportFile says whether path names a form a report is written as:
// .html (or .htm), .xlsx, .txt, or .csv (the open exceptions).
func IsReportFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm", ".xlsx", ".txt", ".csv":
		return true
	}
	return false
}

// DailyReport is a built report with the items it was built from (the
// CSV form lists the open ones with both sides).
type DailyReport struct {
	*report.Report
	items []domain.Item
	loc   *time.Location
}

// reportData is what reports are built from: the reconciliation of what
// is stored now and the sync state of every project.
type reportData struct {
	items    []domain.Item
	states   []report.SyncState
	unknown  []domain.WordCount // ECommPay words no one gave a meaning
	basis    string             // which stored reconciliation (Stored.Note)
	cbs      []report.ChargebackRow
	balances []report.BalanceReading // each project's latest balances
}

// reportData reads the stored reconciliation (as an export does) and the
// sync states.
func (a *App) reportData(ctx context.Context) (reportData, error) {
	items, stored, err := a.Items(ctx)
	if err != nil {
		return reportData{}, err
	}
	states, err := a.Ledger.SyncStates()
	if err != nil {
		return reportData{}, err
	}
	words, err := a.Ledger.WordCounts()
	if err != nil {
		return reportData{}, err
	}
	cbs, err := a.reportChargebacks()
	if err != nil {
		return reportData{}, err
	}
	balances, err := a.Ledger.Balances()
	return reportData{items: items, states: reportSync(states), unknown: ledger.Unknown(words, a.engine.Vocabulary),
		basis: stored.Note(a.Config.Zone()), cbs: cbs, balances: reportBalances(balances)}, err
}

// reportChargebacks are the stored chargebacks as a report shows them.
func (a *App) reportChargebacks() ([]report.ChargebackRow, error) {
	var out []report.ChargebackRow
	err := a.Ledger.ForEachChargeback(func(sc *ledger.StoredChargeback) error {
		state, _ := sc.State()
		c := report.ChargebackRow{ID: sc.ID, Project: sc.ProjectID, PaymentID: sc.PaymentID, Amount: sc.Amount, Status: sc.Status,
			State: state, ReasonCode: sc.ReasonCode, Opened: sc.CreatedAt, Deadline: sc.Deadline}
		if state != domain.ChargebackOpen {
			// When ECommPay last changed it, else when it was seen so.
			c.Decided = sc.UpdatedAt
			if c.Decided.IsZero() && len(sc.History) > 0 {
				c.Decided = sc.History[len(sc.History)-1].Seen
			}
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// reportSync is what a report shows of the ledger's sync states.
func reportSync(states []ledger.SyncState) []report.SyncState {
	out := make([]report.SyncState, len(states))
	for i, s := range states {
		out[i] = report.SyncState{Project: s.Project, Watermark: s.Watermark, LastAttempt: s.LastAttempt, LastSuccess: s.LastSuccess,
			LastError: s.LastError, LastErrorAt: s.LastErrorAt, Failing: s.Failing(), Operations: s.Operations, NotFinal: s.NotFinal}
	}
	return out
}

// report builds day's report from data and the day's net settlement,
// saying what changed since prev (nil: the first report).
func (data reportData) report(day time.Time, loc *time.Location, now time.Time, settle []report.SettlementRow, prev *report.Previous) *DailyReport {
	r := report.Build(report.Input{Date: day, Location: loc, Now: now, Items: data.items, Sync: data.states, Unknown: data.unknown, Basis: data.basis,
		Settlement: settle, Chargebacks: data.cbs, Balances: data.balances, Previous: prev})
	r.ListLimit = mailListLimit
	return &DailyReport{Report: r, items: data.items, loc: loc}
}

// Report builds the daily report of day (midnight in data_api.tz) from
// the reconciliation of what is stored now, asking the Data API nothing.
// It says what changed since the last report a schedule recorded (any
// schedule's: ledger.LatestReportBaseline), and records nothing itself.
func (a *App) Report(ctx context.Context, day time.Time) (*DailyReport, error) {
	data, err := a.reportData(ctx)
	if err != nil {
		return nil, err
	}
	settle, err := a.settlementOf(ctx, day)
	if err != nil {
		return nil, err
	}
	b, err := a.Ledger.LatestReportBaseline()
	if err != nil {
		return nil, err
	}
	return data.report(day, a.Config.Zone(), a.Now(), settle, previousOf(b, a.Config.Zone())), nil
}

// previousOf is what a report compares with, from what the ledger keeps
// of the previous one (nil: none).
func previousOf(b *ledger.ReportBaseline, loc *time.Location) *report.Previous {
	if b == nil {
		return nil
	}
	p := &report.Previous{At: b.At, Open: make([]report.Seen, len(b.Open))}
	if d, err := domain.ParseDay(b.Day, loc); err == nil {
		p.Day = d
	}
	for i, s := range b.Open {
		p.Open[i] = report.Seen{Key: s.Key(), Code: s.Code, Amount: domain.Money{Amount: s.Amount, Currency: s.Currency}, CreatedAt: s.CreatedAt}
	}
	return p
}

// baselineOf is what the ledger keeps of dr for the next report of
// schedule (its produced prefix).
func baselineOf(dr *DailyReport, schedule string) *ledger.ReportBaseline {
	seen := dr.Seen()
	b := &ledger.ReportBaseline{Schedule: schedule, Day: dr.Day(), At: dr.Now.UTC(), Open: make([]ledger.ReportSeen, len(seen))}
	for i, s := range seen {
		b.Open[i] = ledger.ReportSeen{ProjectID: s.Key.ProjectID, ID: s.Key.ID, Type: s.Key.Type, Part: s.Key.Part, Code: s.Code,
			Amount: s.Amount.Amount, Currency: s.Amount.Currency, CreatedAt: s.CreatedAt.UTC()}
	}
	return b
}

// settlementOf is the net settlement of the operations created on day (a
// midnight in data_api.tz), per project and currency, as a report shows it.
func (a *App) settlementOf(ctx context.Context, day time.Time) ([]report.SettlementRow, error) {
	y, m, d := day.In(a.Config.Zone()).Date()
	next := domain.DayStart(y, m, d+1, a.Config.Zone()) // 23 or 25 hours on a DST change
	s, err := a.Summary(ctx, SummaryRequest{From: day, To: next})
	if err != nil {
		return nil, err
	}
	out := make([]report.SettlementRow, 0, len(s.Settlement))
	for _, r := range s.Settlement {
		out = append(out, report.SettlementRow{Project: r.Project, Currency: r.Currency, Purchases: r.Purchases, Refunds: r.Refunds,
			Payouts: r.Payouts, Fees: r.Fees, Chargebacks: r.Chargebacks, Net: r.Net})
	}
	return out, nil
}

// Yesterday is the day a report is of by default: the one before today in
// data_api.tz.
func (a *App) Yesterday() time.Time { return PreviousDay(a.Now(), a.Config.Zone()) }

// PreviousDay is the day before now's, at midnight in loc.
func PreviousDay(now time.Time, loc *time.Location) time.Time {
	y, mo, dd := now.In(loc).Date()
	return domain.DayStart(y, mo, dd-1, loc)
}

// WriteAs writes the report in the form of ext (IsReportFile): the HTML
// the mail carries, the workbook it attaches, the text, or the open
// exceptions as CSV.
func (dr *DailyReport) WriteAs(w io.Writer, ext string) error {
	switch strings.ToLower(ext) {
	case ".html", ".htm":
		return dr.HTML(w)
	case ".xlsx":
		return export.ReportXLSX(w, dr.Report, export.XLSXOptions{Location: dr.loc})
	case ".csv":
		_, err := export.ReconciliationCSV(w, export.ItemsOf(dr.items), export.ItemFilter{Results: exceptionResults()}, export.CSVOptions{Location: dr.loc})
		return err
	}
	return dr.Text(w)
}

// exceptionResults are the result codes of open exceptions.
func exceptionResults() []string {
	var out []string
	for _, r := range domain.Results {
		if domain.IsException(r) {
			out = append(out, r)
		}
	}
	return out
}

// attachmentName is the file mailed with the report: the workbook, or
// with format csv the open exceptions.
func (dr *DailyReport) attachmentName(format string) string {
	if format == "csv" {
		return "exceptions-" + dr.Day() + ".csv"
	}
	return "report-" + dr.Day() + ".xlsx"
}

// mail makes the report's message for the outbox, rendering its bodies
// and attachment. key names the message: the same key gives the same
// Message-ID.
func (dr *DailyReport) mail(ob *outbox.Outbox, to []string, format, key string, now time.Time) (*ledger.Mail, error) {
	var html, text, att bytes.Buffer
	if err := dr.HTML(&html); err != nil {
		return nil, err
	}
	if err := dr.Text(&text); err != nil {
		return nil, err
	}
	name := dr.attachmentName(format)
	if err := dr.WriteAs(&att, filepath.Ext(name)); err != nil {
		return nil, err
	}
	return ob.Compose(outbox.Letter{Key: key, To: to, Subject: dr.Subject(), Text: text.String(), HTML: html.String(), File: name, Data: att.Bytes()}, now)
}

// SendRequest says where `report --send` mails a report: Defaults fills
// in the report schedule's recipients and format, Check refuses what
// cannot be sent, CheckMailServer a config without a server.
type SendRequest struct {
	To     []string
	Format string // the attachment: xlsx (the report) or csv (the open exceptions); "" is xlsx
	User   string // who sends it
}

// Defaults is r with the first report [[schedule]]'s recipients if r has
// none, and its format if r has none.
func (r SendRequest) Defaults(cfg *config.Config) SendRequest {
	i := slices.IndexFunc(cfg.Schedules, func(s config.Schedule) bool { return s.Job == "report" })
	if i < 0 {
		return r
	}
	if len(r.To) == 0 {
		r.To = cfg.Schedules[i].To
	}
	if r.Format == "" {
		r.Format = cfg.Schedules[i].Format
	}
	return r
}

// Check refuses a report that cannot be sent as r says (a *RequestError):
// an attachment neither xlsx nor csv, no recipient, one that is no e-mail
// address.
func (r SendRequest) Check() error {
	if err := CheckReportFormat(r.Format); err != nil {
		return err
	}
	if len(r.To) == 0 {
		return refuse("to", "", "{send}: no recipients: give {to}, or `to` in the report [[schedule]]")
	}
	for _, to := range r.To {
		if _, err := netmail.ParseAddress(to); err != nil {
			return refuse("to", to, "{to} {%q} is not an e-mail address")
		}
	}
	return nil
}

// CheckReportFormat refuses an attachment format other than xlsx or csv
// ("" is the default).
func CheckReportFormat(format string) error {
	if format != "" && format != "csv" && format != "xlsx" {
		return refuse("format", format, "{format} {%q}: use xlsx or csv")
	}
	return nil
}

// CheckMailServer refuses to send mail on a config without an SMTP server.
func CheckMailServer(cfg *config.Config) error {
	if cfg.Mail.Host == "" {
		return refuse("send", "", "{send}: no SMTP server in the config: set mail.host")
	}
	return nil
}

// SendReport mails dr through a.Outbox: a new message every time, even for
// a day mailed before, delivered at once with whatever else of the outbox
// is due. It returns the message as the outbox holds it and how many
// messages went (its elders too). A message the server refused for good,
// or one that waits for a retry (the daemon's loop, or the next
// SendReport, takes it over), is an error that says so. A report that
// cannot be sent (CheckMailServer, req.Check) queues nothing.
func (a *App) SendReport(ctx context.Context, dr *DailyReport, req SendRequest) (ledger.Mail, int, error) {
	if err := CheckMailServer(a.Config); err != nil {
		return ledger.Mail{}, 0, err
	}
	if err := req.Check(); err != nil {
		return ledger.Mail{}, 0, err
	}
	if a.Outbox == nil {
		return ledger.Mail{}, 0, errors.New("report: no outbox to send through")
	}
	now := a.Now()
	key := fmt.Sprintf("report %s to %s as %s by %s at %s", dr.Day(), strings.Join(req.To, ","), req.Format, req.User, now.UTC().Format(time.RFC3339Nano))
	ml, err := dr.mail(a.Outbox, req.To, req.Format, key, now)
	if err != nil {
		return ledger.Mail{}, 0, err
	}
	// Queued, it wakes the daemon's loop (in the daemon), which takes over
	// the retries after this attempt.
	q, sent, err := a.Outbox.Send(ctx, ml)
	if err != nil {
		return q, sent, err
	}
	switch q.State() {
	case ledger.MailSent:
		return q, sent, nil
	case ledger.MailGivenUp:
		return q, sent, fmt.Errorf("report: the mail server refused the message: %s", q.LastError)
	}
	return q, sent, fmt.Errorf("report: not delivered yet (%s); it stays in the outbox and the daemon, or the next report --send, retries it (see status)", q.LastError)
}

// writeFile writes path through export.Target, never replacing a file of
// a.Protect.
func (a *App) writeFile(path string, write func(io.Writer) error) error {
	t := &export.Target{Path: path, Protect: slices.Clone(a.Protect)}
	return t.Write(write)
}
