package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// secretEnv are the environment variables that hold or lead to a secret.
var secretEnv = []string{"CREDENTIALS_DIRECTORY", "RECONCILED_DATA_API_TOKEN", "RECONCILED_DATA_API_SECRET", "RECONCILED_MAIL_PASSWORD"}

// secretLookups are the variables of secretEnv among asked.
func secretLookups(asked []string) []string {
	var out []string
	for _, k := range asked {
		if slices.Contains(secretEnv, k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// credentialWorld is a world whose config takes its secrets as the
// README's systemd setup does, from files in $CREDENTIALS_DIRECTORY, with
// a mail server that needs a password; creds is that folder, filled.
func credentialWorld(t *testing.T) (w *world, creds string) {
	t.Helper()
	w = newWorld(t, 300, time.Minute, "")
	w.setNow(time.Now()) // a daemon child's clock is real
	creds = t.TempDir()
	for name, value := range map[string]string{"data_api_token": testToken, "data_api_secret": testSecret, "mail_password": "mail-Pa55word"} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		fmt.Sprintf("token = %q", testToken), `token_file = "${CREDENTIALS_DIRECTORY}/data_api_token"`,
		fmt.Sprintf("secret = %q", testSecret), `secret_file = "${CREDENTIALS_DIRECTORY}/data_api_secret"`,
	).Replace(string(data))
	text += `[mail]
host = "127.0.0.1"
port = 1
username = "reconciled"
password_file = "${CREDENTIALS_DIRECTORY}/mail_password"
from = "reconciled@example.com"
`
	writeConfig(t, w, text)
	return w, creds
}

// runEnv runs reconciled in-process with env as its environment; asked
// lists the variables it looked up.
func (w *world) runEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string, asked []string) {
	t.Helper()
	var out, errb bytes.Buffer
	var mu sync.Mutex
	m := &Main{Stdout: &out, Stderr: &errb, Now: func() time.Time { return w.now }, Getenv: func(k string) string {
		mu.Lock()
		asked = append(asked, k)
		mu.Unlock()
		return env[k]
	}}
	code = m.Run(context.Background(), append([]string{"--config", w.config}, args...))
	return code, out.String(), errb.String(), asked
}

// A command reads exactly the secrets its work uses: by hand, beside the
// README's systemd setup (where only the service has
// $CREDENTIALS_DIRECTORY), everything but talking to the Data API or
// sending mail works, and what does not says why.
func TestCommandsReadOnlyTheSecretsTheirWorkUses(t *testing.T) {
	w, creds := credentialWorld(t)
	withCreds := map[string]string{"CREDENTIALS_DIRECTORY": creds}
	if code, out, errOut, _ := w.runEnv(t, withCreds, "sync"); code != 0 {
		t.Fatalf("sync with the credentials: exit %d\n%s\n%s", code, out, errOut)
	}
	dir := t.TempDir()
	books := filepath.Join(dir, "books.csv")
	os.WriteFile(books, []byte("payment_id,type,amount,currency,status,created_at\nnot-at-provider,purchase,10.00,UAH,paid,2026-10-01 10:00:00\n"), 0o600)
	day := w.now.Add(-24 * time.Hour).Format(time.DateOnly)
	for _, args := range [][]string{
		{"status"},
		{"import", books},
		{"reconcile", "--no-recheck"},
		{"resolve", "not-at-provider", "--reason", "test"},
		{"unresolve", "not-at-provider"},
		{"export", "--what", "operations", "--format", "csv"},
		{"export", "--what", "reconciliation", "--format", "xlsx", "-o", filepath.Join(dir, "r.xlsx")},
		{"export", "--what", "audit", "--format", "csv"},
		{"stats"},
		{"report", "--date", day},
		{"report", "--date", day, "-o", filepath.Join(dir, "report.html")},
		{"backup", filepath.Join(dir, "copy.db")},
	} {
		code, _, errOut, asked := w.runEnv(t, nil, args...)
		if code != 0 {
			t.Errorf("%v without the credentials: exit %d\n%s", args, code, errOut)
		}
		if k := secretLookups(asked); k != nil {
			t.Errorf("%v looked up %v", args, k)
		}
	}
	for _, tt := range []struct {
		args         []string
		want, unwant []string
	}{
		{[]string{"sync"}, []string{"data_api.token_file: $CREDENTIALS_DIRECTORY is not set", "data_api.secret_file:", "go through its socket"}, []string{"mail"}},
		{[]string{"reconcile"}, []string{"data_api.token_file:", "data_api.secret_file:"}, []string{"mail"}},
		{[]string{"report", "--date", day, "--send", "--to", "a@example.com"}, []string{"mail.password_file: $CREDENTIALS_DIRECTORY is not set"}, []string{"data_api"}},
		{[]string{"check-config"}, []string{"data_api.token_file:", "data_api.secret_file:", "mail.password_file:"}, nil},
		{[]string{"run"}, []string{"data_api.token_file:", "data_api.secret_file:", "mail.password_file:"}, nil},
	} {
		code, _, errOut, _ := w.runEnv(t, nil, tt.args...)
		if code != exitUsage {
			t.Errorf("%v without the credentials: exit %d, want 2\n%s", tt.args, code, errOut)
		}
		for _, s := range tt.want {
			if !strings.Contains(errOut, s) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, s, errOut)
			}
		}
		for _, s := range tt.unwant {
			if strings.Contains(errOut, s) {
				t.Errorf("%v: stderr names %q, which its work does not use:\n%s", tt.args, s, errOut)
			}
		}
	}
	if code, out, errOut, _ := w.runEnv(t, withCreds, "check-config"); code != 0 || strings.Contains(out+errOut, testToken) || strings.Contains(out+errOut, testSecret) {
		t.Errorf("check-config with the credentials: exit %d\n%s\n%s", code, out, errOut)
	}

	// No secret configured at all: what does not call the API still works.
	data, _ := os.ReadFile(w.config)
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "_file") {
			kept = append(kept, line)
		}
	}
	writeConfig(t, w, strings.Join(kept, "\n"))
	for _, args := range [][]string{{"status"}, {"export", "--what", "operations", "--format", "csv"}, {"stats"}} {
		if code, _, errOut, _ := w.runEnv(t, nil, args...); code != 0 {
			t.Errorf("%v without any secret: exit %d\n%s", args, code, errOut)
		}
	}
	if code, _, errOut, _ := w.runEnv(t, nil, "sync"); code != exitUsage || !strings.Contains(errOut, "data_api.token: missing") || !strings.Contains(errOut, "data_api.secret: missing") {
		t.Errorf("sync without any secret: exit %d\n%s", code, errOut)
	}
}

