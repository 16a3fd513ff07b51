package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"reconciled/internal/analytics"
	"reconciled/internal/app"
	"reconciled/internal/domain"
)

// summaries kept, merged (by window, of the partials held).
const keptSummaries = 8

// summary is the analytics of [from, to), whole days of the zone: the
// merge of those days' partials (analytics.Days, of every operation
// stored, made in one pass in the background and held). With none held
// the request waits for them up to FirstWait, then gets the job making
// them (the page says "being prepared" and reloads itself). After any
// write (the database's generation moved on: a sync page, a job's note,
// the outbox) the partials held are still merged and served, stale (true,
// with when they were made), while new ones are made in the background,
// once at a time. A window that is not whole days (never the page's own)
// is a pass over its operations, as before.
func (s *Server) summary(ctx context.Context, a *app.App, from, to time.Time) (*analytics.Summary, time.Time, bool, *job, error) {
	gen, err := a.Ledger.Generation()
	if err != nil {
		return nil, time.Time{}, false, nil, err
	}
	zone := a.Config.Zone().String()
	window := fmt.Sprintf("%d %d", from.UnixNano(), to.UnixNano())
	s.mu.Lock()
	s.touchLocked()
	s.mu.Unlock()
	for waited := false; ; waited = true {
		s.sumMu.Lock()
		if f := s.daysFailed; f != nil && f.gen == gen && f.zone == zone && (s.days == nil || s.days.gen != gen || s.days.zone != zone) {
			s.sumMu.Unlock()
			return nil, time.Time{}, false, nil, &prepareError{"the analytics", f.err}
		}
		if h := s.days; h != nil && h.zone == zone {
			stale := h.gen != gen
			if stale {
				s.startDays(a)
			}
			for i, c := range s.sums {
				if c.window == window && c.of == h {
					s.sums = append(slices.Delete(s.sums, i, i+1), c) // the most recent last
					s.sumMu.Unlock()
					return c.s, h.made, stale, nil, nil
				}
			}
			s.sumMu.Unlock()
			sum, ok := h.d.Summary(from, to) // h.d is only read once made
			if !ok {
				made := time.Now()
				sum, err := a.Summary(ctx, app.SummaryRequest{From: from, To: to})
				return sum, made, false, nil, err
			}
			s.sumMu.Lock()
			s.sums = append(s.sums, &cachedSummary{window: window, of: h, s: sum})
			if len(s.sums) > keptSummaries {
				s.sums = slices.Delete(s.sums, 0, len(s.sums)-keptSummaries)
			}
			s.sumMu.Unlock()
			return sum, h.made, stale, nil, nil
		}
		j := s.startDays(a)
		s.sumMu.Unlock()
		if waited || !j.wait(ctx, s.o.FirstWait) {
			return nil, time.Time{}, false, j, nil
		}
		if errors.Is(j.err, context.Canceled) { // stopped by Drop: the next page makes them anew
			return nil, time.Time{}, false, j, nil
		}
		if j.err != nil {
			return nil, time.Time{}, false, nil, &prepareError{"the analytics", j.err}
		}
	}
}

type analyticsPage struct {
	From, To             string
	Preparing            string // "N of M operations read": nothing to show yet
	S                    *analytics.Summary
	Totals               []totalsRow
	ByMethod, ByCurrency []totalsRow
	ByProject, ByStatus  []totalsRow
	TimeToFinal          []analytics.TimeToFinal
	Volumes              []volumeRow
	Declines             []analytics.Decline
	VolumeCharts         []chart
	Approval             chart
}

type totalsRow struct {
	Key                                   string
	Operations, Success, Decline, Pending int
	Rate, Volume                          string
}

type volumeRow struct {
	Currency                       string
	Purchases, Payouts, Refunds    string
	NPurchases, NPayouts, NRefunds int
}

func rateText(t analytics.Totals) string {
	r, ok := t.ApprovalRate()
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(100*r, 'f', 1, 64) + " %"
}

func totalsOf(rows []analytics.Row) []totalsRow {
	out := make([]totalsRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, totalsRow{Key: r.Key, Operations: r.Operations, Success: r.Success, Decline: r.Decline, Pending: r.Pending,
			Rate: rateText(r.Totals), Volume: amountsText(r.Volume)})
	}
	return out
}

