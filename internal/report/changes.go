package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/domain"
)

// What changed since the previous report. A report knows what the
// previous one saw only from Input.Previous: its open exceptions, each
// with its resolution key (domain.KeyOf, which a full recompute keeps),
// code and amount, as the caller stored them beside the previous report
// (Report.Seen gives what to store). The report compares by key:
//
//   - open now, seen open with the same code: still open;
//   - open now, not seen or seen with another code: new (a changed verdict
//     is a new fact, as the alerts read it);
//   - seen open, not open now: resolved (matched since, resolved by hand,
//     or no longer in the reconciliation), or back to pending (data came
//     that the engine waits on); counted with the amount the previous
//     report showed.
//
// No Previous (the first report) counts every open exception as new and
// says so.

// Seen is one open exception as a report saw it: what the next report
// compares with.
type Seen struct {
	Key       domain.ResolutionKey
	Code      string
	Amount    domain.Money
	CreatedAt time.Time
}

// Previous is what the previous report saw.
type Previous struct {
	Day  time.Time // the previous report's day
	At   time.Time // when it was made
	Open []Seen
}

// Kinds of change (ChangeRow.Change), in the order they are shown.
const (
	ChangeNew      = "new"
	ChangeStill    = "still open"
	ChangeResolved = "resolved"
	ChangePending  = "back to pending"
)

var changeOrder = []string{ChangeNew, ChangeStill, ChangeResolved, ChangePending}

// ChangeRow counts one kind of change in one currency.
type ChangeRow struct {
	Change   string
	Currency string
	Tally
}

// Closed is an exception the previous report saw open that is not open
// now.
type Closed struct {
	Seen
	// Now is the item's result now: matched, resolved, pending, or "" when
	// the reconciliation has no such item any more.
	Now string
}

// Change is ChangeResolved or ChangePending.
func (c *Closed) Change() string {
	if c.Now == domain.ResultPending {
		return ChangePending
	}
	return ChangeResolved
}

// Ref names the payment as Exception.Ref does.
func (c *Closed) Ref() string { return c.Key.ID }

// AttentionLimit is how many open exceptions the report lists first, as
// the ones that need a person; ClosedLimit how many closed ones it lists.
const (
	AttentionLimit = 20
	ClosedLimit    = 20
)

// changes fills r.Changes, r.Closed and each open exception's New from
// prev (nil: the first report) and the current result of every key prev
// saw (results).
func (r *Report) changes(prev *Previous, seen map[domain.ResolutionKey]Seen, results map[domain.ResolutionKey]string) {
	type key struct{ change, currency string }
	rows := map[key]*Tally{}
	add := func(change string, m domain.Money) {
		k := key{change, m.Currency}
		if rows[k] == nil {
			rows[k] = &Tally{}
		}
		rows[k].add(m.Amount)
	}
	for i := range r.Open {
		e := &r.Open[i]
		p, ok := seen[e.Key]
		e.New = prev == nil || !ok || p.Code != e.Result
		if e.New {
			add(ChangeNew, e.Amount)
		} else {
			add(ChangeStill, e.Amount)
		}
	}
	if prev != nil {
		r.Previous = &Previous{Day: prev.Day, At: prev.At}
		for _, k := range slices.SortedFunc(maps.Keys(seen), compareKeys) {
			res, ok := results[k]
			if ok && domain.IsException(res) {
				continue // open now, under this code or another
			}
			c := Closed{Seen: seen[k], Now: res}
			r.Closed = append(r.Closed, c)
			add(c.Change(), c.Amount)
		}
		slices.SortStableFunc(r.Closed, func(a, b Closed) int {
			return cmp.Or(strings.Compare(a.Amount.Currency, b.Amount.Currency), cmp.Compare(b.Amount.Amount, a.Amount.Amount))
		})
	}
	for _, ch := range changeOrder {
		var curs []string
		for k := range rows {
			if k.change == ch {
				curs = append(curs, k.currency)
			}
		}
		slices.Sort(curs)
		for _, c := range curs {
			r.Changes = append(r.Changes, ChangeRow{Change: ch, Currency: c, Tally: *rows[key{ch, c}]})
		}
	}
}

func compareKeys(a, b domain.ResolutionKey) int {
	return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), strings.Compare(a.ID, b.ID), strings.Compare(a.Type, b.Type), strings.Compare(a.Part, b.Part))
}

// ChangeCount is how many items changed so: ChangeNew, ChangeStill,
// ChangeResolved or ChangePending, in every currency.
func (r *Report) ChangeCount(change string) int {
	n := 0
	for _, c := range r.Changes {
		if c.Change == change {
			n += c.Count
		}
	}
	return n
}

