package export

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"reconciled/internal/analytics"
	"reconciled/internal/domain"
)

// drawnChart is a chart of a workbook as its parts say: the sheet it is
// drawn on, the cell its top left corner is anchored at (0-based), its
// title, kind (lineChart, barChart, …) and its series' references.
type drawnChart struct {
	sheet    string
	col, row int
	title    string
	kinds    []string
	series   []drawnSeries
}

type drawnSeries struct{ name, cats, vals string }

// chartsOf reads every chart of an XLSX from its zip parts, following the
// relationships from each sheet to its drawing to its charts: what a
// spreadsheet program reads, not what excelize says it wrote.
func chartsOf(t *testing.T, data []byte) []drawnChart {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string, v any) bool {
		f, err := z.Open(name)
		if err != nil {
			return false
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return true
	}
	// rels are a part's relationships: id to the target's part name.
	rels := func(part string) map[string]string {
		var r struct {
			Rel []struct {
				ID     string `xml:"Id,attr"`
				Target string `xml:"Target,attr"`
			} `xml:"Relationship"`
		}
		out := map[string]string{}
		if !read(path.Join(path.Dir(part), "_rels", path.Base(part)+".rels"), &r) {
			return out
		}
		for _, x := range r.Rel {
			target := x.Target
			if strings.HasPrefix(target, "/") {
				target = strings.TrimPrefix(target, "/")
			} else {
				target = path.Join(path.Dir(part), target)
			}
			out[x.ID] = target
		}
		return out
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if !read("xl/workbook.xml", &wb) {
		t.Fatal("no xl/workbook.xml")
	}
	wbRels := rels("xl/workbook.xml")
	var out []drawnChart
	for _, sh := range wb.Sheets {
		sheetPart := wbRels[sh.ID]
		var ws struct {
			Drawing []struct {
				ID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
			} `xml:"drawing"`
		}
		if !read(sheetPart, &ws) {
			t.Fatalf("sheet %q: no part %q", sh.Name, sheetPart)
		}
		for _, d := range ws.Drawing {
			drawingPart := rels(sheetPart)[d.ID]
			var dr struct {
				Anchors []struct {
					Col   int `xml:"from>col"`
					Row   int `xml:"from>row"`
					Chart struct {
						ID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
					} `xml:"graphicFrame>graphic>graphicData>chart"`
				} `xml:"twoCellAnchor"`
			}
			if !read(drawingPart, &dr) {
				t.Fatalf("sheet %q: no drawing %q", sh.Name, drawingPart)
			}
			drRels := rels(drawingPart)
			for _, a := range dr.Anchors {
				if a.Chart.ID == "" {
					continue
				}
				var cs struct {
					Chart struct {
						Title    []string `xml:"title>tx>rich>p>r>t"`
						PlotArea struct {
							Plot []struct {
								XMLName xml.Name
								Ser     []struct {
									Name   string `xml:"tx>strRef>f"`
									CatStr string `xml:"cat>strRef>f"`
									CatNum string `xml:"cat>numRef>f"`
									Val    string `xml:"val>numRef>f"`
								} `xml:"ser"`
							} `xml:",any"`
						} `xml:"plotArea"`
					} `xml:"chart"`
				}
				if !read(drRels[a.Chart.ID], &cs) {
					t.Fatalf("sheet %q: no chart %q", sh.Name, drRels[a.Chart.ID])
				}
				c := drawnChart{sheet: sh.Name, col: a.Col, row: a.Row, title: strings.Join(cs.Chart.Title, "")}
				for _, p := range cs.Chart.PlotArea.Plot {
					if !strings.HasSuffix(p.XMLName.Local, "Chart") {
						continue // the axes, the layout
					}
					c.kinds = append(c.kinds, p.XMLName.Local)
					for _, s := range p.Ser {
						c.series = append(c.series, drawnSeries{name: s.Name, cats: cmp.Or(s.CatStr, s.CatNum), vals: s.Val})
					}
				}
				out = append(out, c)
			}
		}
	}
	return out
}

// cellsOf are the raw values of a reference like 'Net per day'!$B$2:$B$9,
// top to bottom, and the sheet they are on.
func cellsOf(t *testing.T, f *excelize.File, ref string) (string, []string) {
	t.Helper()
	sheet, rng, ok := strings.Cut(ref, "!")
	if !ok {
		t.Fatalf("reference %q has no sheet", ref)
	}
	sheet = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(sheet, "'"), "'"), "''", "'")
	from, to, _ := strings.Cut(strings.ReplaceAll(rng, "$", ""), ":")
	to = cmp.Or(to, from)
	c1, r1, err := excelize.CellNameToCoordinates(from)
	if err != nil {
		t.Fatalf("reference %q: %v", ref, err)
	}
	c2, r2, err := excelize.CellNameToCoordinates(to)
	if err != nil || c1 != c2 {
		t.Fatalf("reference %q is not one column (%v)", ref, err)
	}
	var out []string
	for r := r1; r <= r2; r++ {
		cell, _ := excelize.CoordinatesToCellName(c1, r)
		v, err := f.GetCellValue(sheet, cell, excelizeRaw())
		if err != nil {
			t.Fatalf("%s!%s: %v", sheet, cell, err)
		}
		out = append(out, v)
	}
	return sheet, out
}

