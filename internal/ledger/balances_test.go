package ledger

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

func balance(name string, out bool, amount int64, cur string) domain.Balance {
	return domain.Balance{Name: name, Out: out, Money: domain.Money{Amount: amount, Currency: cur}}
}

// A read replaces the project's reading whole (a balance it does not hold
// is gone), OUT balances first; a failed read keeps the reading and its
// time and records the error; each project keeps its own.
func TestBalancesKeepTheLatestReading(t *testing.T) {
	l := openTemp(t)
	t1, t2, t3 := t0, t0.Add(10*time.Minute), t0.Add(20*time.Minute)
	if rs, err := l.Balances(); err != nil || len(rs) != 0 {
		t.Fatalf("a new database: %+v, %v", rs, err)
	}
	first := []domain.Balance{balance("IN", false, 500, "EUR"), balance("OUT", true, 1010750, "AUD"), balance("OUT", true, -2, "EUR")}
	if err := l.StoreBalances(580, first, t1); err != nil {
		t.Fatal(err)
	}
	if err := l.StoreBalances(579, []domain.Balance{balance("OUT", true, 7, "UZS")}, t1); err != nil {
		t.Fatal(err)
	}
	second := []domain.Balance{balance("OUT", true, 900, "AUD")}
	if err := l.StoreBalances(580, second, t2); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordBalanceError(580, t3, errors.New("/balance/get: HTTP 500")); err != nil {
		t.Fatal(err)
	}
	rs, err := l.Balances()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Project != 579 || rs[1].Project != 580 {
		t.Fatalf("readings %+v", rs)
	}
	r := rs[1]
	if !reflect.DeepEqual(r.Balances, second) || !r.ReadAt.Equal(t2) || !r.LastSuccess.Equal(t2) {
		t.Errorf("580 after a failed read: %+v", r)
	}
	if !r.Failing() || r.LastError != "/balance/get: HTTP 500" || !r.LastErrorAt.Equal(t3) || !r.LastAttempt.Equal(t3) {
		t.Errorf("580's error: %+v", r.Stream)
	}
	if rs[0].Failing() || len(rs[0].Balances) != 1 || rs[0].Balances[0].Amount != 7 {
		t.Errorf("579: %+v", rs[0])
	}

	// The order shown: OUT first, then by name and currency.
	if err := l.StoreBalances(580, first, t3.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	rs, _ = l.Balances()
	want := []domain.Balance{first[1], first[2], first[0]}
	if !reflect.DeepEqual(rs[1].Balances, want) || rs[1].Failing() {
		t.Errorf("order: %+v", rs[1])
	}
}

// A reading with a currency ISO 4217 does not know, or a name and
// currency twice, is refused and the stored one stays.
func TestBalancesRefuseWhatCannotBeShown(t *testing.T) {
	l := openTemp(t)
	good := []domain.Balance{balance("OUT", true, 1, "EUR")}
	if err := l.StoreBalances(580, good, t0); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]domain.Balance{
		{balance("OUT", true, 5, "XYZ")},
		{balance("OUT", true, 5, "EUR"), balance("OUT", true, 6, "EUR")},
	} {
		if err := l.StoreBalances(580, bad, t0.Add(time.Hour)); err == nil {
			t.Errorf("%+v stored", bad)
		}
	}
	rs, err := l.Balances()
	if err != nil || len(rs) != 1 || !reflect.DeepEqual(rs[0].Balances, good) || !rs[0].ReadAt.Equal(t0) {
		t.Fatalf("%+v, %v", rs, err)
	}
}

// A database made before balances has no balances/ bucket until a
// writable open makes it: read-only, it has no balances yet, and neither
// Balances nor Verify calls that damage.
func TestADatabaseFromBeforeBalancesReadsWithoutThem(t *testing.T) {
	path, _ := filled(t)
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return root(tx).DeleteBucket(bucketBalances) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := l.Balances()
	if err != nil || len(rs) != 0 {
		t.Fatalf("Balances: %+v, %v", rs, err)
	}
	rep, err := l.Verify(context.Background(), false)
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("Verify: %+v, %v", rep, err)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "balances") }) {
		t.Errorf("Verify does not say the bucket is not made yet: %v", rep.Warnings)
	}
	l.Close()

	// The next writable open makes it.
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.StoreBalances(580, []domain.Balance{balance("OUT", true, 1, "EUR")}, t0); err != nil {
		t.Fatal(err)
	}
}

// A stored reading that does not decode is damage, named.
func TestADamagedBalanceReadingIsDamage(t *testing.T) {
	l := openTemp(t)
	if err := l.StoreBalances(580, []domain.Balance{balance("OUT", true, 1, "EUR")}, t0); err != nil {
		t.Fatal(err)
	}
	l.db.Update(func(tx *bolt.Tx) error { return root(tx).Bucket(bucketBalances).Put(be64(nil, 580), []byte("{")) })
	_, err := l.Balances()
	var d *DamagedError
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "balances") {
		t.Fatalf("%v", err)
	}
}

// A read that fails at the very time of the last success (a clock that
// stands still, or two reads within its resolution) is still a failure;
// the next success clears it.
func TestABalanceReadFailingAtTheTimeOfTheLastSuccessFails(t *testing.T) {
	l := openTemp(t)
	if err := l.StoreBalances(580, []domain.Balance{balance("OUT", true, 1, "EUR")}, t0); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordBalanceError(580, t0, errors.New("HTTP 503")); err != nil {
		t.Fatal(err)
	}
	rs, _ := l.Balances()
	if !rs[0].Failing() {
		t.Fatalf("not failing: %+v", rs[0])
	}
	if err := l.StoreBalances(580, []domain.Balance{balance("OUT", true, 2, "EUR")}, t0); err != nil {
		t.Fatal(err)
	}
	rs, _ = l.Balances()
	if rs[0].Failing() || rs[0].LastError != "" {
		t.Fatalf("still failing after a success: %+v", rs[0])
	}
}
