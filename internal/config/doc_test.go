package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"reconciled/internal/doccheck"
)

// docKey is one config key as the Config struct declares it.
type docKey struct {
	key  string // "data_api.page_size", "schedule[].cron"
	typ  string // as docs/config.md names it
	def  reflect.Value
	list bool // inside an array of tables: no default of its own
}

// configKeys walks Config as the TOML decoder does: every key, with its
// type and its value in Default().
func configKeys() []docKey {
	var out []docKey
	var walk func(prefix string, typ reflect.Type, v reflect.Value, list bool)
	walk = func(prefix string, typ reflect.Type, v reflect.Value, list bool) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("toml")
			if tag == "" || tag == "-" {
				continue
			}
			ft := f.Type
			var fv reflect.Value
			if v.IsValid() {
				fv = v.Field(i)
			}
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				walk(prefix+tag+"[].", ft.Elem(), reflect.Value{}, true)
				continue
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Secret{}) && ft != reflect.TypeOf(Duration{}) {
				walk(prefix+tag+".", ft, fv, list)
				continue
			}
			out = append(out, docKey{key: prefix + tag, typ: typeName(ft), def: fv, list: list})
		}
	}
	walk("", reflect.TypeOf(Config{}), reflect.ValueOf(*Default()), false)
	return out
}

// typeName is how docs/config.md names a Go type.
func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(Secret{}):
		return "secret"
	case reflect.TypeOf(Duration{}):
		return "duration"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Slice:
		return "list of " + plural(t.Elem())
	case reflect.Map:
		return "table of " + plural(t.Elem())
	}
	return t.String()
}

// plural names values of t: "strings", "lists of strings".
func plural(t reflect.Type) string {
	if t.Kind() == reflect.Slice {
		return "lists of " + plural(t.Elem())
	}
	return typeName(t) + "s"
}

// tomlValue writes a default as the config file would.
func tomlValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case Duration:
		return strconv.Quote(x.String())
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v.Interface())
}

// docs/config.md lists every key of the Config struct, and no other, with
// its type and its default as Default() has it: a key added to the code and
// not to the reference (or the other way round), or a default changed in
// one place only, fails here.
func TestReferenceListsEveryKeyWithTypeAndDefault(t *testing.T) {
	doc := doccheck.Read(t, "config.md")
	rows := doccheck.TablesWithHeader(doc, "key", "type", "default", "meaning")
	if len(rows) == 0 {
		t.Fatal("docs/config.md has no | key | type | default | meaning | table")
	}
	documented := map[string][]string{}
	var order []string
	for _, r := range rows {
		key, ok := doccheck.Code(r[0])
		if !ok {
			t.Errorf("docs/config.md: row %q: the key is not in `backticks`", r)
			continue
		}
		if _, dup := documented[key]; dup {
			t.Errorf("docs/config.md lists %s twice", key)
		}
		documented[key] = r
		order = append(order, key)
	}
	keys := configKeys()
	var missing []string
	for _, k := range keys {
		r, ok := documented[k.key]
		if !ok {
			missing = append(missing, k.key)
			continue
		}
		delete(documented, k.key)
		if r[1] != k.typ {
			t.Errorf("docs/config.md: %s is a %s, the doc says %q", k.key, k.typ, r[1])
		}
		if strings.TrimSpace(r[3]) == "" {
			t.Errorf("docs/config.md: %s has no meaning", k.key)
		}
		checkDefault(t, k, r[2])
	}
	if len(missing) > 0 {
		t.Errorf("docs/config.md does not list %v", missing)
	}
	var stale []string
	for _, k := range order {
		if _, ok := documented[k]; ok {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		t.Errorf("docs/config.md lists keys the config does not have: %v", stale)
	}
}

// checkDefault compares a documented default with Default()'s: a key that
// has one shows it as its first `code span` (a number or a boolean always
// has one, 0 and false included); a key without one (an empty string, list
// or table in Default(), or a key of an array of tables) says "unset", and
// may say what that means.
func checkDefault(t *testing.T, k docKey, cell string) {
	t.Helper()
	unset := k.list
	if !unset {
		switch k.def.Kind() {
		case reflect.Int, reflect.Int64, reflect.Bool:
		default:
			unset = k.def.IsZero()
		}
	}
	if unset {
		if !strings.HasPrefix(cell, "unset") {
			t.Errorf("docs/config.md: %s has no default in Default(); the default column should start with \"unset\", not %q", k.key, cell)
		}
		return
	}
	got, ok := doccheck.Code(cell)
	if !ok {
		t.Errorf("docs/config.md: %s defaults to %s; the doc says %q", k.key, tomlValue(k.def), cell)
		return
	}
	if d, isDur := k.def.Interface().(Duration); isDur {
		v, err := strconv.Unquote(got)
		doc, perr := time.ParseDuration(v)
		if err != nil || perr != nil || doc != d.Duration {
			t.Errorf("docs/config.md: %s defaults to %s; the doc says %s", k.key, d.Duration, got)
		}
		return
	}
	if want := tomlValue(k.def); got != want {
		t.Errorf("docs/config.md: %s defaults to %s; the doc says %s", k.key, want, got)
	}
}

// The environment variables that supply secrets are named in the reference.
func TestReferenceNamesTheSecretsEnvironment(t *testing.T) {
	doc := doccheck.Read(t, "config.md")
	for _, env := range []string{EnvDataAPIToken, EnvDataAPISecret, EnvMailPassword} {
		if !strings.Contains(doc, "`"+env+"`") {
			t.Errorf("docs/config.md does not name %s", env)
		}
	}
	for _, job := range Jobs {
		if !slices.Contains(doccheck.Column(doccheck.Table(t, doc, "jobs"), 0), job) {
			t.Errorf("docs/config.md: the jobs table lacks %s", job)
		}
	}
}
