package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reconciled/internal/domain"
)

// `reconciled web` serves the view of a database read-only until it is
// stopped; its filtered download is what `export --what reconciliation`
// writes with the same filters; another host's address without
// credentials is refused, naming the key.
func TestWebCommand(t *testing.T) {
	w := newWorld(t, 200, 11*time.Minute, "")
	if code, out, errOut := w.run(t, "sync"); code != 0 {
		t.Fatalf("sync: %s %s", out, errOut)
	}
	if code, out, errOut := w.run(t, "reconcile", "--no-recheck"); code != 0 {
		t.Fatalf("reconcile: %s %s", out, errOut)
	}
	if code, _, errOut := w.run(t, "web", "--listen", "0.0.0.0:8088"); code != exitUsage || !strings.Contains(errOut, "web.listen") || !strings.Contains(errOut, "web.token_file") {
		t.Errorf("a public address without credentials: exit %d\n%s", code, errOut)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		m := &Main{Stdout: io.Discard, Stderr: &errb, Getenv: func(string) string { return "" }, Now: func() time.Time { return w.now }}
		done <- m.Run(ctx, []string{"--config", w.config, "web", "--listen", addr})
	}()
	var page string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Get("http://" + addr + "/exceptions")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			page = string(b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reconciled web did not answer: %v\n%s", err, errb.String())
		}
	}
	if !strings.Contains(page, `class="exception"`) {
		t.Fatalf("no exception on the page:\n%s", page)
	}
	res, err := http.Get("http://" + addr + "/exceptions.csv?currency=eur&project=580")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var codes []string
	for _, c := range domain.Results {
		if domain.IsException(c) {
			codes = append(codes, c)
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("reconciled web: exit %d\n%s", code, errb.String())
	}
	file := filepath.Join(w.dir, "exceptions.csv")
	if code, _, errOut := w.run(t, "export", "--what", "reconciliation", "--result", strings.Join(codes, ","),
		"--currency", "eur", "--project", "580", "-o", file); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(want, []byte("\n")) < 2 {
		t.Fatalf("the export has no row: a vacuous comparison\n%s", want)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the download differs from the export:\n%s\nwant\n%s", got, want)
	}
}
