package web_test

// The adversarial review of the web view (issue 16, "Safe"): each test
// here failed on the view as it landed.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reconciled/internal/web"
)

// rawGet sends one request as written (its Host header too) and returns
// the status.
func rawGet(t *testing.T, addr, path, host string, hdr ...string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
	for i := 0; i+1 < len(hdr); i += 2 {
		req += hdr[i] + ": " + hdr[i+1] + "\r\n"
	}
	io.WriteString(c, req+"\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// DNS rebinding: a web page the finance person opens rebinds its own
// name to 127.0.0.1 and reads the view same-origin. Without credentials
// the view answers only requests that name it by a loopback host.
func TestReviewNoCredentialsNoForeignHost(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	addr := strings.TrimPrefix(ts.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	for _, host := range []string{"evil.example.com", "evil.example.com:" + port, "127.0.0.1.evil.example.com", "localhost.evil.example.com:" + port, "0.0.0.0:" + port, ""} {
		for _, path := range []string{"/exceptions.csv", "/payment?id=p-a", "/"} {
			if got := rawGet(t, addr, path, host); got != http.StatusMisdirectedRequest {
				t.Errorf("Host %q %s: %d, want 421", host, path, got)
			}
		}
	}
	for _, host := range []string{addr, "127.0.0.1", "localhost:" + port, "LocalHost:" + port, "[::1]:" + port, "127.0.0.2:" + port} {
		if got := rawGet(t, addr, "/exceptions.csv", host); got != 200 {
			t.Errorf("Host %q: %d, want 200", host, got)
		}
	}
	// With credentials, any name will do (the reverse proxy's).
	_, ts = serve(t, a, web.Options{Token: "s3cret-token"})
	addr = strings.TrimPrefix(ts.URL, "http://")
	if got := rawGet(t, addr, "/", "reconciled.example.com", "Authorization", "Bearer s3cret-token"); got != 200 {
		t.Errorf("with a token, the proxy's Host: %d", got)
	}
	if got := rawGet(t, addr, "/", "reconciled.example.com"); got != 401 {
		t.Errorf("with a token, no token: %d", got)
	}
}

// The auth scheme's name is case-insensitive (RFC 9110 11.1); the token
// itself is not.
func TestReviewBearerSchemeAnyCase(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{Token: "s3cret-token"})
	for _, c := range []struct {
		auth string
		want int
	}{
		{"bearer s3cret-token", 200},
		{"BEARER s3cret-token", 200},
		{"Bearer S3CRET-TOKEN", 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"Bearers3cret-token", 401},
		{"Basic s3cret-token", 401},
	} {
		res, _ := get(t, "GET", ts.URL+"/", "Authorization", c.auth)
		if res.StatusCode != c.want {
			t.Errorf("Authorization %q: %d, want %d", c.auth, res.StatusCode, c.want)
		}
	}
}

// A credentials file others can read is refused, naming its key: the
// token would be anybody's on the machine.
func TestReviewCredentialsReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		key  string
		mode os.FileMode
		ok   bool
	}{
		{"token_file", 0o600, true},
		{"token_file", 0o640, true}, // a group the service shares (systemd's credentials are 0400 or 0440)
		{"token_file", 0o644, false},
		{"basic_auth_file", 0o604, false},
		{"basic_auth_file", 0o400, true},
	} {
		f := filepath.Join(dir, fmt.Sprintf("%s-%o", c.key, c.mode))
		if err := os.WriteFile(f, []byte("finance:s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f, c.mode); err != nil {
			t.Fatal(err)
		}
		tok, auth := f, ""
		if c.key == "basic_auth_file" {
			tok, auth = "", f
		}
		err := web.Credentials(&web.Options{}, tok, auth, func(string) string { return "" })
		if c.ok && err != nil {
			t.Errorf("%s %o: %v", c.key, c.mode, err)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), "web."+c.key) || !strings.Contains(err.Error(), "others")) {
			t.Errorf("%s %o: %v, want a refusal naming web.%s and who can read it", c.key, c.mode, err, c.key)
		}
	}
}

// Listen itself refuses an address other hosts reach when the server
// has no credentials: whatever the caller checked ("localhost" that
// /etc/hosts sends elsewhere, a name), the bound address decides.
func TestReviewListenRefusesAnOpenAddressWithoutCredentials(t *testing.T) {
	if _, err := web.Listen(web.New(web.Options{}), "0.0.0.0:0"); err == nil || !strings.Contains(err.Error(), "web.listen") {
		t.Errorf("0.0.0.0 without credentials: %v", err)
	}
	ln, err := web.Listen(web.New(web.Options{Token: "t"}), "0.0.0.0:0")
	if err != nil {
		t.Fatalf("0.0.0.0 with a token: %v", err)
	}
	ln.Shutdown(context.Background())
	ln, err = web.Listen(web.New(web.Options{}), "localhost:0")
	if err != nil {
		t.Fatalf("localhost: %v", err)
	}
	ln.Shutdown(context.Background())
}
