package callback

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"reconciled/internal/doccheck"
)

// membersRead are the members Decode reads, as docs/data-api.md writes
// them: the wire structs' JSON names, walked.
func membersRead() []string {
	out := []string{"project_id"} // read by ProjectOf
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(prefix+name+".", ft)
				continue
			}
			if ft != reflect.TypeFor[jsontext.Value]() {
				panic("a member of a kind the doc test does not know: " + name)
			}
			out = append(out, prefix+name)
		}
	}
	walk("", reflect.TypeFor[wireCallback]())
	return out
}

// The page lists every member the code reads, and no other.
func TestDataAPIPageListsTheCallbackMembers(t *testing.T) {
	rows := doccheck.Table(t, doccheck.Read(t, "data-api.md"), "callback members")
	got, want := doccheck.Column(rows, 0), membersRead()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("docs/data-api.md lists the callback members\n%v\nthe code reads\n%v", got, want)
	}
}
