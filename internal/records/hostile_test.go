package records

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Kyiv wherever the tests run

	"reconciled/internal/domain"
)

// Files an adversarial review of the import made by hand (a zip written
// part by part, line ends of another system, amounts at int64's edge):
// each was read wrong before its fix.

// rezip writes the zip at path again, each part as edit returns it: its
// bytes, and the size its headers say it unzips to (-1: the true one).
func rezip(t *testing.T, path string, edit func(name string, data []byte) ([]byte, int64)) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		data, declared := edit(f.Name, data)
		if declared < 0 {
			w, err := zw.Create(f.Name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
			continue
		}
		var packed bytes.Buffer
		fw, _ := flate.NewWriter(&packed, flate.BestCompression)
		fw.Write(data)
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(packed.Len()), UncompressedSize64: uint64(declared)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(packed.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(t.TempDir(), "edited.xlsx")
	if err := os.WriteFile(edited, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return edited
}

func ordersSheet(t *testing.T, n int) string {
	t.Helper()
	rows := [][]any{{"payment_id", "type", "amount", "currency", "status"}}
	for i := range n {
		rows = append(rows, []any{fmt.Sprintf("o-%d", i), "purchase", "10.00", "UAH", "paid"})
	}
	return xlsxFile(t, rows)
}

// TestAnXLSXPartThatDoesNotUnzipWholeIsRefused: excelize reads a part
// and drops the error that stops it (a part longer than its zip entry
// says, a damaged deflate stream, a bad checksum), so a damaged sheet was
// read up to where it broke: a sheet of 200 rows cut after its 10th
// imported 10 records and said nothing.
func TestAnXLSXPartThatDoesNotUnzipWholeIsRefused(t *testing.T) {
	path := rezip(t, ordersSheet(t, 200), func(name string, data []byte) ([]byte, int64) {
		if name != "xl/worksheets/sheet1.xml" {
			return data, -1
		}
		i := bytes.Index(data, []byte(`<row r="11"`))
		end := bytes.Index(data[i:], []byte("</row>"))
		return data, int64(i + end + len("</row>")) // the entry says it ends after row 11
	})
	res, err := ReadFile(path, Options{MaxUnzippedBytes: 1 << 30})
	if err == nil {
		t.Fatalf("a damaged sheet was read: %d lines", res.Lines)
	}
	if want := "xl/worksheets/sheet1.xml does not unzip whole"; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "edited.xlsx") {
		t.Errorf("error %q, want the file and %q", err, want)
	}
	// Without a bound on what it unzips to the check is the same.
	if _, err := ReadFile(path, Options{}); err == nil {
		t.Error("a damaged sheet was read without MaxUnzippedBytes")
	}
}

// TestAnXLSXOfTextWithoutMarkupIsRefused: encoding/xml holds a run of
// text (or space) between two tags whole, and copies it: a 300 KB file
// whose sheet is 300 MB of spaces between rows peaked at 1.1 GB (3.7
// times what it unzips to, whatever limits.max_unzipped_bytes allows). No
// spreadsheet writes a megabyte without a '<' (a cell holds at most
// 32,767 characters): such a part is refused, by name, before excelize
// reads it.
func TestAnXLSXOfTextWithoutMarkupIsRefused(t *testing.T) {
	path := rezip(t, ordersSheet(t, 3), func(name string, data []byte) ([]byte, int64) {
		if name == "xl/worksheets/sheet1.xml" {
			data = bytes.Replace(data, []byte("<sheetData>"), append([]byte("<sheetData>"), bytes.Repeat([]byte(" "), maxMarkupGap+1)...), 1)
		}
		return data, -1
	})
	_, err := ReadFile(path, Options{MaxUnzippedBytes: 1 << 30})
	if want := "xl/worksheets/sheet1.xml holds more than 1 MiB without markup"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	// A cell of the most text Excel allows, all of it escaped, is read (in
	// a column the import does not use).
	long := strings.Repeat(`"`, 32767)
	path = xlsxFile(t, [][]any{{"payment_id", "type", "amount", "currency", "status", "note"}, {"o-1", "purchase", "1.00", "UAH", "paid", long}})
	if res, err := ReadFile(path, Options{}); err != nil || res.Lines != 1 {
		t.Errorf("a cell of 32,767 quotes: %v", err)
	}
}

// TestAnAmountOfInt64sMostNegativeIsRefused: -92233720368547758.08 UAH is
// the most negative int64 in kopecks; a refund's or payout's size is its
// negation, which overflows to itself: the record was stored with a
// negative size.
func TestAnAmountOfInt64sMostNegativeIsRefused(t *testing.T) {
	for _, tt := range []struct {
		amount string
		o      Options
	}{
		{"-92233720368547758.08", Options{}},
		{"(92233720368547758.08)", Options{}},
		{"-9223372036854775808", Options{AmountUnit: "minor"}},
	} {
		res, fe := read(t, "r.csv", "payment_id,type,amount,currency,status\nr-1,refund,"+tt.amount+",UAH,refunded\n", tt.o)
		if fe == nil {
			t.Errorf("%s: read as %d", tt.amount, res.Records[0].Amount.Amount)
			continue
		}
		if len(fe.Problems) != 1 || fe.Problems[0].Line != 2 || fe.Problems[0].Column != ColAmount || !strings.Contains(fe.Problems[0].Msg, "not within ±1000000000000000 minor units") {
			t.Errorf("%s: %v", tt.amount, fe)
		}
	}
	// The largest size there is: domain.MaxAmount (the stored sums' bound),
	// refunds written negative included; one more is refused.
	res, fe := read(t, "r.csv", "payment_id,type,amount,currency,status\nr-1,refund,-10000000000000.00,UAH,refunded\n", Options{})
	if fe != nil || res.Records[0].Amount.Amount != domain.MaxAmount {
		t.Errorf("-10000000000000.00: %v %v", res, fe)
	}
	if _, fe := read(t, "r.csv", "payment_id,type,amount,currency,status\nr-1,refund,-10000000000000.01,UAH,refunded\n", Options{}); fe == nil {
		t.Error("-10000000000000.01 is read")
	}
}

// TestCROnlyLineEnds: a CSV whose lines end in a carriage return alone
// (Excel for Mac's "CSV (Macintosh)") was one line to encoding/csv, so the
// file was "no data lines after the header"; its lines are lines, and its
// problems name them.
func TestCROnlyLineEnds(t *testing.T) {
	text := "payment_id,type,amount,currency,status\r" +
		"o-1,purchase,1.00,UAH,paid\r" +
		"\"o\r2\",purchase,2.00,UAH,paid\r" + // a quoted line end stays in its field
		"o-3,purchase,3.00,UAH,paid\r"
	res, fe := read(t, "mac.csv", text, Options{})
	if fe != nil {
		t.Fatal(fe)
	}
	if res.Lines != 3 || len(res.Records) != 3 || res.Records[1].PaymentID != "o\n2" || res.Records[2].PaymentID != "o-3" {
		t.Fatalf("%d lines, %+v", res.Lines, res.Records)
	}
	_, fe = read(t, "mac.csv", strings.Replace(text, "3.00", "x", 1), Options{})
	if fe == nil || len(fe.Problems) != 1 || fe.Problems[0].Line != 5 {
		t.Errorf("a bad last line: %v", fe)
	}
}

// TestANULByteNamesItsLine: the problem of a file with a NUL byte is on
// the NUL's line, as its message says, not on line 1.
func TestANULByteNamesItsLine(t *testing.T) {
	_, fe := read(t, "nul.csv", "payment_id,type,amount,currency,status\no-1,purchase,1.00,UAH,paid\no-2,purch\x00ase,1.00,UAH,paid\n", Options{})
	if fe == nil || len(fe.Problems) != 1 || fe.Problems[0].Line != 3 {
		t.Fatalf("%v", fe)
	}
	if got := fe.Error(); !strings.Contains(got, "nul.csv:3: a NUL byte: ") {
		t.Errorf("%q", got)
	}
}

// TestOverlongFreeTextIsABadLine: a customer_id or method had no bound: a
// file of one 200 MB customer id was stored (a 226 MB database), read
// again by every reconcile, and cut to 32,767 characters without a word
// by the XLSX exports. They are bounded as the ids are.
func TestOverlongFreeTextIsABadLine(t *testing.T) {
	head := "payment_id,type,amount,currency,status,customer_id,method\n"
	long := strings.Repeat("c", MaxIDBytes)
	res, fe := read(t, "r.csv", head+"o-1,purchase,1.00,UAH,paid,"+long+","+long+"\n", Options{})
	if fe != nil || res.Records[0].CustomerID != long || res.Records[0].Method != long {
		t.Fatalf("%d bytes: %v", MaxIDBytes, fe)
	}
	_, fe = read(t, "r.csv", head+"o-1,purchase,1.00,UAH,paid,"+long+"c,x\no-2,purchase,1.00,UAH,paid,x,"+long+"m\n", Options{})
	if fe == nil || len(fe.Problems) != 2 {
		t.Fatalf("%v", fe)
	}
	want := []Problem{{2, ColCustomerID, "1025 bytes long; at most 1024"}, {3, ColMethod, "1025 bytes long; at most 1024"}}
	for i, p := range fe.Problems {
		if p != want[i] {
			t.Errorf("problem %d: %+v, want %+v", i, p, want[i])
		}
	}
}

// cancelAt is a Batch that cancels the reading at its nth record.
type cancelAt struct {
	n      *int
	at     int
	cancel func()
}

func (c cancelAt) Add(int, *domain.Record) {
	if *c.n++; *c.n == c.at {
		c.cancel()
	}
}

// TestACancelledSecondPassSaysSo: the rows of an XLSX read a second time
// (a "1" or "0" in a column read: maybeBoolean) were read to the last
// whatever the context said, and Stream said the file was read: a sheet
// of 300,000 amounts of 1 spends half its reading there.
func TestACancelledSecondPassSaysSo(t *testing.T) {
	rows := [][]any{{"payment_id", "type", "amount", "currency", "status"}}
	for i := range 3 * batchLines {
		rows = append(rows, []any{fmt.Sprintf("o-%d", i), "purchase", 1, "UAH", "paid"})
	}
	path := xlsxFile(t, rows)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	res, err := Stream(ctx, path, Options{}, func() cancelAt { return cancelAt{&n, 10, cancel} }, func(cancelAt) {})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled in the second pass: %+v, %v", res, err)
	}
	if n > 10+2*batchLines {
		t.Errorf("%d rows read after the cancel", n-10)
	}
}