// Seen is what the next report compares with: every open exception of r.
func (r *Report) Seen() []Seen {
	out := make([]Seen, len(r.Open))
	for i := range r.Open {
		e := &r.Open[i]
		out[i] = Seen{Key: e.Key, Code: e.Result, Amount: e.Amount, CreatedAt: e.CreatedAt}
	}
	return out
}

// Attention are the open exceptions a person should look at first, at
// most AttentionLimit: the oldest age bucket first, and in a bucket the
// largest amounts first, per currency (amounts of two currencies are not
// compared: no exchange rate is at hand), then the oldest.
func (r *Report) Attention() []Exception {
	list := slices.Clone(r.Open)
	slices.SortStableFunc(list, func(a, b Exception) int {
		return cmp.Or(cmp.Compare(b.Bucket, a.Bucket), strings.Compare(a.Amount.Currency, b.Amount.Currency),
			cmp.Compare(b.Amount.Amount, a.Amount.Amount), a.CreatedAt.Compare(b.CreatedAt))
	})
	return list[:min(len(list), AttentionLimit)]
}

// changesLead is the sentence of the lead about the changes.
func (r *Report) changesLead() string {
	if r.Previous == nil {
		return "No previous report to compare with: every open exception counts as new."
	}
	return fmt.Sprintf("Since the previous report (of %s, made %s): %d new, %d still open, %d resolved%s.",
		r.Previous.Day.In(r.Location).Format(time.DateOnly), r.when(r.Previous.At, "—"),
		r.ChangeCount(ChangeNew), r.ChangeCount(ChangeStill), r.ChangeCount(ChangeResolved), r.pendingAgain())
}

func (r *Report) pendingAgain() string {
	if n := r.ChangeCount(ChangePending); n > 0 {
		return fmt.Sprintf(", %d back to pending", n)
	}
	return ""
}

// changesTable counts the changes per currency.
func (r *Report) changesTable(sep string) table {
	t := table{
		Title: "What changed since the previous report",
		Cols:  []column{{"change", false}, {"currency", false}, {"items", true}, {"amount", true}},
	}
	if r.Previous == nil {
		t.Title = "What changed: the first report, every open exception is new"
	}
	for _, c := range r.Changes {
		t.Rows = append(t.Rows, row{{Text: c.Change, Alert: c.Change == ChangeNew}, {Text: orNone(c.Currency, "—")},
			numCell(count(c.Count)), numCell(amount(c.Amount, c.Currency, sep))})
	}
	return t
}

// closedTable lists the exceptions resolved (or back to pending) since the
// previous report, the largest first per currency.
func (r *Report) closedTable(sep string) table {
	t := table{
		Title: "Resolved since the previous report",
		Cols: []column{{"change", false}, {"now", false}, {"was", false}, {"payment", false}, {"type", false}, {"project", true},
			{"created", false}, {"amount", true}},
	}
	list := r.Closed
	if len(list) > ClosedLimit {
		list = list[:ClosedLimit]
		t.More = fmt.Sprintf("… and %d more: `reconciled export --what reconciliation` lists every item with its result.", len(r.Closed)-ClosedLimit)
	}
	for i := range list {
		c := &list[i]
		project := ""
		if c.Key.ProjectID != 0 {
			project = strconv.FormatInt(c.Key.ProjectID, 10)
		}
		now := orNone(c.Now, "no longer an item")
		if c.Now == domain.ResultResolved {
			now = "resolved by hand"
		}
		t.Rows = append(t.Rows, row{{Text: c.Change()}, {Text: now}, {Text: c.Code}, {Text: c.Ref()},
			{Text: c.Key.Type}, numCell(project), {Text: r.when(c.CreatedAt, "—")}, numCell(money(c.Amount, sep))})
	}
	return t
}

// attentionTable lists the open exceptions that need a person first.
func (r *Report) attentionTable(sep string) table {
	t := table{
		Title: "Open exceptions that need a person, oldest and largest first",
		Cols: []column{{"result", false}, {"payment", false}, {"type", false}, {"amount", true}, {"age", true}, {"since", false},
			{"reason", false}},
	}
	list := r.Attention()
	if n := len(r.Open) - len(list); n > 0 {
		t.More = fmt.Sprintf("… and %d more open exceptions: all of them are listed below, oldest first.", n)
	}
	for i := range list {
		e := &list[i]
		since := "seen before"
		if e.New {
			since = "new"
		}
		t.Rows = append(t.Rows, row{{Text: e.Result, Alert: true}, {Text: e.Ref()}, {Text: e.Type}, numCell(money(e.Amount, sep)),
			numCell(age(e.Age)), {Text: since, Alert: e.New}, {Text: e.Reason}})
	}
	return t
}
