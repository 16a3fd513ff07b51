package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// lineIndex maps config keys to the line that sets them, for error
// messages. The TOML decoder keeps positions to itself, so this reads the
// file's lines on its own: table headers and "key =" lines, which is all a
// hand-written config has. A key it cannot place simply has no line.
type lineIndex struct {
	exact     map[string]int      // "data_api.page_size", "schedule[2].cron"
	unindexed map[string]int      // "schedule.cron": the first one, for the decoder's keys
	indexed   map[string][]string // "schedule.cron" → "schedule[1].cron", "schedule[2].cron", …
}

var (
	reArrayHeader = regexp.MustCompile(`^\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]`)
	reTableHeader = regexp.MustCompile(`^\[\s*([A-Za-z0-9_.\-]+)\s*\]`)
	reKey         = regexp.MustCompile(`^((?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'))*)\s*=`)
)

func keyLines(data []byte) lineIndex {
	idx := lineIndex{exact: map[string]int{}, unindexed: map[string]int{}, indexed: map[string][]string{}}
	add := func(key, plain string, line int) {
		if key != plain {
			idx.indexed[plain] = append(idx.indexed[plain], key)
		}
		if _, ok := idx.exact[key]; !ok {
			idx.exact[key] = line
		}
		if _, ok := idx.unindexed[plain]; !ok {
			idx.unindexed[plain] = line
		}
	}
	var table, plainTable string
	arrays := map[string]int{}
	inMultiline := false
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		// Lines inside a multi-line string are not keys.
		quotes := strings.Count(line, `"""`) + strings.Count(line, "'''")
		wasInside := inMultiline
		if quotes%2 == 1 {
			inMultiline = !inMultiline
		}
		if wasInside {
			continue
		}
		switch {
		case reArrayHeader.MatchString(line):
			name := reArrayHeader.FindStringSubmatch(line)[1]
			arrays[name]++
			table, plainTable = fmt.Sprintf("%s[%d]", name, arrays[name]), name
			add(table, name, n)
		case reTableHeader.MatchString(line):
			name := reTableHeader.FindStringSubmatch(line)[1]
			table, plainTable = name, name
			add(table, name, n)
		case reKey.MatchString(line):
			key := dottedKey(reKey.FindStringSubmatch(line)[1])
			if table == "" {
				add(key, key, n)
			} else {
				add(table+"."+key, plainTable+"."+key, n)
			}
		}
	}
	return idx
}

// find returns the line of key, or 0.
func (idx lineIndex) find(key string) int {
	if n, ok := idx.exact[key]; ok {
		return n
	}
	return idx.unindexed[key]
}

// dottedKey drops the spaces around the dots of a dotted key, but not
// those inside a quoted part ("awaiting foo"), and writes a 'literal'
// part as a "basic" one, the form problems name keys in.
func dottedKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch c := k[i]; c {
		case ' ', '\t':
		case '"', '\'':
			end := strings.IndexByte(k[i+1:], c)
			if end < 0 {
				end = len(k) - i - 1
			}
			part := k[i+1 : i+1+end]
			if c == '"' {
				b.WriteString(`"` + part + `"`)
			} else {
				b.WriteString(strconv.Quote(part))
			}
			i += end + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
