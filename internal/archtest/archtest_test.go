package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "reconciled"

// imports is the graph as it is: for each package of the module (its path
// below the module; "" is the module's root), the packages of ours its
// non-test files import, all of them and no more. any marks the front
// door, which wires everything.
//
// A new import is a decision: add it here and say why in DEVELOPERS.md;
// an import taken out must be taken out here too, so the table never
// allows more than the tree needs.
var imports = map[string][]string{
	"":                       nil, // embed.go: the demo's records
	"cmd/reconciled":         {any},
	"internal/archtest":      nil,
	"internal/domain":        nil,
	"internal/redact":        nil,
	"internal/scratch":       nil,
	"internal/schedule":      nil,
	"internal/doccheck":      nil,
	"internal/progress":      nil,                 // a bar on a terminal: schollz/progressbar's, not ours
	"internal/cli":           {"internal/domain"}, // the command line's plumbing: flag sets, usage, flag values; no command of ours (a day flag's first instant: domain.ParseDay)
	"internal/browsertest":   nil,                 // tests only: a headless chromium (chromedp) for the pages and the mailed report
	"internal/dataapi":       {"internal/domain", "internal/redact"},
	"internal/ledger":        {"internal/domain"},
	"internal/records":       {"internal/domain", "internal/scratch"},
	"internal/reconcile":     {"internal/domain", "internal/fees"},
	"internal/analytics":     {"internal/domain"},
	"internal/report":        {"internal/domain"},
	"internal/export":        {"internal/domain", "internal/scratch", "internal/report", "internal/analytics"},
	"internal/mail":          {"internal/redact"},
	"internal/mail/mailtest": {"internal/mail"},
	"internal/outbox":        {"internal/config", "internal/ledger", "internal/mail"}, // like syncer: wires adapters for one use
	"internal/syncer":        {"internal/dataapi", "internal/domain", "internal/ledger"},
	"internal/config":        {"internal/dataapi", "internal/domain", "internal/fees", "internal/redact", "internal/schedule"},
	"internal/fees":          {"internal/domain"},
	"internal/control":       {"internal/scratch"},
	"internal/fakeapi":       {"internal/dataapi", "internal/domain"},
	"internal/app":           {"internal/analytics", "internal/config", "internal/dataapi", "internal/domain", "internal/export", "internal/ledger", "internal/outbox", "internal/reconcile", "internal/records", "internal/report", "internal/syncer"}, // the use cases: they wire adapters, as the front door did
	"internal/daemon":        {"internal/app", "internal/config", "internal/control", "internal/export", "internal/ledger", "internal/outbox", "internal/receiver", "internal/schedule", "internal/scratch", "internal/web"},                            // run: schedules the use cases, holds the socket and the outbox loop
	// Where a parsed command runs, here or in the daemon, and the control socket's two ends: the
	// envs open the ledger and the outbox as a command's App needs them, the client sends the
	// import file through records' check; no command of ours (their table is handed in).
	"internal/door": {"internal/app", "internal/cli", "internal/config", "internal/control", "internal/export", "internal/ledger", "internal/outbox", "internal/records"},
	// ECommPay's callbacks, signed as the Data API's answers are.
	"internal/callback": {"internal/dataapi", "internal/domain"},
	// The front door of callbacks: ECommPay's requests, read by callback, into the ledger.
	"internal/receiver": {"internal/callback", "internal/domain", "internal/ledger"},
	// A front door like a command: the use cases against the fake (its peer, as the Data API is
	// the daemon's); "" for the sample books embedded at the root.
	// The read-only web view: the use cases' results as pages; the ledger's values (and its
	// Generation, the analytics' cache key), the export's filter of the download; scratch for
	// the download's file, written before it is sent (no read transaction waits on a client).
	"internal/web":  {"internal/analytics", "internal/app", "internal/config", "internal/domain", "internal/export", "internal/ledger", "internal/scratch"},
	"internal/demo": {"", "internal/app", "internal/callback", "internal/config", "internal/domain", "internal/export", "internal/fakeapi", "internal/ledger", "internal/receiver", "internal/records", "internal/syncer"},
}

const any = "*"

// testPeers are what any package's tests may import besides what the
// package itself may: the fakes and checks tests run against, and the
// package under test (an external _test package).
var testPeers = []string{"internal/fakeapi", "internal/mail/mailtest", "internal/doccheck", "internal/browsertest"}

// testImports are further imports of one package's tests.
var testImports = map[string][]string{
	"internal/schedule": {"internal/ledger"},                      // the runner against the real Store
	"internal/door":     {"internal/scratch"},                     // TestMain removes the scratch folder received files went to, as main does
	"internal/daemon":   {"internal/callback", "internal/domain"}, // a signed callback of an operation (a domain one), posted at the daemon
}

