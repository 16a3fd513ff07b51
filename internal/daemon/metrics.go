package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"reconciled/internal/ledger"
	"reconciled/internal/receiver"
	"reconciled/internal/schedule"
)

// metrics are the daemon's counters, served in the Prometheus text format
// on [daemon] metrics (loopback only, off by default), with /healthz. They
// are a few counters written by hand rather than client_golang: that
// library and its dependencies would be most of an idle daemon's memory
// (issue 5 asks for 40 MB).
type metrics struct {
	mu    sync.Mutex
	runs  map[[2]string]int    // job, result → runs
	secs  map[string]float64   // job → seconds spent
	last  map[string]time.Time // job → last finished
	start time.Time
	now   func() time.Time // the daemon's clock (Options.Now)
	// callbacks reads the receiver's counters; nil without [callbacks].
	callbacks func() receiver.Counts
}

// countCallbacks has the exposition read the receiver's counters.
func (mt *metrics) countCallbacks(counts func() receiver.Counts) {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	mt.callbacks = counts
}

// newMetrics are the counters of a daemon of clock now.
func newMetrics(now func() time.Time) *metrics {
	return &metrics{runs: map[[2]string]int{}, secs: map[string]float64{}, last: map[string]time.Time{}, start: now(), now: now}
}

// jobDone counts a run of a job.
func (mt *metrics) jobDone(j schedule.Job, took time.Duration, err error) {
	result := "ok"
	switch {
	case errors.Is(err, context.Canceled): // cut short by the daemon's stop: not a failure
		result = "stopped"
	case err != nil:
		result = "error"
	}
	mt.mu.Lock()
	defer mt.mu.Unlock()
	mt.runs[[2]string{j.Name, result}]++
	mt.secs[j.Name] += took.Seconds()
	mt.last[j.Name] = mt.now()
}

// write writes the exposition: the counters, and gauges read from the
// ledger now.
func (mt *metrics) write(w io.Writer, l *ledger.Ledger) error {
	var b strings.Builder
	metric := func(name, typ, help string) { fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ) }

	mt.mu.Lock()
	metric("reconciled_job_runs_total", "counter", "Scheduled job runs by job and result (ok, error, stopped).")
	keys := make([][2]string, 0, len(mt.runs))
	for k := range mt.runs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(&b, "reconciled_job_runs_total{job=%q,result=%q} %d\n", k[0], k[1], mt.runs[k])
	}
	metric("reconciled_job_seconds_total", "counter", "Seconds spent in scheduled jobs, by job.")
	for _, j := range slices.Sorted(maps.Keys(mt.secs)) {
		fmt.Fprintf(&b, "reconciled_job_seconds_total{job=%q} %g\n", j, mt.secs[j])
	}
	metric("reconciled_job_last_finished_timestamp_seconds", "gauge", "When each job last finished.")
	for _, j := range slices.Sorted(maps.Keys(mt.last)) {
		fmt.Fprintf(&b, "reconciled_job_last_finished_timestamp_seconds{job=%q} %d\n", j, mt.last[j].Unix())
	}
	metric("reconciled_start_timestamp_seconds", "gauge", "When the daemon started.")
	fmt.Fprintf(&b, "reconciled_start_timestamp_seconds %d\n", mt.start.Unix())
	if mt.callbacks != nil {
		c := mt.callbacks()
		metric("reconciled_callbacks_answered_total", "counter", "Callbacks answered, by HTTP status.")
		for _, status := range slices.Sorted(maps.Keys(c.Answered)) {
			fmt.Fprintf(&b, "reconciled_callbacks_answered_total{status=\"%d\"} %d\n", status, c.Answered[status])
		}
		metric("reconciled_callbacks_stored_total", "counter", "Callbacks stored (answered 200), by what storing did (new, updated, unchanged, older, sync stands).")
		for _, outcome := range slices.Sorted(maps.Keys(c.Stored)) {
			fmt.Fprintf(&b, "reconciled_callbacks_stored_total{outcome=%q} %d\n", outcome, c.Stored[outcome])
		}
	}
	mt.mu.Unlock()

	states, err := l.SyncStates()
	if err != nil {
		return err
	}
	metric("reconciled_operations", "gauge", "Operations stored, by project.")
	for _, s := range states {
		fmt.Fprintf(&b, "reconciled_operations{project=\"%d\"} %d\n", s.Project, s.Operations)
	}
	metric("reconciled_operations_not_final", "gauge", "Operations stored that are not final yet, by project.")
	for _, s := range states {
		fmt.Fprintf(&b, "reconciled_operations_not_final{project=\"%d\"} %d\n", s.Project, s.NotFinal)
	}
	metric("reconciled_sync_last_success_timestamp_seconds", "gauge", "The last successful sync, by project (0: never).")
	for _, s := range states {
		fmt.Fprintf(&b, "reconciled_sync_last_success_timestamp_seconds{project=\"%d\"} %d\n", s.Project, unixOrZero(s.LastSuccess))
	}
	metric("reconciled_sync_failing", "gauge", "1 when a project's last sync attempt failed.")
	for _, s := range states {
		failing := 0
		if s.Failing() {
			failing = 1
		}
		fmt.Fprintf(&b, "reconciled_sync_failing{project=\"%d\"} %d\n", s.Project, failing)
	}
	mails, err := l.Outbox(false)
	if err != nil {
		return err
	}
	byState := map[string]int{}
	for _, ml := range mails {
		byState[ml.State()]++
	}
	metric("reconciled_outbox_messages", "gauge", "Messages in the mail outbox, by state (pending, sent, given_up).")
	for _, state := range []string{ledger.MailPending, ledger.MailSent, ledger.MailGivenUp} {
		fmt.Fprintf(&b, "reconciled_outbox_messages{state=%q} %d\n", state, byState[state])
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// serveMetrics serves /metrics and /healthz on addr until ctx is done.
func serveMetrics(ctx context.Context, addr string, mt *metrics, l *ledger.Ledger, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("daemon.metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if err := mt.write(w, l); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		// Alive, and the database answers.
		if _, err := l.SyncStates(); err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("serving /metrics and /healthz", "addr", ln.Addr().String())
	return func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(c)
	}, nil
}
