package records

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"reconciled/internal/domain"
)

// What a file may cost to read. An import holds the whole file, then its
// records encoded (and one write transaction) in memory, so its size is
// bounded before anything is read (Options.MaxBytes); an XLSX file is a zip, a few
// megabytes on disk that may unzip to gigabytes, so what its parts hold
// unzipped is bounded too (Options.MaxUnzippedBytes), from the zip's
// directory before excelize opens it (archive/zip refuses a part that
// unzips to more than its directory says). Anything but a regular file is
// refused: /dev/zero never ends, a named pipe blocks the import and cannot
// be read twice (the import hashes the file after reading it).

// LimitError is a file refused for its size before it is read whole.
type LimitError struct {
	Path     string
	Size     int64 // what the file holds, or (Unzipped) its parts unzipped
	Limit    int64
	Unzipped bool
}

func (e *LimitError) Error() string {
	if e.Unzipped {
		return fmt.Sprintf("%s unzips to %s, over limits.max_unzipped_bytes (%s): nothing imported; raise it in the config to import this file",
			domain.CleanName(e.Path), sizeText(e.Size), sizeText(e.Limit))
	}
	return fmt.Sprintf("%s is %s, over limits.max_import_bytes (%s): nothing imported; raise it in the config to import a file this large",
		domain.CleanName(e.Path), sizeText(e.Size), sizeText(e.Limit))
}

// sizeText writes n bytes for a person.
func sizeText(n int64) string {
	if n < 10<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
}

// Check refuses path if it is not a regular file (after symbolic links)
// or, with max > 0, if it holds more than max bytes. It reads nothing.
func Check(path string, max int64) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkInfo(path, fi, max); err != nil {
		return nil, err
	}
	return fi, nil
}

func checkInfo(path string, fi fs.FileInfo, max int64) error {
	if !fi.Mode().IsRegular() {
		kind := "not a file"
		switch m := fi.Mode(); {
		case m.IsDir():
			kind = "a folder"
		case m&fs.ModeNamedPipe != 0:
			kind = "a named pipe"
		case m&fs.ModeSocket != 0:
			kind = "a socket"
		case m&fs.ModeDevice != 0:
			kind = "a device"
		}
		return fmt.Errorf("%s is not a regular file (%s): import reads a CSV or XLSX file", domain.CleanName(path), kind)
	}
	if max > 0 && fi.Size() > max {
		return &LimitError{Path: path, Size: fi.Size(), Limit: max}
	}
	return nil
}

// readAll reads a file of at most max bytes (0: any size), refusing what
// Check refuses; a file that grows past max while it is read is refused
// too.
func readAll(path string, max int64) ([]byte, error) {
	if _, err := Check(path, max); err != nil { // before opening: opening a pipe blocks
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat() // what was opened, should path have changed since
	if err != nil {
		return nil, err
	}
	if err := checkInfo(path, fi, max); err != nil {
		return nil, err
	}
	var r io.Reader = f
	if max > 0 {
		r = io.LimitReader(f, max+1)
	}
	data := make([]byte, 0, fi.Size()+512)
	for {
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
	if max > 0 && int64(len(data)) > max {
		return nil, &LimitError{Path: path, Size: int64(len(data)), Limit: max}
	}
	return data, nil
}

// checkZip refuses an XLSX file whose parts hold more than max bytes
// unzipped, by its zip directory (0: no bound), then reads every part once
// and refuses one that does not unzip whole, or an XML part with a stretch
// of more than maxMarkupGap bytes without a '<':
//
//   - excelize drops the error that stops it reading a part (a part longer
//     than its zip entry says, a damaged deflate stream, a bad checksum) and
//     reads what came before: a damaged sheet gave the rows before the
//     damage, and the import stored them as if they were the file;
//   - encoding/xml holds a run of text between two tags whole, and copies
//     it: a sheet of 300 MB of spaces between its rows (a 300 KB file) made
//     an import of 1.1 GB. A cell holds at most 32,767 characters, a few
//     hundred KB escaped, so no spreadsheet writes a megabyte without a tag.
//
// The reading costs an unzip of the file, a small part of excelize's
// reading of its rows.
func checkZip(path string, max int64) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil // not a zip: excelize says so, in its words
	}
	defer zr.Close()
	if n := sumUnzipped(zr.File); max > 0 && n > max {
		return &LimitError{Path: path, Size: n, Limit: max, Unzipped: true}
	}
	buf := make([]byte, 64<<10)
	for _, f := range zr.File {
		if err := checkPart(f, buf); err != nil {
			return fmt.Errorf("%s: %s %w, nothing imported", domain.CleanName(path), domain.CleanName(f.Name), err)
		}
	}
	return nil
}

// maxMarkupGap is the most bytes an XML part of an XLSX file may hold
// without a '<' (checkZip).
const maxMarkupGap = 1 << 20

// checkPart reads one part of a zip to its end (archive/zip checks its
// size and checksum there).
func checkPart(f *zip.File, buf []byte) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("does not unzip whole (%v): the file is damaged", err)
	}
	defer rc.Close()
	name := strings.ToLower(f.Name)
	markup := strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") || strings.HasSuffix(name, ".vml")
	run := 0 // bytes since the last '<'
	for {
		n, err := rc.Read(buf)
		for p := buf[:n]; markup; {
			i := bytes.IndexByte(p, '<')
			if i < 0 {
				run += len(p)
				break
			}
			if run += i; run > maxMarkupGap {
				break
			}
			run, p = 0, p[i+1:]
		}
		if run > maxMarkupGap {
			return fmt.Errorf("holds more than %d MiB without markup, which no spreadsheet writes", maxMarkupGap>>20)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("does not unzip whole (%v): the file is damaged", err)
		}
	}
}

// sumUnzipped is what files hold unzipped, at most the largest int64.
func sumUnzipped(files []*zip.File) int64 {
	const most = 1<<63 - 1
	var n int64
	for _, f := range files {
		if f.UncompressedSize64 > uint64(most-n) {
			return most
		}
		n += int64(f.UncompressedSize64)
	}
	return n
}
