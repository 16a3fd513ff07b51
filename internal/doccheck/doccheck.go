// Package doccheck reads the project's reference pages (docs/*.md) for the
// tests that keep them in step with the code: the flags of every command,
// the config keys with their types and defaults, the result codes, the
// export columns and the Data API's wire names. A page marks the parts a
// test reads with an HTML comment, invisible once rendered:
//
//	<!-- columns: operations -->
//	| column | holds |
//	| --- | --- |
//	| `project_id` | … |
//
// Table returns the body rows of the table after a marker; Code the first
// `code span` of a cell. Only tests import this package.
package doccheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Read returns docs/name of the module the test runs in.
func Read(tb testing.TB, name string) string {
	tb.Helper()
	data, err := os.ReadFile(Path(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// Path is the path of docs/name, found from the working directory up to
// the folder holding go.mod. A name that starts with "../" names a file
// beside docs/ ("../README.md").
func Path(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "docs", name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("doccheck: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// marker is how a page names a part: <!-- kind: name -->.
func marker(name string) string { return "<!-- " + name + " -->" }

// Has reports whether the page has the marker.
func Has(doc, name string) bool { return strings.Contains(doc, marker(name)) }

// Markers returns the names of every marker of kind ("columns" for
// <!-- columns: x -->), in page order.
func Markers(doc, kind string) []string {
	var out []string
	prefix := "<!-- " + kind + ": "
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			if name, ok := strings.CutSuffix(rest, " -->"); ok {
				out = append(out, name)
			}
		}
	}
	return out
}

// Table returns the body rows (header and separator left out) of the first
// table after the marker name, each row's cells trimmed. It fails the test
// when the page has no such marker or no table after it.
func Table(tb testing.TB, doc, name string) [][]string {
	tb.Helper()
	_, after, ok := strings.Cut(doc, marker(name))
	if !ok {
		tb.Fatalf("doccheck: the page has no %s", marker(name))
	}
	rows := tables(after, true)
	if len(rows) == 0 {
		tb.Fatalf("doccheck: no table after %s", marker(name))
	}
	return rows[0]
}

// TablesWithHeader returns the body rows of every table whose header row
// is header (cells compared trimmed), all tables' rows in page order.
func TablesWithHeader(doc string, header ...string) [][]string {
	var out [][]string
	lines := strings.Split(doc, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !isRow(lines[i]) || !equal(cells(lines[i]), header) || !isSeparator(lines[i+1]) {
			continue
		}
		for j := i + 2; j < len(lines) && isRow(lines[j]); j++ {
			out = append(out, cells(lines[j]))
		}
	}
	return out
}

// tables splits text into its tables' body rows; with first, it stops
// after the first table.
func tables(text string, first bool) [][][]string {
	var out [][][]string
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !isRow(lines[i]) || !isSeparator(lines[i+1]) {
			continue
		}
		var rows [][]string
		j := i + 2
		for ; j < len(lines) && isRow(lines[j]); j++ {
			rows = append(rows, cells(lines[j]))
		}
		out = append(out, rows)
		if first {
			break
		}
		i = j
	}
	return out
}

func isRow(line string) bool {
	line = strings.TrimSpace(line)
	return len(line) > 1 && line[0] == '|' && line[len(line)-1] == '|'
}

func isSeparator(line string) bool {
	if !isRow(line) {
		return false
	}
	for _, c := range cells(line) {
		if strings.Trim(c, ":-") != "" || !strings.Contains(c, "-") {
			return false
		}
	}
	return true
}

// cells splits a table row; a pipe inside a code span (written \| in
// Markdown) does not split.
func cells(line string) []string {
	line = strings.TrimSpace(line)
	line = line[1 : len(line)-1]
	var out []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Code returns the first `code span` of a cell, and false when it has none.
func Code(cell string) (string, bool) {
	_, rest, ok := strings.Cut(cell, "`")
	if !ok {
		return "", false
	}
	code, _, ok := strings.Cut(rest, "`")
	return code, ok
}

// Codes returns every `code span` of a cell, in order.
func Codes(cell string) []string {
	var out []string
	for {
		_, rest, ok := strings.Cut(cell, "`")
		if !ok {
			return out
		}
		code, after, ok := strings.Cut(rest, "`")
		if !ok {
			return out
		}
		out = append(out, code)
		cell = after
	}
}

// Column returns cell i of every row as its first code span (the cell as
// it is when it has none).
func Column(rows [][]string, i int) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		if i >= len(r) {
			out = append(out, "")
			continue
		}
		c, ok := Code(r[i])
		if !ok {
			c = r[i]
		}
		out = append(out, c)
	}
	return out
}

// Blocks returns the contents of the fenced code blocks after the marker
// name, up to the next marker or heading, in order.
func Blocks(tb testing.TB, doc, name string) []string {
	tb.Helper()
	_, after, ok := strings.Cut(doc, marker(name))
	if !ok {
		tb.Fatalf("doccheck: the page has no %s", marker(name))
	}
	var out []string
	var cur []string
	in := false
	for _, line := range strings.Split(after, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			if in {
				out = append(out, strings.Join(cur, "\n"))
				cur = nil
			}
			in = !in
		case in:
			cur = append(cur, line)
		case strings.HasPrefix(trimmed, "<!-- ") || strings.HasPrefix(trimmed, "#"):
			return out
		}
	}
	return out
}
