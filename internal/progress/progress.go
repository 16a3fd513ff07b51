// Package progress draws a progress bar on a terminal (schollz/progressbar)
// for work that takes over a second; on anything else (a pipe, a log file,
// the journal, the daemon's control socket) it draws nothing. A Bar is the
// app.Progress a command hands a long use case.
package progress

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar is the progress of one piece of work.
type Bar struct {
	w        io.Writer
	desc     string
	shown    string // the description on the bar
	total    int64  // -1: unknown, a spinner
	n        int64
	start    time.Time
	bar      *progressbar.ProgressBar
	enabled  bool
	finished bool
}

// New is the progress of work called desc, drawn on w if it is a terminal.
func New(w io.Writer, desc string) *Bar {
	return &Bar{w: w, desc: desc, total: -1, start: time.Now(), enabled: IsTerminal(w)}
}

// IsTerminal says whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Total sets the work's size (before the bar is drawn).
func (p *Bar) Total(n int64) { p.total = n }

// Add counts k more units.
func (p *Bar) Add(k int) {
	p.n += int64(k)
	if !p.enabled || p.finished || p.n&1023 != 0 {
		return
	}
	p.draw()
}

// Set sets the count and the description (sync's totals).
func (p *Bar) Set(n int64, desc string) {
	p.n, p.desc = n, desc
	if p.enabled && !p.finished {
		p.draw()
	}
}

func (p *Bar) draw() {
	if p.bar == nil {
		if time.Since(p.start) < time.Second {
			return
		}
		p.shown = p.desc
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionShowCount(),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	if p.desc != p.shown { // Describe redraws: only when it changed
		p.bar.Describe(p.desc)
		p.shown = p.desc
	}
	p.bar.Set64(p.n)
}

// Done removes the bar.
func (p *Bar) Done() {
	if p.bar != nil && !p.finished {
		p.bar.Finish()
	}
	p.finished = true
}
