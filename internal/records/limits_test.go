package records

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestReadFileRefusesWhatIsNotAFile: a named pipe, a folder or a device
// (/dev/zero behind a .csv name) is refused before anything is read: a
// pipe would block the import, /dev/zero grow it until the host runs out
// of memory.
func TestReadFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "books.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "folder.csv")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.csv")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	zeroXLSX := filepath.Join(dir, "zero.xlsx")
	if err := os.Symlink("/dev/zero", zeroXLSX); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, kind string }{{folder, "a folder"}, {fifo, "a named pipe"}, {zero, "a device"}, {zeroXLSX, "a device"}} {
		_, err := ReadFile(tt.path, Options{MaxBytes: 1 << 20})
		if err == nil || !strings.Contains(err.Error(), tt.path+" is not a regular file ("+tt.kind+")") {
			t.Errorf("%s: %v", tt.path, err)
		}
	}
}

// TestReadFileStopsAtMaxBytes: a file over MaxBytes is refused with its
// size, the limit and the key that raises it; one at the limit is read.
func TestReadFileStopsAtMaxBytes(t *testing.T) {
	line := "order-1,purchase,10.00,UAH,paid,2026-11-20 10:00:00,,,,,\n"
	text := canonicalHeader_ + strings.Repeat(line, 100)
	path := write(t, "books.csv", []byte(text))
	_, err := ReadFile(path, Options{MaxBytes: int64(len(text)) - 1})
	var le *LimitError
	if !errors.As(err, &le) || le.Size != int64(len(text)) || le.Limit != int64(len(text))-1 {
		t.Fatalf("one byte over: %v", err)
	}
	want := fmt.Sprintf("%s is %d bytes, over limits.max_import_bytes (%d bytes): nothing imported", path, len(text), len(text)-1)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if res, err := ReadFile(path, Options{MaxBytes: int64(len(text))}); err != nil || res.Lines != 100 {
		t.Errorf("at the limit: %v", err)
	}
}

// TestXLSXUnzippedLimit: an XLSX file is a zip, small on disk and large
// unzipped; what its parts hold unzipped is bounded too.
func TestXLSXUnzippedLimit(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"payment_id", "type", "amount", "currency", "status"})
	for i := 2; i <= 3000; i++ {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i), &[]any{fmt.Sprintf("order-%d", i), "purchase", "10.00", "UAH", "paid"})
	}
	path := filepath.Join(t.TempDir(), "books.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	unzipped := unzippedSize(t, path)
	fi, _ := os.Stat(path)
	_, err := ReadFile(path, Options{MaxBytes: fi.Size(), MaxUnzippedBytes: unzipped - 1})
	var le *LimitError
	if !errors.As(err, &le) || !le.Unzipped || le.Size != unzipped {
		t.Fatalf("one byte over unzipped: %v", err)
	}
	if want := fmt.Sprintf("%s unzips to %d bytes, over limits.max_unzipped_bytes (%d bytes)", path, unzipped, unzipped-1); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if _, err := ReadFile(path, Options{MaxBytes: fi.Size() - 1, MaxUnzippedBytes: unzipped}); !errors.As(err, &le) || le.Unzipped {
		t.Errorf("over MaxBytes on disk: %v", err)
	}
	if res, err := ReadFile(path, Options{MaxBytes: fi.Size(), MaxUnzippedBytes: unzipped}); err != nil || res.Lines != 2999 {
		t.Errorf("at the limits: %v", err)
	}
}

// unzippedSize is what the zip at path holds unzipped.
func unzippedSize(t *testing.T, path string) int64 {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var n int64
	for _, f := range zr.File {
		n += int64(f.UncompressedSize64)
	}
	return n
}
