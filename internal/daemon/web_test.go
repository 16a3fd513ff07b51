package daemon

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// `run` with [web] listen serves the web view on its open database, says
// where at start, requires the token of web.token_file, and stops it
// with itself.
func TestRunServesTheWebView(t *testing.T) {
	dir, path, db := daemonFolder(t)
	addr := freePort(t)
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("web-token\n"), 0o600)
	cfg, l := openConfig(t, path, db, fmt.Sprintf("[web]\nlisten = %q\ntoken_file = %q\n", addr, token))
	log, stop := startDaemon(t, path, cfg, l)
	if !strings.Contains(log.String(), "web=http://"+addr+"/") {
		t.Errorf("the start line does not say where the web view is:\n%s", log.String())
	}
	get := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get(""); code != 401 {
		t.Errorf("without the token: %d", code)
	}
	if code, body := get("web-token"); code != 200 || !strings.Contains(body, `id="sync"`) {
		t.Errorf("with the token: %d\n%s", code, body)
	}
	// A reload that moves the view is refused; the view goes on.
	writeConfig(t, path, db, fmt.Sprintf("[web]\nlisten = %q\ntoken_file = %q\n", freePort(t), token))
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(t, log, "reload refused: [web]")
	if code, _ := get("web-token"); code != 200 {
		t.Errorf("after a refused reload: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/"); err == nil {
		t.Error("the web view still answers after the daemon stopped")
	}
}
