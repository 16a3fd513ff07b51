package config

import (
	"io"
	"log/slog"
)

// Logger is the logger [log] asks for, writing to w: its level (an unknown
// one is info) and format (json, else text). debug (the -v flag) logs
// debug messages whatever the level.
func (l Log) Logger(w io.Writer, debug bool) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[l.Level]
	if debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
