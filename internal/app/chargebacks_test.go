package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/domain"
	"reconciled/internal/report"
)

// status and the daily report show the chargebacks: totals by state and
// currency, the open ones by deadline (status: the nearest few; the
// report: all of them, and those decided on its day); the register says
// which payments have one; the settlement counts those not won.
func TestChargebacksShownInStatusReportRegisterAndSettlement(t *testing.T) {
	day := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC) // the report's day, in Berlin from 23:00 UTC before
	at := day.Add(10 * time.Hour)
	a := testApp(t, []domain.Operation{sale(1, "p-1", at, 10000), sale(2, "p-2", at, 20000), sale(3, "p-3", at, 30000)}, nil)
	cbs := []domain.Chargeback{
		{ID: 901, ProjectID: 7, PaymentID: "p-1", OperationID: 1, Amount: domain.Money{Amount: 10000, Currency: "EUR"}, Status: "open",
			ReasonCode: "4837", CreatedAt: at, Deadline: at.Add(72 * time.Hour)},
		{ID: 902, ProjectID: 7, PaymentID: "p-2", Amount: domain.Money{Amount: 5000, Currency: "EUR"}, Status: "lost",
			CreatedAt: at, UpdatedAt: at.Add(2 * time.Hour)},
		{ID: 903, ProjectID: 7, PaymentID: "p-3", Amount: domain.Money{Amount: 30000, Currency: "EUR"}, Status: "won",
			CreatedAt: at, UpdatedAt: at.Add(-48 * time.Hour)}, // decided before the report's day
		{ID: 904, ProjectID: 7, PaymentID: "p-3", Amount: domain.Money{Amount: 100, Currency: "EUR"}, Status: "open", CreatedAt: at},
	}
	if _, err := a.Ledger.UpsertChargebacks(cbs, now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var open []string
	if _, err := a.RunReconcile(ctx, RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}

	st, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"\nchargebacks\n", "open   EUR       2            101.00 EUR", "won    EUR       1            300.00 EUR",
		"lost   EUR       1            50.00 EUR", "  901  payment p-1  100.00 EUR  answer by 2026-11-22 10:00 UTC\n  904  payment p-3  1.00 EUR  no deadline given"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	dr, err := a.Report(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := dr.Text(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	list := text[strings.Index(text, "Chargebacks open"):]
	list = list[:strings.Index(list, "\n\n")]
	if got := strings.Count(list, "\n") - 2; got != 3 { // title, rule, header, then 901, 904, 902
		t.Errorf("%d rows:\n%s", got, list)
	}
	for _, want := range []string{"901", "904", "902", "lost 2026-11-19 13:00", "answer by"} {
		if !strings.Contains(list, want) {
			t.Errorf("the report's chargeback list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "903") {
		t.Errorf("a chargeback won before the report's day is listed:\n%s", list)
	}
	if i, j, k := strings.Index(list, "901"), strings.Index(list, "904"), strings.Index(list, "902"); !(i < j && j < k) {
		t.Errorf("order: open by deadline (none last), then decided:\n%s", list)
	}
	if !strings.Contains(text, "Chargebacks\n-----------") {
		t.Errorf("the report has no chargeback totals:\n%s", text)
	}
	for _, e := range dr.Open {
		if e.Result == domain.ResultChargeback {
			open = append(open, e.PaymentID)
		}
	}
	if strings.Join(open, " ") != "p-1 p-2 p-3" { // 901 open, 902 lost, 904 open: the exceptions
		t.Errorf("open chargeback exceptions of %v", open)
	}
	b.Reset()
	if err := dr.WriteAs(&b, ".xlsx"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Chargebacks")
	if err != nil || len(rows) != 4 {
		t.Fatalf("the workbook's Chargebacks sheet: %d rows, %v", len(rows), err)
	}

	b.Reset()
	if _, err := a.Export(ctx, ExportRequest{What: "operations", Format: "csv"}, &b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if !strings.HasSuffix(lines[0], ",chargeback") || !strings.HasSuffix(lines[1], ",901 open") || !strings.HasSuffix(lines[3], ",903 won; 904 open") {
		t.Errorf("the register:\n%s", b.String())
	}

	s, err := a.Summary(ctx, SummaryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Settlement) != 1 || s.Settlement[0].Chargebacks != 15100 || s.Settlement[0].Net != 60000-15100 {
		t.Errorf("settlement %+v", s.Settlement)
	}
}

// status's chargeback totals stop at the int64 limit instead of wrapping
// (10,000 lost ones at their bound are not a negative total).
func TestStatusChargebackTotalsDoNotWrap(t *testing.T) {
	var rows []report.ChargebackRow
	for i := range 10000 {
		rows = append(rows, report.ChargebackRow{ID: uint64(i + 1), PaymentID: "p", Amount: domain.Money{Amount: domain.MaxChargebackAmount, Currency: "EUR"},
			Status: "lost", State: domain.ChargebackLost})
	}
	var b bytes.Buffer
	if err := writeChargebacks(&b, rows); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "10000") || !strings.Contains(out, "758.07 EUR") || strings.Contains(out, "-") {
		t.Fatalf("status:\n%s", b.String())
	}
}

// The register's chargeback column names the chargebacks of the row's
// payment in the row's project: a payment id is unique within a project
// only, and the engine ties a chargeback to its payment there (a
// chargeback of project 8 is no item of project 7's payment of that id).
func TestRegisterChargebacksAreOfTheRowsProject(t *testing.T) {
	at := time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)
	other := sale(2, "p-1", at, 5000)
	other.ProjectID = 8
	a := testApp(t, []domain.Operation{sale(1, "p-1", at, 10000), other}, nil)
	cb := domain.Chargeback{ID: 901, ProjectID: 8, PaymentID: "p-1", Amount: domain.Money{Amount: 5000, Currency: "EUR"}, Status: "open", CreatedAt: at}
	if _, err := a.Ledger.UpsertChargebacks([]domain.Chargeback{cb}, now); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := a.Export(context.Background(), ExportRequest{What: "operations", Format: "csv"}, &b); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		project, _, _ := strings.Cut(line, ",")
		if want := map[string]string{"7": ",", "8": ",901 open"}[project]; !strings.HasSuffix(line, want) || project == "7" && strings.HasSuffix(line, "901 open") {
			t.Errorf("project %s's row: %s", project, line)
		}
	}
}