// adapters talk to one outside thing each (the Data API, the database, the
// merchant's files, mail) or compute over domain values. They do not
// import each other: what one hands another goes through domain, and the
// front door converts. The exceptions are export writing the report's and
// the analytics' values as files.
var adapters = []string{"internal/dataapi", "internal/ledger", "internal/records", "internal/reconcile",
	"internal/export", "internal/mail", "internal/report", "internal/analytics"}

var adapterExceptions = [][2]string{
	{"internal/export", "internal/report"},    // the report's workbook (export.ReportXLSX)
	{"internal/export", "internal/analytics"}, // the summary export (export.SummaryCSV, SummaryXLSX)
}

// neverLinks are import paths that must not be in a package's
// dependencies at all, however indirectly (a path stands for the packages
// below it too).
var neverLinks = []struct {
	pkg  string
	deps []string
	why  string
}{
	{"internal/domain", []string{module}, "domain is the vocabulary everyone shares: it imports nothing of ours"},
	{"internal/report", []string{module + "/internal/ledger", "go.etcd.io/bbolt"}, "the report is built from plain values the caller reads"},
	{"internal/export", []string{module + "/internal/ledger", "go.etcd.io/bbolt"}, "an export writes values it is handed; it opens no database"},
	{"internal/mail", []string{module + "/internal/config"}, "mail takes its own options; the caller converts the config"},
	{"cmd/reconciled", []string{module + "/internal/browsertest", "github.com/chromedp"}, "the browser is the tests' peer: the binary links no chromedp"},
}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	Error        *struct{ Err string }
}

// graph reads the module's packages with go list.
func graph(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Deps,Error", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list's output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		rel, ok := ours(p.ImportPath)
		if !ok {
			t.Fatalf("go list %s/... listed %s", module, p.ImportPath)
		}
		pkgs[rel] = &p
	}
	if len(pkgs) < len(imports)/2 {
		t.Fatalf("go list found %d packages of %s; the table has %d", len(pkgs), module, len(imports))
	}
	return pkgs
}

// ours is path below the module, and whether it is the module's.
func ours(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// oursOf are the module's packages in paths, below the module, sorted.
func oursOf(paths ...[]string) []string {
	var out []string
	for _, ps := range paths {
		for _, p := range ps {
			if rel, ok := ours(p); ok && !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestImportsAreTheTable(t *testing.T) {
	pkgs := graph(t)
	for rel, p := range pkgs {
		allowed, ok := imports[rel]
		if !ok {
			t.Errorf("%s is not in the table: give it a row in internal/archtest (and a line in DEVELOPERS.md)", p.ImportPath)
			continue
		}
		got := oursOf(p.Imports)
		if slices.Contains(allowed, any) {
			continue
		}
		for _, imp := range got {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s: the table does not allow it (DEVELOPERS.md, \"Who may import whom\")", rel, imp)
			}
		}
		for _, a := range allowed {
			if !slices.Contains(got, a) {
				t.Errorf("%s no longer imports %s: take it out of its row, so the table allows no more than the tree needs", rel, a)
			}
		}
		for _, imp := range oursOf(p.TestImports, p.XTestImports) {
			if imp != rel && !slices.Contains(allowed, imp) && !slices.Contains(testPeers, imp) && !slices.Contains(testImports[rel], imp) {
				t.Errorf("the tests of %s import %s: the table does not allow it", rel, imp)
			}
		}
	}
	for rel := range imports {
		if _, ok := pkgs[rel]; !ok {
			t.Errorf("the table has a row for %s, which go list does not find", rel)
		}
	}
}

func TestAdaptersImportOnlyDomain(t *testing.T) {
	for _, a := range adapters {
		if _, ok := imports[a]; !ok {
			t.Errorf("adapter %s has no row in the table", a)
		}
		for _, imp := range imports[a] {
			if imp == any || (slices.Contains(adapters, imp) && !slices.Contains(adapterExceptions, [2]string{a, imp})) {
				t.Errorf("the table lets adapter %s import %s: adapters meet in domain, the front door converts", a, imp)
			}
		}
	}
}

func TestNeverLinks(t *testing.T) {
	pkgs := graph(t)
	for _, n := range neverLinks {
		p, ok := pkgs[n.pkg]
		if !ok {
			t.Errorf("%s: no such package", n.pkg)
			continue
		}
		for _, banned := range n.deps {
			if i := slices.IndexFunc(p.Deps, func(dep string) bool { return dep == banned || strings.HasPrefix(dep, banned+"/") }); i >= 0 {
				t.Errorf("%s links %s (go list -deps %s/%s): %s", n.pkg, p.Deps[i], module, n.pkg, n.why)
			}
		}
	}
}
