package redact

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestTextRemovesEveryForm(t *testing.T) {
	const secret = `p/a"ss<w>ord&1`
	for _, form := range []string{secret, strconv.Quote(secret), url.QueryEscape(secret), url.PathEscape(secret),
		`p\/a\"ss\u003cw\u003eord\u00261`, strings.ToLower(url.QueryEscape(secret))} {
		got := Text("before "+form+" after", secret)
		if strings.Contains(got, "ss<w>") || strings.Contains(got, "ss\\u003c") || strings.Contains(strings.ToLower(got), "ss%3cw") || !strings.Contains(got, Mark) {
			t.Errorf("Text(%q) = %q", form, got)
		}
		if !strings.HasPrefix(got, "before ") || !strings.HasSuffix(got, " after") {
			t.Errorf("Text(%q) lost the text around it: %q", form, got)
		}
	}
	if got := Text("nothing here", "", secret); got != "nothing here" {
		t.Errorf("text without a secret changed: %q", got)
	}
}

func TestErrKeepsTheErrorUnder(t *testing.T) {
	base := errors.New("refused hunter22")
	err := Err(base, "hunter22")
	if err.Error() != "refused "+Mark || !errors.Is(err, base) {
		t.Errorf("Err = %v (Is base: %v)", err, errors.Is(err, base))
	}
	if Err(nil, "x") != nil {
		t.Error("Err(nil) is not nil")
	}
	if e := errors.New("clean"); Err(e, "x") != e {
		t.Error("an error without the secret should come back as it was")
	}
}