// TestAReaderThatSkipsRowsLearnsOfTheStop: the XLSX reader learnt of a
// stop (Ctrl-C, a problem's end of the records) only when it filled its
// next row, and skips empty rows: Ctrl-C 5 s into a 300 KB sheet of 25,000
// rows of 2,000 empty cells took 44-49 s to end the import. A reader that
// skips rows without end now ends once the reading is stopped.
func TestAReaderThatSkipsRowsLearnsOfTheStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &pipeline{o: &Options{MaxErrors: 10}, ps: &problems{max: 10}, origin: func(b []byte, _ int) []byte { return b },
		sink: sink{newBatch: func() Batch { return &recordList{} }, take: func(Batch) {}}}
	err := p.run(ctx, func(f *feeder) error {
		for f.skipped() { // an endless sheet of empty rows
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}

// TestTimesAtAClockChange: a wall time that a daylight-saving change
// skips or repeats in the books' zone is read as Go's time.Date reads it,
// in a CSV and an XLSX alike (docs/commands.md): in Kyiv 03:30 on
// 2026-03-29 never happened, and is 01:30 UTC (04:30 summer time); 03:30
// on 2026-10-25 happened twice, and is the second, 01:30 UTC.
func TestTimesAtAClockChange(t *testing.T) {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)}
	res, fe := read(t, "r.csv", "payment_id,type,amount,currency,status,created_at\n"+
		"o-1,purchase,1.00,UAH,paid,2026-03-29 03:30:00\no-2,purchase,1.00,UAH,paid,29.03.2026 03:30\n"+
		"o-3,purchase,1.00,UAH,paid,2026-10-25 03:30:00\n", Options{Location: kyiv})
	if fe != nil {
		t.Fatal(fe)
	}
	for i, w := range []time.Time{want[0], want[0], want[1]} {
		if got := res.Records[i].CreatedAt; !got.Equal(w) {
			t.Errorf("CSV line %d: %v, want %v", i+2, got, w)
		}
	}
	path := xlsxFile(t, [][]any{{"payment_id", "type", "amount", "currency", "status", "created_at"},
		{"o-1", "purchase", 1.5, "UAH", "paid", time.Date(2026, 3, 29, 3, 30, 0, 0, time.UTC)},
		{"o-2", "purchase", 1.5, "UAH", "paid", time.Date(2026, 10, 25, 3, 30, 0, 0, time.UTC)}})
	xres, err := ReadFile(path, Options{Location: kyiv})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if got := xres.Records[i].CreatedAt; !got.Equal(w) {
			t.Errorf("XLSX row %d: %v, want %v", i+2, got, w)
		}
	}
}

