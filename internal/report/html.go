package report

import (
	"bufio"
	"html/template"
	"io"
	"strings"
)

// The HTML form is a mail body: one standalone document, tables, every
// style inline (mail clients drop <style> elements and links), no image,
// no script, nothing fetched from anywhere. html/template escapes every
// value; the styles are constants of this file.

const (
	styleBody     = "margin:0;padding:16px;background-color:#ffffff;color:#1f2328;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.4"
	styleTable    = "border-collapse:collapse;font-size:13px;margin:0 0 8px 0"
	styleCell     = "border:1px solid #d0d7de;padding:3px 6px"
	styleHead     = styleCell + ";background-color:#eef2f7;font-weight:bold;white-space:nowrap"
	styleLeft     = ";text-align:left"
	styleRight    = ";text-align:right"
	styleNowrap   = ";white-space:nowrap"
	styleTotal    = ";font-weight:bold;background-color:#f6f8fa"
	styleAlert    = ";color:#b42318"
	styleNone     = "margin:0 0 8px 0;color:#57606a"
	styleH1       = "font-size:20px;margin:0 0 4px 0"
	styleH2       = "font-size:16px;margin:20px 0 6px 0"
	styleFootnote = "margin:20px 0 0 0;font-size:12px;color:#57606a"
)

// Cells are short to keep a long list of exceptions a reasonable mail:
// left alignment is the default; numbers, ids, codes and times do not
// wrap, a long reason does.

func thStyle(c column) template.CSS {
	if c.Num {
		return template.CSS(styleHead + styleRight)
	}
	return template.CSS(styleHead + styleLeft)
}

func tdStyle(c cell) template.CSS {
	s := styleCell
	switch {
	case c.Num:
		s += styleRight + styleNowrap
	case len(c.Text) <= 24:
		s += styleNowrap
	}
	if c.Total {
		s += styleTotal
	}
	if c.Alert {
		s += styleAlert
	}
	return template.CSS(s)
}

// tableHTML draws one table, and what it left out: the report's and the
// alert's.
const tableHTML = `{{define "table"}}<table cellpadding="4" cellspacing="0" border="1" style="{{tableStyle}}">
<tr>{{range .Cols}}<th{{if .Num}} align="right"{{else}} align="left"{{end}} style="{{thStyle .}}">{{.Name}}</th>{{end}}</tr>
{{- range .Rows}}
<tr valign="top">{{range .}}<td{{if .Num}} align="right"{{end}} style="{{tdStyle .}}">{{.Text}}</td>{{end}}</tr>
{{- end}}
</table>
{{- with .More}}
<p style="{{noneStyle}}">{{.}}</p>
{{- end}}{{end}}`

// pageTemplate is a page of the mail's HTML: the funcs and the table it
// draws tables with, then its own text.
func pageTemplate(name, text string) *template.Template {
	return template.Must(template.Must(template.New(name).Funcs(template.FuncMap{
		"thStyle": thStyle, "tdStyle": tdStyle,
		"tableStyle": func() template.CSS { return styleTable },
		"noneStyle":  func() template.CSS { return styleNone },
	}).Parse(tableHTML)).Parse(text))
}

var page = pageTemplate("report", `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="{{.Style.Body}}">
<h1 style="{{.Style.H1}}">Reconciliation report for {{.Day}}</h1>
<p style="{{.Style.None}}">{{.Lead}}</p>
{{- range .Tables}}
<h2 style="{{$.Style.H2}}">{{.Title}}</h2>
{{- if .Rows}}
{{template "table" .}}
{{- else}}
<p style="{{$.Style.None}}">none</p>
{{- end}}
{{- end}}
<p style="{{.Style.Footnote}}">Amounts are in each currency's own units, never added across currencies. An item counts ECommPay's amount where it has an operation, else the merchant's. Ages are measured to the time the report was made; the XLSX form of this report has every column.</p>
</body>
</html>
`)

type htmlStyle struct{ Body, None, H1, H2, Footnote template.CSS }

// mailStyle is the styles a page uses beside its tables'.
var mailStyle = htmlStyle{Body: styleBody, None: styleNone, H1: styleH1, H2: styleH2, Footnote: styleFootnote}

// HTML writes the report as a standalone HTML document for a mail body.
func (r *Report) HTML(w io.Writer) error {
	tables := r.tables("\u00a0") // a no-break space between thousands: every mail font has it
	for _, t := range tables {
		for _, row := range t.Rows {
			for i := range row {
				row[i].Text = strings.ToValidUTF8(row[i].Text, "\uFFFD")
			}
		}
	}
	bw := bufio.NewWriter(w)
	if err := page.Execute(bw, struct {
		Subject, Day, Lead string
		Tables             []table
		Style              htmlStyle
	}{
		Subject: r.Subject(), Day: r.Day(), Lead: r.lead(), Tables: tables,
		Style: mailStyle,
	}); err != nil {
		return err
	}
	return bw.Flush()
}
