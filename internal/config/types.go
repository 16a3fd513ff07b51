package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// checkTypes compares the file's plain values (as the TOML decoder gives
// them: string, int64, float64, bool, time.Time, []any, map[string]any,
// []map[string]any) with the Config's fields, and returns a problem, in
// our words, for each value of the wrong type, which it deletes from raw:
// the rest then decodes, and every wrong value is reported, not the
// first. Keys the Config does not have are left for the decoder, which
// reports them as unknown.
func checkTypes(raw map[string]any) Problems {
	return checkTable(raw, reflect.TypeFor[Config](), "")
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// checkTable checks the keys of a table against struct type t.
func checkTable(table map[string]any, t reflect.Type, prefix string) Problems {
	var ps Problems
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		v, ok := table[tag]
		if tag == "" || tag == "-" || !ok {
			continue
		}
		sub, keep := checkValue(v, f.Type, prefix+tag)
		ps = append(ps, sub...)
		if !keep {
			delete(table, tag)
		}
	}
	return ps
}

// checkValue checks one value against type t; keep is false when the
// value is to be left out (its problem is in ps).
func checkValue(v any, t reflect.Type, key string) (ps Problems, keep bool) {
	bad := func(want string) (Problems, bool) {
		return Problems{{Key: key, Msg: "want " + want + ", got " + describe(v, isSecretKey(key))}}, false
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		s, ok := v.(string)
		if !ok {
			if t == reflect.TypeFor[Duration]() {
				return bad(`a duration in double quotes such as "6m" or "72h"`)
			}
			return bad("a string in double quotes")
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return Problems{{Key: key, Msg: err.Error()}}, false
		}
		return nil, true
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return bad("a string in double quotes")
		}
	case reflect.Int, reflect.Int64:
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1e18 && !isSecretKey(key) {
			// 1e3 and 1000.0 are floats in TOML: "got the number 1000" puzzled.
			n := strconv.FormatFloat(f, 'f', -1, 64)
			return Problems{{Key: key, Msg: "want a whole number, got " + n + " written as a decimal (write " + n + ", without a point or an exponent)"}}, false
		}
		if _, ok := v.(int64); !ok {
			return bad("a whole number")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return bad("true or false")
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			list, ok := v.([]map[string]any)
			if !ok {
				return bad(fmt.Sprintf("[[%s]] tables", key))
			}
			for i, el := range list {
				ps = append(ps, checkTable(el, t.Elem(), fmt.Sprintf("%s[%d].", key, i+1))...)
			}
			return ps, true
		}
		want := "a list of strings"
		if t.Elem().Kind() != reflect.String {
			want = "a list of numbers such as [580, 579]"
		}
		list, ok := v.([]any)
		if !ok {
			return bad(want)
		}
		for _, el := range list {
			if sub, _ := checkValue(el, t.Elem(), key); len(sub) > 0 {
				return Problems{{Key: key, Msg: "want " + want + ", got " + describe(el, isSecretKey(key)) + " in it"}}, false
			}
		}
	case reflect.Map:
		table, ok := v.(map[string]any)
		if !ok {
			return bad(fmt.Sprintf("a table ([%s], then a line per word)", key))
		}
		for k, el := range table {
			sub, keep := checkValue(el, t.Elem(), key+"."+quoteKey(k))
			ps = append(ps, sub...)
			if !keep {
				delete(table, k)
			}
		}
		return ps, true
	case reflect.Struct:
		table, ok := v.(map[string]any)
		if !ok {
			return bad(fmt.Sprintf("a table [%s]", key))
		}
		return checkTable(table, t, key+"."), true
	}
	return nil, true
}

// describe names a plain TOML value for a problem; hide leaves out the
// value itself (a credential).
func describe(v any, hide bool) string {
	switch x := v.(type) {
	case string:
		if hide {
			return "a string"
		}
		if r := []rune(x); len(r) > 40 {
			x = string(r[:40]) + "…"
		}
		return "a string " + strconv.Quote(x)
	case int64:
		if hide {
			return "a number"
		}
		return "the number " + strconv.FormatInt(x, 10)
	case float64:
		if hide {
			return "a number"
		}
		return "the number " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if hide {
			return "true or false"
		}
		return strconv.FormatBool(x)
	case time.Time:
		return "a date or time (put it in double quotes)"
	case []map[string]any:
		return "a list of tables"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v)
}