// parseWindow reads the analytics' window: from and to as days
// (inclusive) in zone; by default the 30 days up to today. Its ends are
// the days' starts (domain.DayStart), found from the days' dates,
// never by adding days to an instant: that carries the clock's hour, and
// a day that begins at 01:00 (America/Santiago) moved the next ends an
// hour.
func parseWindow(fromS, toS string, now time.Time, loc *time.Location) (from, to time.Time, fromDay, toDay string) {
	date := func(s string) (time.Time, bool) { // the day's date, as a UTC midnight
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		return t, err == nil
	}
	y, m, d := now.In(loc).Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if t, ok := date(toS); ok {
		last = t
	}
	first := last.AddDate(0, 0, -29)
	if t, ok := date(fromS); ok && !t.After(last) {
		first = t
	}
	start := func(day time.Time) time.Time { return domain.DayStart(day.Year(), day.Month(), day.Day(), loc) }
	return start(first), start(last.AddDate(0, 0, 1)), first.Format(time.DateOnly), last.Format(time.DateOnly)
}

func (s *Server) analytics(w http.ResponseWriter, r *http.Request) {
	a := s.o.App()
	loc := a.Config.Zone()
	v := r.URL.Query()
	from, to, fromDay, toDay := parseWindow(v.Get("from"), v.Get("to"), s.now(a), loc)
	sum, made, stale, j, err := s.summary(r.Context(), a, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if j != nil {
		s.render(w, r, http.StatusOK, "analytics.html", view{Title: "Analytics", Nav: "analytics", Zone: loc.String(), Refresh: refreshSeconds,
			Page: analyticsPage{From: fromDay, To: toDay, Preparing: j.progressText()}})
		return
	}
	note := ""
	if stale {
		note = "Of the data as it was at " + made.In(loc).Format("2006-01-02 15:04:05 MST") +
			"; the data changed since, and is being summed again: reload in a few seconds."
	}
	p := analyticsPage{From: fromDay, To: toDay, S: sum,
		Totals:   totalsOf([]analytics.Row{{Key: "all", Totals: sum.Total}}),
		ByMethod: totalsOf(sum.ByMethod), ByCurrency: totalsOf(sum.ByCurrency), ByProject: totalsOf(sum.ByProject),
		ByStatus: totalsOf(sum.ByStatus), TimeToFinal: sum.TimeToFinal}
	for _, vol := range sum.Volume {
		p.Volumes = append(p.Volumes, volumeRow{Currency: vol.Currency, Purchases: money(vol.Purchases, vol.Currency),
			Payouts: money(vol.Payouts, vol.Currency), Refunds: money(vol.Refunds, vol.Currency),
			NPurchases: vol.NPurchases, NPayouts: vol.NPayouts, NRefunds: vol.NRefunds})
	}
	p.Declines = sum.Declines[:min(len(sum.Declines), 10)]
	days := dayList(from, to, loc)
	p.VolumeCharts = volumeCharts(sum, days)
	p.Approval = approvalChart(sum, days)
	s.render(w, r, http.StatusOK, "analytics.html", view{Title: "Analytics", Nav: "analytics", Zone: loc.String(), Note: note, Page: p})
}

// dayList is every day of [from, to) as the summaries key them.
func dayList(from, to time.Time, loc *time.Location) []string {
	var out []string
	y, m, dd := from.In(loc).Date()
	for d := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC); domain.DayStart(d.Year(), d.Month(), d.Day(), loc).Before(to) && len(out) < 3660; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// chart is a server-drawn SVG: bars or lines, drawn into template.HTML
// from numbers only (every text in it is escaped here).
type chart struct {
	ID, Title string
	SVG       template.HTML
	Legend    []legend
}

type legend struct{ Name, Class string }

// A chart's box: the plot is [padL, chartW] × [padT, chartH-padB]; the
// top value is written above the plot, right of the axis (a value as
// wide as "332316150.38 UZS" does not fit left of it), and a day's label
// only where it ends inside the box.
const (
	chartW, chartH   = 720, 200
	padL, padB, padT = 70, 24, 20
	dayLabelW        = 70 // room for "2026-11-01" at the label's size
)

// volumeCharts draw the successful volume per day, one chart per
// currency (the three largest).
func volumeCharts(sum *analytics.Summary, days []string) []chart {
	totals := map[string]int64{}
	byDay := map[string]map[string]int64{}
	for _, r := range sum.ByDay {
		byDay[r.Key] = r.Volume
		for c, v := range r.Volume {
			totals[c] += v
		}
	}
	curs := slices.SortedFunc(maps.Keys(totals), func(x, y string) int { return cmp.Or(cmp.Compare(totals[y], totals[x]), cmp.Compare(x, y)) })
	var out []chart
	for _, cur := range curs[:min(len(curs), 3)] {
		vals := make([]int64, len(days))
		var top int64
		for i, d := range days {
			vals[i] = byDay[d][cur]
			top = max(top, vals[i])
		}
		var b strings.Builder
		svgOpen(&b, "Successful volume per day, "+cur)
		axis(&b, days, money(top, cur), "0")
		if top > 0 {
			bw := float64(chartW-padL) / float64(len(days))
			for i, v := range vals {
				h := float64(chartH-padB-padT) * float64(v) / float64(top)
				fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
					float64(padL)+float64(i)*bw+1, float64(chartH-padB)-h, max(bw-2, 1), h, template.HTMLEscapeString(days[i]), template.HTMLEscapeString(money(v, cur)))
			}
		}
		b.WriteString("</svg>")
		out = append(out, chart{ID: "chart-volume-" + cur, Title: "Volume per day, " + cur, SVG: template.HTML(b.String())})
	}
	return out
}

