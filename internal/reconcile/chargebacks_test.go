package reconcile

import (
	"slices"
	"strings"
	"testing"

	"reconciled/internal/domain"
)

// A chargeback's states, one table row each: what item it makes (none
// when won), its code and what its reason says, beside the payment's own
// item, which it leaves as it is.
func TestChargebackStates(t *testing.T) {
	at := now.Add(-5 * day)
	sale := op(1, "p-1", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at)
	record := rec("p-1", domain.RecordPurchase, domain.RecordPaid, 10000, "EUR", at)
	base := domain.Chargeback{ID: 77, ProjectID: sale.ProjectID, PaymentID: "p-1", OperationID: 1, Amount: domain.Money{Amount: 5000, Currency: "EUR"},
		ReasonCode: "4837", CreatedAt: at.Add(day), UpdatedAt: at.Add(day), Deadline: at.Add(11 * day)}
	for _, tc := range []struct {
		status string
		want   string // the item's result, "" for none
		reason []string
	}{
		{"open", domain.ResultChargeback, []string{"chargeback 77 (reason code 4837) of 50.00 EUR on operation 1, opened", ", open (status open); answer by "}},
		{"pre_arbitration", domain.ResultChargeback, []string{", open (status pre_arbitration); answer by"}},
		{"lost", domain.ResultChargeback, []string{", lost ", "(status lost): the amount is taken back; book the loss, then resolve it"}},
		{"accepted", domain.ResultChargeback, []string{"(status accepted): the amount is taken back"}},
		{"won", "", nil},
		{"reversed", "", nil},
		{"under review", domain.ResultChargeback, []string{`status "under review", which reconciled does not know: read as open`}},
	} {
		t.Run(tc.status, func(t *testing.T) {
			cb := base
			cb.Status = tc.status
			out := Run(Input{Operations: []domain.Operation{sale}, Records: []domain.Record{record}, Chargebacks: []domain.Chargeback{cb}}, Config{Now: now})
			var got []domain.Item
			for _, it := range out.Items {
				if it.Part == "chargeback:77" {
					got = append(got, it)
				} else if it.Result != domain.ResultMatched {
					t.Errorf("the payment's own item: %s %s", it.Result, it.Reason)
				}
			}
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("a %s chargeback made %+v", tc.status, got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d chargeback items", len(got))
			}
			it := got[0]
			if it.Result != tc.want || it.Type != domain.RecordPurchase || it.PaymentID != "p-1" || it.OperationID != 1 || it.Provider == nil ||
				it.Provider.OperationType != OpChargeback || it.Provider.OperationStatus != tc.status || it.Amount() != cb.Amount ||
				it.Method != sale.PaymentMethod || !it.CreatedAt.Equal(cb.CreatedAt) || it.Fingerprint == "" {
				t.Fatalf("item %+v, its side %+v", it, it.Provider)
			}
			for _, r := range tc.reason {
				if !strings.Contains(it.Reason, r) {
					t.Errorf("reason %q lacks %q", it.Reason, r)
				}
			}
		})
	}
}

// An open chargeback resolved stays resolved while nothing changes; lost,
// it is seen again (the resolution re-opened); without a deadline the
// reason says none was given.
func TestAResolvedChargebackReopensWhenLost(t *testing.T) {
	at := now.Add(-5 * day)
	sale := op(1, "p-1", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at)
	cb := domain.Chargeback{ID: 78, ProjectID: sale.ProjectID, PaymentID: "p-1", Amount: domain.Money{Amount: 10000, Currency: "EUR"},
		Status: "open", CreatedAt: at.Add(day)}
	in := Input{Operations: []domain.Operation{sale}, Chargebacks: []domain.Chargeback{cb}}
	item := func(in Input) domain.Item {
		t.Helper()
		for _, it := range Run(in, Config{Now: now}).Items {
			if it.Part == cb.Part() {
				return it
			}
		}
		t.Fatal("no chargeback item")
		return domain.Item{}
	}
	open := item(in)
	if !strings.Contains(open.Reason, "ECommPay gives no deadline to answer") || open.Result != domain.ResultChargeback {
		t.Fatalf("open: %s %s", open.Result, open.Reason)
	}
	k := KeyOf(&open)
	in.Resolutions = map[ResolutionKey]Resolution{k: {ProjectID: k.ProjectID, ID: k.ID, Type: k.Type, Part: k.Part, Code: open.Code,
		Reason: "answered", User: "u", At: now, Fingerprint: open.Fingerprint}}
	if it := item(in); it.Result != domain.ResultResolved {
		t.Fatalf("resolved: %s %s", it.Result, it.Reason)
	}
	in.Chargebacks[0].Status = "lost"
	out := Run(in, Config{Now: now})
	if len(out.Reopened) != 1 {
		t.Fatalf("re-opened: %+v", out.Reopened)
	}
	if it := item(in); it.Result != domain.ResultChargeback || !strings.HasPrefix(it.Reason, "re-opened: the data changed since u resolved it") {
		t.Fatalf("lost: %s %s", it.Result, it.Reason)
	}
}

// A chargeback whose payment has no operation that is an item's (not
// synced yet, or of another project) is an item of its own after the
// rest; the items, their order and places do not depend on the input's
// order.
func TestChargebacksWithoutTheirPayment(t *testing.T) {
	at := now.Add(-5 * day)
	sale := op(1, "p-1", domain.OpSale, domain.StatusSuccess, 10000, "EUR", at)
	cbs := []domain.Chargeback{
		{ID: 3, ProjectID: sale.ProjectID + 1, PaymentID: "p-1", Amount: domain.Money{Amount: 100, Currency: "EUR"}, Status: "open", CreatedAt: at},
		{ID: 2, ProjectID: sale.ProjectID, PaymentID: "p-0", Amount: domain.Money{Amount: 200, Currency: "EUR"}, Status: "lost", CreatedAt: at},
		{ID: 1, ProjectID: sale.ProjectID, PaymentID: "p-1", Amount: domain.Money{Amount: 300, Currency: "EUR"}, Status: "open", CreatedAt: at},
		{ID: 4, ProjectID: sale.ProjectID, PaymentID: "p-1", Amount: domain.Money{Amount: 400, Currency: "EUR"}, Status: "open", CreatedAt: at},
	}
	var first []string
	for round := range 2 {
		in := Input{Operations: []domain.Operation{sale}, Chargebacks: slices.Clone(cbs)}
		if round == 1 {
			slices.Reverse(in.Chargebacks)
		}
		out := Run(in, Config{Now: now})
		var got []string
		for i, it := range out.Items {
			got = append(got, it.Part+"|"+string(out.Places[i].Owner)+"|"+strings.ToValidUTF8(out.Places[i].Key, "?"))
		}
		if round == 0 {
			first = got
			continue
		}
		if !slices.Equal(got, first) {
			t.Fatalf("input order changed the items:\n%q\n%q", first, got)
		}
	}
	var parts []string
	for _, g := range first {
		parts = append(parts, strings.Split(g, "|")[0])
	}
	want := []string{"", "chargeback:1", "chargeback:4", "chargeback:2", "chargeback:3"}
	if !slices.Equal(parts, want) {
		t.Fatalf("parts %q, want %q", parts, want)
	}
}
