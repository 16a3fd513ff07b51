package syncer

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
)

// An id from upstream too long to be a key part (bbolt refuses keys over
// 32 KiB, and the payment and provider indexes hold the ids) fails its page
// where it enters, naming the operation, the field and the length: nothing
// of that page is stored, never "key too large" with no operation named,
// never the id itself quoted. A sync once the id is fixed stores
// everything.
func TestTooLongIDFailsItsPage(t *testing.T) {
	for _, field := range []string{"payment_id", "provider_payment_id"} {
		t.Run(field, func(t *testing.T) {
			e := newEnv(t, 2000, 5*time.Minute)
			long := strings.Repeat("x", 40000)
			e.fake.SetEdit(func(op *domain.Operation) {
				if op.OperationID%1000 != 450 || op.ProviderPaymentID == "" {
					return
				}
				if field == "payment_id" {
					op.PaymentID = long
				} else {
					op.ProviderPaymentID = long
				}
			})
			res, err := e.syncer.Run(context.Background(), Options{})
			if err == nil {
				t.Fatal("the sync stored an operation with a 40,000-byte id")
			}
			t.Logf("the sync says: %v", err)
			if !errors.Is(err, dataapi.ErrIDTooLong) {
				t.Errorf("err = %v, want ErrIDTooLong", err)
			}
			for _, want := range []string{field, "40000 bytes", "nothing of this page is stored"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %.300s…, want it to say %q", err, want)
				}
			}
			m := regexp.MustCompile(`operation (\d+450)\b`).FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("err = %.300s…, want it to name the operation", err)
			}
			bad, _ := strconv.ParseUint(m[1], 10, 64)
			if _, found, _ := e.ledger.Get(bad); found {
				t.Errorf("operation %d was stored", bad)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("the error is %d bytes long: it quotes the id", len(err.Error()))
			}
			stored := 0
			err = e.ledger.ForEach(context.Background(), ledger.Range{}, func(op *domain.Operation) error {
				stored++
				if len(op.PaymentID) > 1000 || len(op.ProviderPaymentID) > 1000 {
					t.Errorf("operation %d stored with a %d-byte id", op.OperationID, max(len(op.PaymentID), len(op.ProviderPaymentID)))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if stored != res.Operations || stored == 0 || stored >= 2000 {
				t.Errorf("%d operations stored, %d received in whole pages", stored, res.Operations)
			}
			if st, _ := e.ledger.SyncState(580); !strings.Contains(st.LastError, field) || len(st.LastError) > 1000 {
				t.Errorf("the sync state says %.300q (%d bytes)", st.LastError, len(st.LastError))
			}

			e.fake.SetEdit(nil)
			if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
				t.Fatal(err)
			}
			e.assertMirror(t)
		})
	}
}

// The longest id accepted from upstream: 255 characters of four bytes each
// (ECommPay's payment ids are at most 255 characters) are stored and found.
func TestLongestIDIsStored(t *testing.T) {
	e := newEnv(t, 400, 5*time.Minute)
	id := strings.Repeat("𝄞", 255) // 1020 bytes
	var project int64
	e.fake.SetEdit(func(op *domain.Operation) {
		if op.OperationID%1000 == 150 {
			op.PaymentID, op.ProviderPaymentID, project = id, id, op.ProjectID
		}
	})
	if _, err := e.syncer.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	e.assertMirror(t)
	recs, err := e.ledger.ByPayment(project, id)
	if err != nil || len(recs) == 0 {
		t.Errorf("ByPayment of the 1020-byte id: %d, %v", len(recs), err)
	}
	if err := e.ledger.Check(); err != nil {
		t.Fatal(err)
	}
}
