package export

import (
	"math"
	"strconv"
	"time"

	"reconciled/internal/domain"
)

// The register is a million rows; what a row costs is what the export
// costs. A row's text cells are the operation's own strings (neutralised
// and masked, which allocates only when it changes one); its numbers and
// times are formatted into one buffer that becomes one string, sliced into
// the cells. Exponents and the zone's offset are looked up once, not per
// cell (exponents, wallClock).

// registerRow formats operations as the register's text cells.
type registerRow struct {
	clock wallClock
	exp   exponents
	buf   []byte
	ends  [8]int // where each formatted cell ends in buf
	cells []string
	// chargebacks fill the chargeback column (CSVOptions.Chargebacks).
	chargebacks Chargebacks
}

func newRegisterRow(loc *time.Location) *registerRow {
	return &registerRow{clock: wallClock{loc: loc}, cells: make([]string, len(OperationColumns))}
}

// format returns op's cells, valid until the next call. Account numbers
// and messages are masked again (domain.MaskAccount is idempotent): a
// database of an earlier release may hold "4111111111111111*" as it came.
func (r *registerRow) format(op *domain.Operation) []string {
	b := r.buf[:0]
	e := &r.ends
	b = strconv.AppendInt(b, op.ProjectID, 10)
	e[0] = len(b)
	b = strconv.AppendUint(b, op.OperationID, 10)
	e[1] = len(b)
	b = r.exp.appendMajor(b, op.SumInitial)
	e[2] = len(b)
	b = r.exp.appendMajor(b, op.SumConverted)
	e[3] = len(b)
	if op.ProviderID != 0 {
		b = strconv.AppendInt(b, op.ProviderID, 10)
	}
	e[4] = len(b)
	b = r.clock.append(b, op.CreatedAt)
	e[5] = len(b)
	b = r.clock.append(b, op.CompletedAt)
	e[6] = len(b)
	b = r.exp.appendMajor(b, op.Fee)
	e[7] = len(b)
	r.buf = b
	s := string(b)
	c := r.cells
	c[0] = s[:e[0]]
	c[1] = Neutralize(op.PaymentID)
	c[2] = Neutralize(op.PaymentType)
	c[3] = Neutralize(op.PaymentStatus)
	c[4] = s[e[0]:e[1]]
	c[5] = Neutralize(op.OperationType)
	c[6] = Neutralize(op.OperationStatus)
	c[7] = Neutralize(op.PaymentMethod)
	c[8] = s[e[1]:e[2]]
	c[9] = op.SumInitial.Currency
	c[10] = s[e[2]:e[3]]
	c[11] = op.SumConverted.Currency
	c[12] = Neutralize(domain.MaskAccount(op.AccountNumber))
	c[13] = Neutralize(op.CustomerID)
	c[14] = s[e[3]:e[4]]
	c[15] = Neutralize(op.ProviderPaymentID)
	c[16] = Neutralize(op.Code)
	c[17] = Neutralize(domain.MaskCardNumbers(op.Message))
	c[18] = s[e[4]:e[5]]
	c[19] = s[e[5]:e[6]]
	c[20] = s[e[6]:e[7]]
	c[21] = op.Fee.Currency
	c[22] = Neutralize(r.chargebacks.of(op))
	return c
}

// exponents remembers the currencies' decimals seen so far: a register
// holds a few currencies, looked up a million times.
type exponents struct {
	codes []string
	exps  []int // -1: not an ISO 4217 code
}

// of returns currency's decimals, or -1 for a code ISO 4217 does not know.
func (x *exponents) of(currency string) int {
	for i, c := range x.codes {
		if c == currency {
			return x.exps[i]
		}
	}
	exp, err := domain.Exponent(currency)
	if err != nil {
		exp = -1
	}
	if len(x.codes) < 32 {
		x.codes = append(x.codes, currency)
		x.exps = append(x.exps, exp)
	}
	return exp
}

// appendMajor appends m in major units: nothing without a currency, minor
// units for a currency ISO 4217 does not know (the ledger refuses those; an
// earlier release may not have).
func (x *exponents) appendMajor(b []byte, m domain.Money) []byte {
	if m.Currency == "" {
		return b
	}
	exp := x.of(m.Currency)
	if exp < 0 {
		return strconv.AppendInt(b, m.Amount, 10)
	}
	return domain.AppendMajor(b, m.Amount, exp)
}

// wallClock writes times as TimeLayout in loc, as t.In(loc).Format does.
// It keeps the zone's offset for the period it is valid in (an export is
// in time order, so a period serves many rows) and the last day's date.
type wallClock struct {
	loc         *time.Location
	from, until int64 // the cached offset holds for Unix seconds in [from, until)
	offset      int64
	day         int64 // days since 1970 of the cached date, in wall time
	date        [11]byte
	known       bool // from, until and offset are set
	dated       bool // day and date are set
}

const secondsPerDay = 86400

// append appends t as TimeLayout in the clock's zone; nothing for the zero
// time.
func (c *wallClock) append(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	u := t.Unix()
	if u < -1<<40 || u > 1<<40 { // beyond the years of four digits, and far from overflowing
		return t.In(c.loc).AppendFormat(b, TimeLayout)
	}
	w := u + c.offsetAt(t, u)
	day := w / secondsPerDay
	if w%secondsPerDay < 0 {
		day--
	}
	if !c.dated || day != c.day {
		y, m, d := time.Unix(day*secondsPerDay, 0).UTC().Date()
		if y < 1000 || y > 9999 { // Format's own rules for the rare year of other than four digits
			c.dated = false
			return t.In(c.loc).AppendFormat(b, TimeLayout)
		}
		c.date = [11]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
			byte('0' + int(m)/10), byte('0' + int(m)%10), '-', byte('0' + d/10), byte('0' + d%10), ' '}
		c.day, c.dated = day, true
	}
	s := w - day*secondsPerDay
	h, mi, se := s/3600, s/60%60, s%60
	b = append(b, c.date[:]...)
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+se/10), byte('0'+se%10))
}

// wall returns t's wall clock in the zone to the second, as a time in UTC:
// what a spreadsheet's date cell shows (it has no zones).
func (c *wallClock) wall(t time.Time) time.Time {
	u := t.Unix()
	if u < -1<<40 || u > 1<<40 {
		l := t.In(c.loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	}
	return time.Unix(u+c.offsetAt(t, u), 0).UTC()
}

// offsetAt is the zone's offset at t, whose Unix time is u.
func (c *wallClock) offsetAt(t time.Time, u int64) int64 {
	if !c.known || u < c.from || u >= c.until {
		l := t.In(c.loc)
		_, off := l.Zone()
		start, end := l.ZoneBounds()
		c.offset, c.from, c.until = int64(off), math.MinInt64, math.MaxInt64
		if !start.IsZero() {
			c.from = start.Unix()
		}
		if !end.IsZero() {
			c.until = end.Unix()
		}
		c.known = true
	}
	return c.offset
}
