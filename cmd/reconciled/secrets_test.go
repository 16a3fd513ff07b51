package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"reconciled/internal/fakeapi"
)

// An upstream error that echoes the request (token, signature and all)
// leaves no credential in the command's error, the log, `status` or the
// database file: the client redacts it where it comes in.
func TestUpstreamEchoShowsNoCredential(t *testing.T) {
	for _, status := range []int{400, 503} {
		w := newWorld(t, 100, time.Minute, "")
		w.fake.SetFaults(fakeapi.Faults{EchoStatus: status})
		code, out, errOut := w.run(t, "sync")
		if code != exitFailed {
			t.Fatalf("HTTP %d: sync exit %d, want 1\n%s\n%s", status, code, out, errOut)
		}
		if !strings.Contains(errOut, "level=ERROR") || !strings.Contains(errOut, "cannot process the request") || !strings.Contains(errOut, "<redacted>") {
			t.Errorf("HTTP %d: stderr lacks the logged, redacted upstream message:\n%s", status, errOut)
		}
		_, statusOut, _ := w.run(t, "status")
		if !strings.Contains(statusOut, "cannot process the request") {
			t.Errorf("HTTP %d: status does not show the last error:\n%s", status, statusOut)
		}
		db, err := os.ReadFile(w.db)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(db, []byte("cannot process the request")) {
			t.Errorf("HTTP %d: the database does not hold the last error, so nothing was tested", status)
		}
		for _, cred := range []string{testToken, testSecret} {
			for name, text := range map[string]string{"sync's output": out + errOut, "status": statusOut, "the database file": string(db)} {
				if strings.Contains(text, cred) {
					t.Errorf("HTTP %d: %s shows %s", status, name, cred)
				}
			}
		}
	}
}
