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
	"sync"
	"testing"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/domain"
	"reconciled/internal/ledger"
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

// stall asks for path and reads only the status line, then stops
// reading: a slow or hostile client. The returned func hangs up.
func stall(t *testing.T, addr, path string) func() {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	line, err := bufio.NewReaderSize(c, 16).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, " 200 ") {
		t.Fatalf("%s: %q", path, line)
	}
	var once sync.Once
	return func() { once.Do(func() { c.Close() }) }
}

// A client that stops reading a download must not hold the database's
// read transaction: bbolt's remap (a write that grows the file) waits
// for every reader, and every reader that comes after waits behind it —
// the daemon's syncs, its status, every page, until the server's write
// timeout (5 minutes) cuts the client. The download is written to a
// file first, and sent from there.
func TestReviewAStalledDownloadDoesNotHoldTheDatabase(t *testing.T) {
	a := bigWorld(t, 40000)
	_, ts := serve(t, a, web.Options{})
	addr := strings.TrimPrefix(ts.URL, "http://")
	hangUp := stall(t, addr, "/exceptions.csv")
	defer hangUp()
	// Grow the file: new operations, page by page, as a sync writes them.
	done := make(chan error, 1)
	go func() {
		at := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
		for p := range 20 {
			var ops []domain.Operation
			for i := range 2000 {
				n := p*2000 + i
				ops = append(ops, sale(uint64(900000+n), fmt.Sprintf("later-%08d", n), "card", at.Add(time.Duration(n)*time.Second), 500, "EUR"))
			}
			if _, err := a.Ledger.UpsertPage(ops, now); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// A guard against the hang, not a measure of speed: the writes take
	// a second or two; held behind the stalled reader they never end.
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		hangUp()
		<-done
		t.Fatal("the writes waited for a client that stopped reading its download")
	}
}

// Downloads are a pass over every stored item each: a few at a time,
// the others are told to come back (503, Retry-After).
func TestReviewDownloadsAreAFewAtATime(t *testing.T) {
	a := bigWorld(t, 40000)
	_, ts := serve(t, a, web.Options{})
	addr := strings.TrimPrefix(ts.URL, "http://")
	for range web.MaxDownloads {
		defer stall(t, addr, "/exceptions.csv")()
	}
	res, body := get(t, "GET", ts.URL+"/exceptions.xlsx")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("a download past %d at once: %d %v\n%.300s", web.MaxDownloads, res.StatusCode, res.Header, body)
	}
	// The pages still answer.
	if res, _ := get(t, "GET", ts.URL+"/exceptions?per=10"); res.StatusCode != 200 {
		t.Errorf("the exceptions page while downloads are under way: %d", res.StatusCode)
	}
}

// Thousands of filter values: the download compares every stored item
// with each (a million items times 3,600 methods is a minute of CPU).
// More than maxValues of one filter is refused (400), on the page and
// the download alike.
func TestReviewThousandsOfFilterValuesAreRefused(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	q := strings.Repeat("method=m&", 3000) + "method=card"
	for _, p := range []string{"/exceptions.csv?", "/exceptions.xlsx?", "/exceptions?"} {
		res, body := get(t, "GET", ts.URL+p+q)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "method") {
			t.Errorf("%s 3001 methods: %d\n%.300s", p, res.StatusCode, body)
		}
	}
	if res, _ := get(t, "GET", ts.URL+"/exceptions.csv?"+strings.Repeat("method=m&", 20)+"method=card"); res.StatusCode != 200 {
		t.Errorf("21 methods: %d", res.StatusCode)
	}
}

