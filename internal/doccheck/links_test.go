package doccheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// moduleRoot is the folder holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	return filepath.Dir(filepath.Dir(Path(t, "x")))
}

// markdownFiles are README.md, DEVELOPERS.md, BENCHMARKS.md and docs/*.md.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"README.md", "DEVELOPERS.md", "BENCHMARKS.md"} {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			files = append(files, filepath.Join(root, name))
		}
	}
	return files
}

// anchor is the fragment GitHub gives a heading: lower case, punctuation
// dropped (but - and _), spaces as hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(text string) map[string]bool {
	out := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		out[anchor(strings.TrimLeft(line, "# "))] = true
	}
	return out
}

var reLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every relative link of the project's pages names a file that exists,
// and a heading of it when it has a #fragment: a page renamed or a heading
// reworded does not leave a dead link behind.
func TestLinksResolve(t *testing.T) {
	root := moduleRoot(t)
	for _, file := range markdownFiles(t, root) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		for _, m := range reLink.FindAllStringSubmatch(string(data), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			target, frag, _ := strings.Cut(link, "#")
			path := file
			if target != "" {
				path = filepath.Join(filepath.Dir(file), target)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Errorf("%s: link %s: no such file", rel, link)
				continue
			}
			if frag == "" || st.IsDir() {
				continue
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors(string(text))[frag] {
				t.Errorf("%s: link %s: %s has no heading #%s", rel, link, target, frag)
			}
		}
	}
}

// Nothing in the repository points readers at pages it does not hold:
// the product, Data API and style pages that once lived beside it are
// docs/ now.
func TestNoPageOutsideTheRepository(t *testing.T) {
	root := moduleRoot(t)
	gone := []string{"PRODUCT" + ".md", "DATA_API" + ".md", "STYLE" + ".md", "shared" + " docs", "shared" + " folder"}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") && name != ".ci" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".toml", ".service", "":
		default:
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 1<<20 {
			return err // a built binary, not a page
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, name := range gone {
			if strings.Contains(string(data), name) {
				t.Errorf("%s names %q, which is not in the repository: link the page in docs/ instead", rel, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