// expectedNet is what the chart must show, worked out from the
// settlement rows: per line, the day's net in major units ("" where the
// line has no row that day), and the days in order.
func expectedNet(rows []analytics.Settlement) (days []string, lines map[netLine]map[string]string) {
	lines = map[netLine]map[string]string{}
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.Day] {
			seen[r.Day] = true
			days = append(days, r.Day)
		}
		k := netLine{r.Currency, r.Project}
		if lines[k] == nil {
			lines[k] = map[string]string{}
		}
		exp, err := domain.Exponent(r.Currency)
		if err != nil {
			panic(err)
		}
		lines[k][r.Day] = trimZeros(string(domain.AppendMajor(nil, r.Net, exp)))
	}
	slices.Sort(days)
	return days, lines
}

// netChartsOf are the charts of the net settlement: those whose series
// come from the Net per day sheet, in the order they are drawn.
func netChartsOf(charts []drawnChart) []drawnChart {
	var found []drawnChart
	for _, c := range charts {
		for _, s := range c.series {
			if strings.HasPrefix(s.vals, "'Net per day'!") {
				found = append(found, c)
				break
			}
		}
	}
	return found
}

// checkNetChart checks the charts of the net settlement: each a line
// chart on Charts, below the two of By day and the note and apart from
// each other, of one currency, which its title names, never two of the
// same; each line the day's net of one currency (and project) as the
// settlement rows have it, from one column of the Net per day sheet named
// after them, with the days as categories. It returns the lines drawn.
func checkNetChart(t *testing.T, data []byte, s *analytics.Summary, several bool) []netLine {
	t.Helper()
	f := openXLSX(t, data)
	charts := netChartsOf(chartsOf(t, data))
	if len(charts) == 0 {
		t.Fatal("no chart of the net settlement")
	}
	days, want := expectedNet(s.Settlement)
	var drawn []netLine
	var currencies []string
	top := 35 // rows 0 to 33 hold the charts of By day (anchored at 0 and 17, 320 px high), 34 the note
	for _, c := range charts {
		if c.sheet != "Charts" || !slices.Equal(c.kinds, []string{"lineChart"}) {
			t.Errorf("a net chart is a %v on %q, want a lineChart on Charts", c.kinds, c.sheet)
		}
		// 320 px and a 10 px offset are 17 rows of 20 px.
		if c.col != 0 || c.row < top {
			t.Errorf("the net chart %q is anchored at column %d row %d, over what is above it (up to row %d)", c.title, c.col, c.row, top-1)
		}
		top = c.row + 17
		for r := c.row + 1; r <= top; r++ {
			if v, _ := f.GetCellValue("Charts", "A"+strconv.Itoa(r)); v != "" {
				t.Errorf("Charts!A%d %q is under the net chart %q", r, v, c.title)
			}
		}
		cur := ""
		for _, ser := range c.series {
			_, cats := cellsOf(t, f, ser.cats)
			if len(cats) != len(days) {
				t.Fatalf("series %s has %d days, the settlement %d", ser.name, len(cats), len(days))
			}
			for i, d := range days {
				day, err := f.GetCellValue("Net per day", "A"+strconv.Itoa(i+2))
				if err != nil || day != d {
					t.Errorf("Net per day row %d is %q, want %s", i+2, day, d)
				}
			}
			sheet, name := cellsOf(t, f, ser.name)
			if sheet != "Net per day" || len(name) != 1 {
				t.Fatalf("series name %q", ser.name)
			}
			var k netLine
			if several {
				if _, err := fmt.Sscanf(name[0], "net %s project %d", &k.currency, &k.project); err != nil {
					t.Fatalf("series %q: %v (want \"net CUR, project P\")", name[0], err)
				}
				k.currency = strings.TrimSuffix(k.currency, ",")
			} else if _, err := fmt.Sscanf(name[0], "net %s", &k.currency); err != nil || strings.Contains(name[0], "project") {
				t.Fatalf("series %q (want \"net CUR\": one project)", name[0])
			} else {
				k.project = s.Settlement[0].Project
			}
			if cur == "" {
				cur = k.currency
				if slices.Contains(currencies, cur) {
					t.Errorf("two charts of %s", cur)
				}
				currencies = append(currencies, cur)
				if !strings.HasSuffix(c.title, ", "+cur) {
					t.Errorf("the chart of %s is titled %q", cur, c.title)
				}
			} else if k.currency != cur {
				t.Errorf("the chart %q draws %s beside %s: one axis for two currencies", c.title, k.currency, cur)
			}
			if slices.Contains(drawn, k) {
				t.Errorf("two series of %v", k)
			}
			drawn = append(drawn, k)
			if want[k] == nil {
				t.Fatalf("series %q: the settlement has no rows of %v", name[0], k)
			}
			_, vals := cellsOf(t, f, ser.vals)
			if len(vals) != len(days) {
				t.Fatalf("series %q: %d values for %d days", name[0], len(vals), len(days))
			}
			for i, d := range days {
				if vals[i] != want[k][d] {
					t.Errorf("series %q on %s: %q, the settlement's net is %q", name[0], d, vals[i], want[k][d])
				}
			}
		}
	}
	return drawn
}

