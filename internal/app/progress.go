package app

// Progress is told how far a long use case has come, for a front door to
// show it (cmd/reconciled draws a bar on a terminal); a nil Progress is
// told nothing.
type Progress interface {
	Total(n int64)            // the work's size in units (operations), when known, before the first Add
	Add(k int)                // k more units are done
	Set(n int64, what string) // n units are done in all, and what is being done (a sync's totals)
	Done()                    // the work ended: a bar is taken away before what follows is printed
}

// begin tells p the work is every stored operation, and returns its Done
// (a no-op for a nil p).
func (a *App) begin(p Progress) func() {
	if p == nil {
		return func() {}
	}
	p.Total(a.operationCount())
	return p.Done
}

// operationCount is how many operations are stored; -1 if that cannot be
// read (a progress bar then counts without a total).
func (a *App) operationCount() int64 {
	counts, err := a.Ledger.Counts()
	if err != nil {
		return -1
	}
	var n int64
	for _, c := range counts {
		n += c.Operations
	}
	return n
}

// add tells p of k more units, if there is a p.
func add(p Progress, k int) {
	if p != nil {
		p.Add(k)
	}
}