// A card number the merchant's books put in a free-text column (the
// method), or a person in a resolution's note, is masked on every page,
// as the mailed report masks the reasons (domain.MaskCardNumbers). The
// ids stay as they are: they are what one searches by.
func TestReviewNoFullCardNumberFromMerchantText(t *testing.T) {
	const pan = "4111 1111 1111 1111"
	a := world(t)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	rec := paid("books-only-card", "visa "+pan, at, 1234, "EUR")
	if _, err := a.Ledger.ImportRecords([]domain.Record{rec}, ledger.Import{At: now, User: "tester", File: "more.csv", Format: "csv", Lines: 1}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Resolve(context.Background(), app.ResolveRequest{ID: "p-c", Reason: "rounding", Note: "customer's card " + pan, User: "anna"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RunReconcile(context.Background(), app.RunRequest{User: "tester"}); err != nil {
		t.Fatal(err)
	}
	_, ts := serve(t, a, web.Options{})
	digits := strings.ReplaceAll(pan, " ", "")
	for _, p := range []string{"/exceptions", "/exceptions?q=books-only", "/payment?id=books-only-card", "/payment?id=p-c", "/"} {
		res, body := get(t, "GET", ts.URL+p)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
		if strings.Contains(body, pan) || strings.Contains(body, digits) {
			t.Errorf("%s: a full card number on the page:\n%s", p, body)
		}
	}
	_, body := get(t, "GET", ts.URL+"/exceptions?q=books-only")
	if !strings.Contains(body, `data-payment-id="books-only-card"`) || !strings.Contains(body, "visa ") {
		t.Errorf("the row is not there to look at:\n%s", body)
	}
}

// A dashboard_url with quotes and markup (config accepts it: it is an
// https URL) stays inside its href; the id in it is escaped.
func TestReviewDashboardURLStaysInItsAttribute(t *testing.T) {
	a := world(t)
	a.Config.Web.DashboardURL = `https://dashboard.example.com/?q={payment_id}" onclick="alert(1)"><script>x</script>`
	_, ts := serve(t, a, web.Options{})
	_, body := get(t, "GET", ts.URL+"/payment?id=p-a")
	_, link, _ := strings.Cut(body, `id="dashboard-link"`)
	link, _, _ = strings.Cut(link, ">")
	if !strings.Contains(link, `href="https://dashboard.example.com/?q=p-a`) || strings.Contains(link, `onclick="`) || strings.Contains(body, "<script>") {
		t.Errorf("the Dashboard link %s", link)
	}
}

// Hostile paths, ids and methods: no file outside the routes, no stack
// trace, no redirect off the host, every method but GET and HEAD 405.
// (These held already; they stay held.)
func TestReviewPathsIdsAndMethods(t *testing.T) {
	a := world(t)
	_, ts := serve(t, a, web.Options{})
	addr := strings.TrimPrefix(ts.URL, "http://")
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/static/..%2F..%2Fetc/passwd", 404},
		{"GET", "/.%5Cevil.com", 404},
		{"GET", "/%2e%2e/%2e%2e/etc/passwd", 404},
		{"GET", "/payment/x", 404},
		{"GET", "/style.css/", 404},
		{"GET", "/payment?id=a%2Fb", 404},
		{"GET", "/payment?id=a%00b", 404},
		{"GET", "/payment?id=" + strings.Repeat("9", 20000), 404},
		{"GET", "/exceptions?per=99999999999999999999999&page=-1", 200},
		{"GET", "/analytics?from=0001-01-01&to=9999-12-31", 200},
		{"OPTIONS", "/", 405}, {"TRACE", "/", 405}, {"CONNECT", "/", 405}, {"PROPFIND", "/", 405}, {"get", "/", 405},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, c.method+" "+c.path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		conn.Close()
		if res.StatusCode != c.want || strings.Contains(string(b), "goroutine") || strings.Contains(string(b), "root:") {
			t.Errorf("%s %.60s: %d, want %d\n%.300s", c.method, c.path, res.StatusCode, c.want, b)
		}
	}
	for _, p := range []string{"//evil.example.com/", "/x/../\\evil.example.com", "/static/../"} {
		conn, _ := net.Dial("tcp", addr)
		io.WriteString(conn, "GET "+p+" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if loc := res.Header.Get("Location"); strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") || strings.Contains(loc, "://") {
			t.Errorf("%s: redirected to %q", p, loc)
		}
	}
}
