package main

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws a progress bar on a terminal for work that takes over a
// second; on anything else (a pipe, a log file, the journal) it draws
// nothing.
type progress struct {
	m        *Main
	desc     string
	shown    string // the description on the bar
	total    int64  // -1: unknown, a spinner
	n        int64
	start    time.Time
	bar      *progressbar.ProgressBar
	enabled  bool
	finished bool
}

func (m *Main) newProgress(desc string, total int64) *progress {
	return &progress{m: m, desc: desc, total: total, start: time.Now(), enabled: m.stderrIsTerminal()}
}

// add counts k more units.
func (p *progress) add(k int) {
	p.n += int64(k)
	if !p.enabled || p.finished || p.n&1023 != 0 {
		return
	}
	p.draw()
}

// set sets the count and the description (sync's totals).
func (p *progress) set(n int64, desc string) {
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
			progressbar.OptionSetWriter(p.m.Stderr),
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

// done removes the bar.
func (p *progress) done() {
	if p.bar != nil && !p.finished {
		p.bar.Finish()
	}
	p.finished = true
}