// approvalChart draws the approval rate per day of the six methods with
// the most operations, a line each (a day without a final operation of
// the method breaks its line).
func approvalChart(sum *analytics.Summary, days []string) chart {
	ops := map[string]int{}
	rate := map[[2]string]float64{}
	for _, ap := range sum.Approval {
		ops[ap.Method] += ap.Operations
		if r, ok := ap.ApprovalRate(); ok {
			rate[[2]string{ap.Method, ap.Day}] = r
		}
	}
	methods := slices.SortedFunc(maps.Keys(ops), func(x, y string) int { return cmp.Or(cmp.Compare(ops[y], ops[x]), cmp.Compare(x, y)) })
	methods = methods[:min(len(methods), 6)]
	c := chart{ID: "chart-approval", Title: "Approval rate per day by method"}
	var b strings.Builder
	svgOpen(&b, c.Title)
	axis(&b, days, "100 %", "0 %")
	step := float64(chartW-padL) / float64(max(len(days), 1))
	for k, m := range methods {
		class := "s" + strconv.Itoa(k)
		c.Legend = append(c.Legend, legend{Name: m, Class: class})
		var path strings.Builder
		pen := "M"
		for i, d := range days {
			r, ok := rate[[2]string{m, d}]
			if !ok {
				pen = "M"
				continue
			}
			x := float64(padL) + (float64(i)+0.5)*step
			y := float64(chartH-padB) - float64(chartH-padB-padT)*r
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, x, y)
			pen = "L"
		}
		if path.Len() > 0 {
			fmt.Fprintf(&b, `<path class="line %s" d="%s"><title>%s</title></path>`, class, strings.TrimSpace(path.String()), template.HTMLEscapeString(m))
		}
	}
	b.WriteString("</svg>")
	c.SVG = template.HTML(b.String())
	return c
}

func svgOpen(b *strings.Builder, label string) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(label))
}

// axis draws the frame, the top and bottom labels and a few day labels.
func axis(b *strings.Builder, days []string, top, bottom string) {
	fmt.Fprintf(b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/><line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`,
		padL, padT, padL, chartH-padB, padL, chartH-padB, chartW, chartH-padB)
	fmt.Fprintf(b, `<text class="label" x="%d" y="%d">%s</text><text class="label" x="%d" y="%d" text-anchor="end">%s</text>`,
		padL+4, padT-6, template.HTMLEscapeString(top), padL-4, chartH-padB, template.HTMLEscapeString(bottom))
	if len(days) == 0 {
		return
	}
	step := float64(chartW-padL) / float64(len(days))
	every := max(1, len(days)/6)
	for i := 0; i < len(days) && float64(padL)+float64(i)*step+dayLabelW <= chartW; i += every {
		fmt.Fprintf(b, `<text class="label" x="%.1f" y="%d">%s</text>`, float64(padL)+float64(i)*step, chartH-6, template.HTMLEscapeString(days[i]))
	}
}
