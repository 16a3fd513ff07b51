package records

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzImportCSV feeds arbitrary bytes to the CSV importer: it must never
// panic, and a rejection must name lines that exist in the file.
func FuzzImportCSV(f *testing.F) {
	for _, seed := range []string{
		canonicalHeader_ + "o1,purchase,1000.00,UAH,paid,2026-11-20 10:00:00,p,12345678901234567,580,c,advcash\n",
		"payment_id;type;amount;currency;status\no1;purchase;1 000,50;UAH;paid\n",
		"\xEF\xBB\xBFpayment_id\ttype\tamount\tcurrency\tstatus\no1\tpayout\t-5\tEUR\tfailed\n",
		"payment_id,type,amount,currency,status\n\"o1,purchase,1,UAH,paid\n",
		"payment_id;type;amount;currency;status\n\xce\xef\xeb\xe0\xf2\xe0;purchase;1,5;KWD;pending\n",
		"payment_id,type,amount,currency,status,created_at\no,refund,\"1,000.50\",JPY,refunded,31.12.2026 23:59\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := ReadFile(path, Options{MaxErrors: 50})
		var fe *FileError
		switch {
		case err == nil:
			if len(res.Records) == 0 || len(res.Records) > res.Lines {
				t.Fatalf("%d records from %d lines", len(res.Records), res.Lines)
			}
			for _, r := range res.Records {
				if r.ID() == "" || r.Amount.Amount < 0 || r.Type == "" || r.Status == "" {
					t.Fatalf("bad record %+v", r)
				}
			}
		case errors.As(err, &fe):
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, p := range fe.Problems {
				if p.Line < 1 || p.Line > lines+1 {
					t.Fatalf("problem on line %d of a %d-line file: %v", p.Line, lines, p)
				}
			}
			if len(fe.Problems) == 0 && fe.More == 0 {
				t.Fatal("a FileError without problems")
			}
		}
	})
}
