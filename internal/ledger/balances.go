package ledger

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"reconciled/internal/domain"
)

// The latest reading of each project's balances (/balance/get):
// balances/, project id (8) → BalanceReading as JSON: the balances of the
// last successful read with the time read, and how the reads went (the
// last attempt, success and error, as a sync stream's). A successful read
// replaces the project's reading whole, in one transaction: a balance the
// new reading does not hold is gone, never shown at its old amount beside
// the new ones. A failed read changes only the error: the last reading
// stays, with the time it was read.

var bucketBalances = []byte("balances")

// BalanceReading is one project's latest balances and how reading them
// went.
type BalanceReading struct {
	Project int64
	// ReadAt is when Balances were read (the last successful read); zero:
	// never read.
	ReadAt time.Time
	// Balances are those of that read, payout (OUT) ones first, then by
	// name and currency.
	Balances []domain.Balance
	// Stream holds the last attempt, the last success and the last error
	// (its Watermark is not used). A success clears the error.
	Stream
}

// Failing reports whether the last read failed: there is an error, and a
// success clears it. Not Stream's rule (an error newer than the last
// success): a read that fails within the clock's resolution of the one
// before, or under a clock that stands still, is a failure all the same.
func (r BalanceReading) Failing() bool { return r.LastError != "" }

// storedReading is a BalanceReading as balances/ stores it.
type storedReading struct {
	Project  int64           `json:"project"`
	ReadAt   time.Time       `json:"read_at,omitzero"`
	Balances []storedBalance `json:"balances,omitempty"`
	Stream
}

type storedBalance struct {
	Name     string `json:"name"`
	Out      bool   `json:"out,omitempty"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

func (s storedReading) reading() BalanceReading {
	r := BalanceReading{Project: s.Project, ReadAt: s.ReadAt, Stream: s.Stream}
	for _, b := range s.Balances {
		r.Balances = append(r.Balances, domain.Balance{Name: b.Name, Out: b.Out, Money: domain.Money{Amount: b.Amount, Currency: b.Currency}})
	}
	return r
}

// SortBalances puts balances in the order they are shown: payout (OUT)
// ones first, then by name and currency.
func SortBalances(bs []domain.Balance) {
	slices.SortStableFunc(bs, func(a, b domain.Balance) int {
		if a.Out != b.Out {
			if a.Out {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Currency, b.Currency))
	})
}

// StoreBalances stores a successful read of project's balances at at,
// replacing its previous reading whole, in one transaction. A balance in a
// currency ISO 4217 does not know, or one name and currency twice, is
// refused, and nothing is stored.
func (l *Ledger) StoreBalances(project int64, bs []domain.Balance, at time.Time) error {
	bs = slices.Clone(bs)
	SortBalances(bs)
	stored := make([]storedBalance, len(bs))
	for i, b := range bs {
		if _, err := domain.Exponent(b.Currency); err != nil {
			return fmt.Errorf("balance %q: %w", b.Name, err)
		}
		if i > 0 && bs[i-1].Name == b.Name && bs[i-1].Currency == b.Currency {
			return fmt.Errorf("balance %q in %s twice", b.Name, b.Currency)
		}
		stored[i] = storedBalance{Name: b.Name, Out: b.Out, Currency: b.Currency, Amount: b.Amount}
	}
	return l.updateReading(project, func(s *storedReading) {
		s.ReadAt, s.Balances = at.UTC(), stored
		s.record(at, nil)
		s.LastError, s.LastErrorAt = "", time.Time{}
	})
}

// RecordBalanceError notes a failed read of project's balances at at: the
// error is kept, the previous reading stays as it was.
func (l *Ledger) RecordBalanceError(project int64, at time.Time, readErr error) error {
	return l.updateReading(project, func(s *storedReading) { s.record(at, readErr) })
}

func (l *Ledger) updateReading(project int64, fn func(*storedReading)) error {
	return l.update(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketBalances)
		k := be64(nil, uint64(project))
		s := storedReading{Project: project}
		if v := b.Get(k); v != nil {
			if err := decodeEntry(bucketBalances, k, v, &s); err != nil {
				return err
			}
		}
		fn(&s)
		v, err := json.Marshal(s)
		if err != nil {
			return err
		}
		return b.Put(k, v)
	})
}

// Balances returns every project's latest reading, by project id; none
// from a database made before balances (opened read-only, it has no
// balances/ bucket until a command writes to it).
func (l *Ledger) Balances() ([]BalanceReading, error) {
	var out []BalanceReading
	err := l.view(func(tx *bolt.Tx) error {
		b := root(tx).Bucket(bucketBalances)
		if b == nil { // a database from before balances, read-only: none yet
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return corrupt("%s: the key %x is not a project id", bucketBalances, k)
			}
			var s storedReading
			if err := decodeEntry(bucketBalances, k, v, &s); err != nil {
				return err
			}
			s.Project = int64(binary.BigEndian.Uint64(k))
			out = append(out, s.reading())
			return nil
		})
	})
	return out, err
}
