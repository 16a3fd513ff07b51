package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws a progress bar on a terminal for work that takes over a
// second; on anything else (a pipe, a log file, the journal, the control
// socket) it draws nothing. It is the app.Progress of a command.
type progress struct {
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

// newProgress is the progress of work called desc, drawn on w if it is a
// terminal.
func newProgress(w io.Writer, desc string) *progress {
	return &progress{w: w, desc: desc, total: -1, start: time.Now(), enabled: isTerminal(w)}
}

// Total sets the work's size (before the bar is drawn).
func (p *progress) Total(n int64) { p.total = n }

// Add counts k more units.
func (p *progress) Add(k int) {
	p.n += int64(k)
	if !p.enabled || p.finished || p.n&1023 != 0 {
		return
	}
	p.draw()
}

// Set sets the count and the description (sync's totals).
func (p *progress) Set(n int64, desc string) {
	p.n, p.desc = n, desc
	if p.enabled && !p.finished {
		p.draw()
	}
}

func (p *progress) draw() {
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
func (p *progress) Done() {
	if p.bar != nil && !p.finished {
		p.bar.Finish()
	}
	p.finished = true
}