// Through the daemon's socket a command reads no secret at all: the
// daemon has them.
func TestCommandsThroughTheDaemonReadNoSecret(t *testing.T) {
	w, creds := credentialWorld(t)
	sd := newNotifySocket(t)
	cmd := exec.Command(os.Args[0], "--config", w.config, "run")
	cmd.Env = append(os.Environ(), "RECONCILED_TEST_CHILD=1", "NOTIFY_SOCKET="+sd.path, "CREDENTIALS_DIRECTORY="+creds)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "READY=1", out, func() bool { return sd.count("READY=1") == 1 })
	for _, args := range [][]string{
		{"sync"},
		{"status"},
		{"reconcile"},
		{"export", "--what", "operations", "--format", "csv"},
		{"stats"},
	} {
		code, stdout, errOut, asked := w.runEnv(t, nil, args...)
		if code != 0 {
			t.Errorf("%v through the daemon: exit %d\n%s\n%s", args, code, stdout, errOut)
		}
		if k := secretLookups(asked); k != nil {
			t.Errorf("%v through the daemon looked up %v", args, k)
		}
	}
	if code, stdout, _, _ := w.runEnv(t, nil, "status"); code != 0 || !strings.Contains(stdout, "580") {
		t.Errorf("status after the forwarded sync: exit %d\n%s", code, stdout)
	}
	stopDaemon(t, cmd, out)
	if !strings.Contains(out.String(), "control socket: command") {
		t.Errorf("the commands did not go through the daemon:\n%s", out.String())
	}
}