func TestSummaryChartsTheNetSettlementPerDay(t *testing.T) {
	s := fakeSummary(t)
	var b bytes.Buffer
	if err := SummaryXLSX(&b, s, XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	_, want := expectedNet(s.Settlement)
	projects := map[int64]bool{}
	currencies := map[string]bool{}
	for k := range want {
		projects[k.project], currencies[k.currency] = true, true
	}
	if len(projects) < 2 || len(currencies) < 2 || len(want) > maxNetLines {
		t.Fatalf("the fake's settlement has lines %v; the test needs two projects, two currencies and no more than %d lines", want, maxNetLines)
	}
	drawn := checkNetChart(t, b.Bytes(), s, true)
	wantLines := slices.SortedFunc(maps.Keys(want), compareLines)
	if got := slices.SortedFunc(slices.Values(drawn), compareLines); !slices.Equal(got, wantLines) {
		t.Errorf("the net chart draws %v, want one line per currency and project %v", got, wantLines)
	}
	f := openXLSX(t, b.Bytes())
	if v, _ := f.GetCellValue("Charts", "A35"); v != "" {
		t.Errorf("a note %q though every line is drawn", v)
	}
}

func compareLines(x, y netLine) int {
	return cmp.Or(cmp.Compare(x.currency, y.currency), cmp.Compare(x.project, y.project))
}

// settlementOf makes a summary of settlement rows (and one day of
// operations, for the charts of By day).
func settlementOf(rows ...analytics.Settlement) *analytics.Summary {
	return &analytics.Summary{ByDay: []analytics.Row{{Key: "2026-11-01", Totals: analytics.Totals{Operations: 1, Success: 1}}}, Settlement: rows}
}

func TestSummaryNetChartOfOneProjectNamesCurrencies(t *testing.T) {
	s := settlementOf(
		analytics.Settlement{Day: "2026-11-01", Project: 7, Currency: "EUR", Purchases: 1050, Net: 1050, Operations: 1},
		analytics.Settlement{Day: "2026-11-01", Project: 7, Currency: "JPY", Purchases: 300, Fees: 7, Net: 293, Operations: 2},
		analytics.Settlement{Day: "2026-11-03", Project: 7, Currency: "EUR", Refunds: 2000, Net: -2000, Operations: 1},
	)
	var b bytes.Buffer
	if err := SummaryXLSX(&b, s, XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	drawn := checkNetChart(t, b.Bytes(), s, false)
	if want := []netLine{{"EUR", 7}, {"JPY", 7}}; !slices.Equal(drawn, want) {
		t.Errorf("lines %v, want %v", drawn, want)
	}
}

func TestSummaryNetChartCapsItsLines(t *testing.T) {
	// 12 lines, 3 currencies in 4 projects; the line of project p in
	// currency c has 10*p+c operations, so the 8 busiest are known.
	var rows []analytics.Settlement
	curs := []string{"EUR", "USD", "UZS"}
	for _, day := range []string{"2026-11-01", "2026-11-02"} {
		for p := int64(1); p <= 4; p++ {
			for c, cur := range curs {
				rows = append(rows, analytics.Settlement{Day: day, Project: p, Currency: cur, Purchases: 100 * p, Net: 100 * p,
					Operations: int(10*p) + c})
			}
		}
	}
	s := settlementOf(rows...)
	var b bytes.Buffer
	if err := SummaryXLSX(&b, s, XLSXOptions{}); err != nil {
		t.Fatal(err)
	}
	drawn := checkNetChart(t, b.Bytes(), s, true)
	var busiest []netLine
	for p := int64(2); p <= 4; p++ {
		for _, cur := range curs {
			busiest = append(busiest, netLine{cur, p})
		}
	}
	busiest = busiest[1:] // project 2's EUR has the fewest of these
	slices.SortFunc(busiest, compareLines)
	if got := slices.SortedFunc(slices.Values(drawn), compareLines); !slices.Equal(got, busiest) {
		t.Errorf("the capped chart draws %v, want the %d busiest %v", got, maxNetLines, busiest)
	}
	f := openXLSX(t, b.Bytes())
	note, _ := f.GetCellValue("Charts", "A35")
	if !strings.Contains(note, "8 of the 12") || !strings.Contains(note, "Net per day") {
		t.Errorf("note %q does not say the chart is capped and where the rest is", note)
	}
	header, _ := f.GetRows("Net per day")
	if len(header) != 3 || len(header[0]) != 13 {
		t.Errorf("Net per day has %d rows, header %q; want every line's column", len(header), header)
	}
}

func TestSummaryWithoutSettlementDrawsNoNetChart(t *testing.T) {
	for name, s := range map[string]*analytics.Summary{
		"no operations":  {},
		"no money moved": settlementOf(),
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := SummaryXLSX(&b, s, XLSXOptions{}); err != nil {
				t.Fatal(err)
			}
			charts := chartsOf(t, b.Bytes())
			if n := len(netChartsOf(charts)); n != 0 {
				t.Errorf("%d charts of an empty settlement", n)
			}
			f := openXLSX(t, b.Bytes())
			rows, err := f.GetRows("Net per day")
			if err != nil || len(rows) != 1 || !slices.Equal(rows[0], []string{"day"}) {
				t.Errorf("Net per day: %q, %v; want its header alone", rows, err)
			}
			if len(s.ByDay) == 0 {
				if len(charts) != 0 {
					t.Errorf("%d charts of no operations", len(charts))
				}
				return
			}
			if len(charts) != 2 {
				t.Errorf("%d charts, want the two of By day", len(charts))
			}
			if note, _ := f.GetCellValue("Charts", "A35"); !strings.Contains(note, "no settlement") {
				t.Errorf("note %q does not say why there is no chart of the net", note)
			}
		})
	}
}
