package dataapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"reconciled/internal/domain"
	"reconciled/internal/redact"
)

// Balances reads /balance/get for projects (at most MaxSignedArray; none
// asks for every project of the token): every balance of the answer, by
// name and currency, its amount in minor units. The answer names no
// project, so the balances are those of the projects asked together: ask
// one project at a time to know whose they are (the syncer does).
//
// The answer is used only once its signature is verified, and only whole:
// an entry without a name, a name twice, a member that is neither the name
// nor an ISO 4217 currency code, or an amount that is not a whole number
// of minor units (a string of digits or a JSON integer; never read through
// a float) refuses all of it, naming the entry and the member.
func (c *Client) Balances(ctx context.Context, projects []int64) ([]domain.Balance, error) {
	if len(projects) > MaxSignedArray {
		return nil, fmt.Errorf("dataapi: balances of %d projects in one request: at most %d", len(projects), MaxSignedArray)
	}
	body, err := c.send(ctx, PathBalance, BalanceRequest{Token: c.token, ProjectID: projects})
	if err == nil {
		var bs []domain.Balance
		if bs, err = c.decodeBalances(body); err == nil {
			return bs, nil
		}
	}
	if len(projects) > 0 {
		return nil, fmt.Errorf("balances of projects %v: %w", projects, err)
	}
	return nil, fmt.Errorf("balances: %w", err)
}

// decodeBalances verifies an answer of /balance/get and reads its
// balances: entries in the answer's order, the currencies of an entry by
// code.
func (c *Client) decodeBalances(resp []byte) ([]domain.Balance, error) {
	f := getFlat()
	defer putFlat(f)
	if err := f.flatten(resp); err != nil {
		return nil, fmt.Errorf("%s: malformed response: %w", PathBalance, err)
	}
	if err := verifyAnyArrayOrder(f, resp, c.secret); err != nil {
		return nil, fmt.Errorf("%s: response rejected, nothing from it is used: %w (check data_api.secret; if it is right, the response was changed on the way)", PathBalance, err)
	}
	creds := c.credentials()
	bs, err := readBalances(resp)
	if err != nil {
		// A value quoted from the answer: upstream text.
		return nil, redact.Err(fmt.Errorf("%s: %w; nothing of the answer is used", PathBalance, err), creds...)
	}
	for i := range bs {
		// Names are stored and shown: upstream text, as a message is.
		bs[i].Name = domain.MaskCardNumbers(redact.Text(bs[i].Name, creds...))
	}
	return bs, nil
}

// readBalances reads the balances of a verified answer. The flattened
// form the signature is checked on cannot tell an empty object from a
// missing member, so the answer's shape is read from the JSON itself (its
// duplicate keys were refused by the flattener).
func readBalances(resp []byte) ([]domain.Balance, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(resp, &root); err != nil {
		return nil, err
	}
	raw, ok := root[keyBalance]
	if !ok || kindOf(raw) != '[' {
		return nil, fmt.Errorf("response has no %q array", keyBalance)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, err
	}
	var out []domain.Balance
	names := map[string]int{}
	for i, e := range entries {
		if kindOf(e) != '{' {
			return nil, fmt.Errorf("%s[%d] is not an object", keyBalance, i)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(e, &members); err != nil {
			return nil, err
		}
		nameRaw, ok := members[keyBalanceName]
		var name string
		if ok && kindOf(nameRaw) == '"' {
			if err := json.Unmarshal(nameRaw, &name); err != nil {
				return nil, err
			}
			name = domain.CleanName(name)
		}
		if name == "" {
			return nil, fmt.Errorf("%s[%d] has no %q (a non-empty string)", keyBalance, i, keyBalanceName)
		}
		who := fmt.Sprintf("%s[%d] %s", keyBalance, i, quoted(name))
		if j, twice := names[name]; twice {
			return nil, fmt.Errorf("%s: the name of %s[%d] too: which one holds the money is not known", who, keyBalance, j)
		}
		names[name] = i
		out = slices.Grow(out, len(members)-1)
		for _, cur := range slices.Sorted(maps.Keys(members)) {
			if cur == keyBalanceName {
				continue
			}
			if _, err := domain.Exponent(cur); err != nil {
				return nil, fmt.Errorf("%s: the member %s is neither %q nor an ISO 4217 currency code", who, quoted(cur), keyBalanceName)
			}
			amount, err := minorUnits(members[cur])
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", who, cur, err)
			}
			out = append(out, domain.Balance{Name: name, Out: IsOutBalance(name), Money: domain.Money{Amount: amount, Currency: cur}})
		}
	}
	return out, nil
}

// minorUnits reads an amount of minor units: a JSON string of an integer
// ("1010750", "-500") or a JSON integer, never through a float.
func minorUnits(raw json.RawMessage) (int64, error) {
	text := []byte(raw)
	switch kindOf(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		text = []byte(s)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
	default:
		return 0, fmt.Errorf("%s is not an amount (a string of digits)", quoted(string(raw)))
	}
	digits := bytes.TrimPrefix(text, []byte("-"))
	if len(digits) == 0 || bytes.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, fmt.Errorf("%s is not a whole number of minor units", quoted(string(text)))
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s does not fit in 64 bits of minor units", quoted(string(text)))
	}
	return n, nil
}

// kindOf is the first byte of a JSON value: '{', '[', '"', 't', 'f', 'n'
// or a number's first character.
func kindOf(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// quoted quotes upstream text shortened to 40 characters.
func quoted(s string) string {
	if r := []rune(s); len(r) > 40 {
		return strconv.Quote(string(r[:40])) + "…"
	}
	return strconv.Quote(s)
}

// BalanceEntry is one entry of a /balance/get answer: a name and its
// amounts, one per currency.
type BalanceEntry struct {
	Name    string
	Amounts []domain.Money
}

// AppendBalanceResponse appends an unsigned /balance/get answer holding
// entries, amounts as strings of minor units as in ECommPay's example. The
// fake Data API uses it (then AppendSigned), so that it speaks the names
// the client reads.
func AppendBalanceResponse(dst []byte, entries []BalanceEntry) []byte {
	dst = append(dst, `{"`+keyBalance+`":[`...)
	for i, e := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"`+keyBalanceName+`":`...)
		dst, _ = jsontext.AppendQuote(dst, e.Name)
		for _, m := range e.Amounts {
			dst = append(dst, ',')
			dst, _ = jsontext.AppendQuote(dst, m.Currency)
			dst = append(dst, ':', '"')
			dst = strconv.AppendInt(dst, m.Amount, 10)
			dst = append(dst, '"')
		}
		dst = append(dst, '}')
	}
	return append(dst, ']', '}')
}
