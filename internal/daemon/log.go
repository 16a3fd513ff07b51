package daemon

import (
	"io"
	"log/slog"
	"strings"
	"sync"
)

// logLines logs what print writes, a record a line, as the command's
// output when a job runs it.
func logLines(log *slog.Logger, print func(io.Writer)) {
	w := &logWriter{log: log}
	print(w)
	w.Flush()
}

// logWriter turns a command's output lines into log records.
type logWriter struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *logWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *logWriter) emit(line string) {
	if line = strings.TrimRight(line, "\r "); line != "" {
		w.log.Info(line)
	}
}
