package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const callbackSecret = "project-580-callback-key"

const withCallbacks = minimal + `
[callbacks]
listen = "127.0.0.1:8089"

[[callbacks.project]]
id = 580
secret = "` + callbackSecret + `"
`

func TestCallbacksConfig(t *testing.T) {
	c, ps := parse(t, withCallbacks)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	cb := c.Callbacks
	if cb.Listen != "127.0.0.1:8089" || cb.Path != "/ecommpay/callback" || cb.MaxBodyBytes != 64<<10 || cb.MaxConnections != 128 {
		t.Errorf("callbacks %+v", cb)
	}
	if s, ok := cb.SecretOf(580); !ok || string(s) != callbackSecret {
		t.Errorf("secret of 580: %v", ok)
	}
	if _, ok := cb.SecretOf(579); ok {
		t.Error("a secret for a project not listed")
	}
	if !c.Callbacks.Enabled() || Default().Callbacks.Enabled() {
		t.Error("Enabled: on when listen is set, off by default")
	}
}

// Each project's secret from its value, its file (systemd's credentials
// directory too) or its own environment variable; a missing one names all
// three.
func TestCallbackSecretSources(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cb579"), []byte("from-a-file\n"), 0o600)
	text := strings.Replace(minimal, "projects = [580]", "projects = [580, 579, 112]", 1) + `
[callbacks]
listen = "127.0.0.1:8089"
[[callbacks.project]]
id = 580
[[callbacks.project]]
id = 579
secret_file = "${CREDENTIALS_DIRECTORY}/cb579"
[[callbacks.project]]
id = 112
`
	c, err := ParseAll("test.toml", []byte(text), env(map[string]string{"CREDENTIALS_DIRECTORY": dir, "RECONCILED_CALLBACK_SECRET_580": "from-the-environment"}))
	if err == nil {
		t.Fatalf("no secret for 112, yet %+v", c.Callbacks)
	}
	if got := err.Error(); !strings.Contains(got, "test.toml:16: callbacks.project[3].secret: missing: set secret, secret_file or RECONCILED_CALLBACK_SECRET_112") {
		t.Errorf("problems:\n%s", got)
	}
	text = strings.Replace(text, "id = 112\n", "id = 112\nsecret = \"inline\"\n", 1)
	c, err = ParseAll("test.toml", []byte(text), env(map[string]string{"CREDENTIALS_DIRECTORY": dir, "RECONCILED_CALLBACK_SECRET_580": "from-the-environment"}))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{580: "from-the-environment", 579: "from-a-file", 112: "inline"} {
		if s, ok := c.Callbacks.SecretOf(id); !ok || string(s) != want {
			t.Errorf("project %d: %q %v, want %q", id, s, ok, want)
		}
	}
	// Load (a command) reads none of them.
	c, err = Load(writeTemp(t, text), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Callbacks.SecretOf(580); ok {
		t.Error("Load resolved a callback secret")
	}
}

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCallbacksProblems(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"projects without listen", minimal + "[[callbacks.project]]\nid = 580\nsecret = \"x\"\n", "callbacks.listen: is empty"},
		{"listen without projects", minimal + "[callbacks]\nlisten = \"127.0.0.1:8089\"\n", "callbacks.project: list at least one"},
		{"listen not host:port", strings.Replace(withCallbacks, `"127.0.0.1:8089"`, `"8089"`, 1), `test.toml:10: callbacks.listen: "8089": give host:port`},
		{"path", strings.Replace(withCallbacks, "[callbacks]\n", "[callbacks]\npath = \"callback\"\n", 1), `callbacks.path: "callback": a path starts with /`},
		{"a cert without a key", strings.Replace(withCallbacks, "[callbacks]\n", "[callbacks]\ntls_cert_file = \"/x.pem\"\n", 1), "callbacks.tls_key_file: set both tls_cert_file and tls_key_file, or neither"},
		{"body limit", strings.Replace(withCallbacks, "[callbacks]\n", "[callbacks]\nmax_body_bytes = 10\n", 1), "callbacks.max_body_bytes: 10 is not in 1024..16777216"},
		{"connections", strings.Replace(withCallbacks, "[callbacks]\n", "[callbacks]\nmax_connections = 0\n", 1), "callbacks.max_connections: 0 is not in 1..10000"},
		{"a project not synced", withCallbacks + "[[callbacks.project]]\nid = 579\nsecret = \"y\"\n", "callbacks.project[2].id: project 579 is not in data_api.projects"},
		{"a project twice", withCallbacks + "[[callbacks.project]]\nid = 580\nsecret = \"y\"\n", "callbacks.project[2].id: project 580 is listed twice"},
		{"value and file", strings.Replace(withCallbacks, "id = 580\n", "id = 580\nsecret_file = \"/x\"\n", 1), "callbacks.project[1].secret_file: set either callbacks.project[1].secret or callbacks.project[1].secret_file, not both"},
		{"a secret of the wrong type", strings.Replace(withCallbacks, `secret = "`+callbackSecret+`"`, "secret = 12345678", 1), "callbacks.project[1].secret: want a string in double quotes, got a number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, ps := parse(t, c.text)
			if !strings.Contains(ps.Error(), c.want) {
				t.Errorf("problems:\n%v\nwant %q", ps, c.want)
			}
			if strings.Contains(ps.Error(), "12345678") || strings.Contains(ps.Error(), callbackSecret) {
				t.Errorf("a problem shows the secret:\n%v", ps)
			}
		})
	}
}

// Plain HTTP on an address other hosts reach is worth a warning, not a
// refusal (a proxy on another host of a private network is fine).
func TestCallbacksWarning(t *testing.T) {
	c, ps := parse(t, strings.Replace(withCallbacks, "127.0.0.1:8089", "0.0.0.0:8089", 1))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if w := c.Warnings().Error(); !strings.Contains(w, "callbacks.listen: plain HTTP on 0.0.0.0:8089") {
		t.Errorf("warnings: %s", w)
	}
	c, _ = parse(t, withCallbacks)
	if len(c.Warnings()) > 0 {
		t.Errorf("loopback: %v", c.Warnings())
	}
}

// TLS: the pair is read and checked with the credentials (the key may be
// a systemd credential), and a bad one is named.
func TestCallbacksTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	text := strings.Replace(withCallbacks, "[callbacks]\n", "[callbacks]\ntls_cert_file = \""+cert+"\"\ntls_key_file = \"${CREDENTIALS_DIRECTORY}/key.pem\"\n", 1)
	c, err := ParseAll("test.toml", []byte(text), env(map[string]string{"CREDENTIALS_DIRECTORY": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Callbacks.Certificate() == nil {
		t.Error("no certificate loaded")
	}
	os.WriteFile(key, []byte("not a key"), 0o600)
	if _, err := ParseAll("test.toml", []byte(text), env(map[string]string{"CREDENTIALS_DIRECTORY": dir})); err == nil ||
		!strings.Contains(err.Error(), "callbacks.tls_key_file: cannot use "+cert+" with its key") {
		t.Errorf("a bad key: %v", err)
	}
}

func selfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certPath, keyPath
}