// TestUTF8WithABadByteIsNotWindows1251: a file that is not valid UTF-8
// was read as Windows-1251 whatever it held, so a UTF-8 file of Russian
// names with one stray byte was stored as mojibake ("Иван" as "Р˜РІР°РЅ")
// without a word. UTF-8 letters outnumbering the bytes that are not UTF-8
// is UTF-8 damaged, refused on the line of its first bad byte; Windows-1251
// text (whose letters are almost never UTF-8) is still read as it.
func TestUTF8WithABadByteIsNotWindows1251(t *testing.T) {
	head := "payment_id;type;amount;currency;status;customer_id\n"
	_, fe := read(t, "u.csv", head+"p-1;purchase;1,00;UAH;paid;Иван Петров\np-2;purchase;1,00;UAH;paid;Ольга\xff\n", Options{})
	if fe == nil || len(fe.Problems) != 1 || fe.Problems[0].Line != 3 || !strings.Contains(fe.Problems[0].Msg, "not UTF-8 (0xFF)") {
		t.Fatalf("%v", fe)
	}
	cp1251 := []byte(head + "p-1;purchase;1,00;UAH;paid;\xd1\xb8\xec\xe8\xed \xc8\xe2\xe0\xed\n") // "Сёмин Иван": its "Сё" is valid UTF-8
	res, err := ReadFile(write(t, "w.csv", cp1251), Options{})
	if err != nil || res.Encoding != "windows-1251" || res.Records[0].CustomerID != "Сёмин Иван" {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestASyntaxProblemSaysWhereOnItsLine: a quote out of place named its
// line only ("bare \" in non-quoted-field"), in lines of a hundred fields;
// it names the character where the reading stopped, counted in letters,
// and the line it is on when a quoted field took it past its own.
func TestASyntaxProblemSaysWhereOnItsLine(t *testing.T) {
	_, fe := read(t, "q.csv", "payment_id;type;amount;currency;status;customer_id\n"+
		"p-1;purchase;1,00;UAH;paid;Ёлка \"x\"\n"+ // a bare quote at the 33rd letter (35th byte)
		"p-2;purchase;1,00;UAH;paid;\"two\nlines\"x\n"+ // the quote that ends it, on the next line, is followed by more
		"p-3;purchase;1,00;UAH;paid;c\n", Options{})
	if fe == nil || len(fe.Problems) != 2 {
		t.Fatalf("%v", fe)
	}
	want := []Problem{{Line: 2, Msg: "bare \" in non-quoted-field (character 33)"}, {Line: 3, Msg: "extraneous or missing \" in quoted-field (line 4, character 6)"}}
	for i, p := range fe.Problems {
		if p != want[i] {
			t.Errorf("problem %d: %+v, want %+v", i, p, want[i])
		}
	}
}

// TestAnAmountTooLargeSaysSo: thirty digits were "not an amount"; they
// are one, too large for the ledger (int64 minor units).
func TestAnAmountTooLargeSaysSo(t *testing.T) {
	for _, tt := range []struct {
		amount string
		o      Options
	}{
		{"123456789012345678901234567890", Options{}},
		{"92233720368547758.08", Options{}},
		{"1 000 000 000 000 000 000,00", Options{}},
		{"123456789012345678901234567890", Options{AmountUnit: "minor"}},
	} {
		_, fe := read(t, "r.csv", "payment_id,type,amount,currency,status\np-1,purchase,\""+tt.amount+"\",UAH,paid\n", tt.o)
		if fe == nil || len(fe.Problems) != 1 || !strings.HasSuffix(fe.Problems[0].Msg, "is out of range") {
			t.Errorf("%s: %v", tt.amount, fe)
		}
	}
}

func TestDecimalIsANumberOnly(t *testing.T) {
	for s, want := range map[string]bool{"1": true, "-1": true, "+1.5": true, "1.": false, ".5": false, "+-1": false, "1.2.3": false, "": false, "-": false, "1e5": false} {
		if decimal(s) != want {
			t.Errorf("decimal(%q) = %v", s, !want)
		}
	}
}
