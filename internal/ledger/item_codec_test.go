package ledger

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// Every field of an item comes back as stored, words of the table and
// not, times zero and not, a side or none.
func TestStoredItemRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 3, 4, 5, 6, 789, time.UTC)
	items := []domain.Item{
		{Result: domain.ResultMatched, Code: domain.ResultMatched, MatchedBy: domain.ByPaymentID, PaymentID: "p-1", Type: domain.RecordPurchase,
			Merchant:  &domain.Record{Amount: domain.Money{Amount: -12345, Currency: "EUR"}, Status: domain.RecordPaid},
			Provider:  &domain.Operation{OperationID: 1 << 60, OperationType: "sale", OperationStatus: "success", SumInitial: domain.Money{Amount: 12345, Currency: "XYZ"}},
			ProjectID: 580, OperationID: 1 << 60, ProviderPaymentID: "v-1", Method: "odd method", CreatedAt: at, Reason: "amount, currency and status agree"},
		{Result: domain.ResultResolved, Code: "a code no table knows", PaymentID: "", Type: "a type", Part: "record:abc",
			Merchant: &domain.Record{Status: "weird"}, Reason: strings.Repeat("long reason ", 40), Fingerprint: "0123456789abcdef01234567",
			Due: at.Add(time.Hour), AskAt: at.Add(time.Minute), AskMethod: "card", ProjectID: -3},
		{Result: domain.ResultMissingInRecords, Code: domain.ResultMissingInRecords, Provider: &domain.Operation{OperationType: "refund"}},
	}
	for i := range items {
		var got domain.Item
		var rec domain.Record
		var op domain.Operation
		if err := decodeItem(appendItem(nil, &items[i]), &got, &rec, &op); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, items[i]) {
			t.Errorf("item %d:\n got  %+v\n want %+v", i, got, items[i])
		}
	}
	if err := decodeItem([]byte{itemVersion - 1, 0, 0, 0, 0, 0, 0, 0, 0}, new(domain.Item), new(domain.Record), new(domain.Operation)); err == nil {
		t.Error("an item of an older layout decodes")
	}
}
