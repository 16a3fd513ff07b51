package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/ledger"
)

// TestADamagedXLSXStoresNothing: a workbook whose sheet's zip entry says
// it ends after its 10th row (of 300) was imported as those rows, exit 0;
// the command refuses it by name, exit 1, and the database keeps what it
// held, its list of imports too.
func TestADamagedXLSXStoresNothing(t *testing.T) {
	w := newWorld(t, 10, time.Minute, "")
	small := filepath.Join(w.dir, "small.csv")
	os.WriteFile(small, []byte("payment_id;type;amount;currency;status\no-first;purchase;10;UAH;paid\n"), 0o600)
	w.mustRun(t, "import", small)

	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"payment_id", "type", "amount", "currency", "status"})
	for i := 2; i <= 301; i++ {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i), &[]any{fmt.Sprintf("o-%d", i), "purchase", "10.00", "UAH", "paid"})
	}
	var whole bytes.Buffer
	if err := f.Write(&whole); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(whole.Bytes()), int64(whole.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var damaged bytes.Buffer
	zw := zip.NewWriter(&damaged)
	for _, part := range zr.File {
		rc, _ := part.Open()
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if part.Name != "xl/worksheets/sheet1.xml" {
			pw, _ := zw.Create(part.Name)
			pw.Write(data)
			continue
		}
		i := bytes.Index(data, []byte(`<row r="11"`))
		cut := i + bytes.Index(data[i:], []byte("</row>")) + len("</row>")
		var packed bytes.Buffer
		fw, _ := flate.NewWriter(&packed, flate.DefaultCompression)
		fw.Write(data)
		fw.Close()
		pw, err := zw.CreateRaw(&zip.FileHeader{Name: part.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(packed.Len()), UncompressedSize64: uint64(cut)})
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(packed.Bytes())
	}
	zw.Close()
	book := filepath.Join(w.dir, "book.xlsx")
	os.WriteFile(book, damaged.Bytes(), 0o600)

	code, out, errOut := w.run(t, "import", book)
	if code != exitFailed || !strings.Contains(errOut, book+": xl/worksheets/sheet1.xml does not unzip whole") || !strings.Contains(errOut, "nothing imported") {
		t.Fatalf("a damaged workbook: exit %d\n%s\n%s", code, out, errOut)
	}
	l, err := ledger.Open(w.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n, err := l.RecordCount(); err != nil || n != 1 {
		t.Errorf("%d records stored (%v), want the first file's one", n, err)
	}
	if imports, err := l.Imports(); err != nil || len(imports) != 1 || imports[0].File != "small.csv" {
		t.Errorf("imports %+v (%v), want small.csv's only", imports, err)
	}
}
