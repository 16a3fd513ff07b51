// Package control is the daemon's control socket: while `reconciled run`
// holds the database, a command run by hand (sync, import, reconcile,
// export, report, status, resolve, unresolve, backup, stats) is carried
// over a Unix socket and run inside the daemon, on its database, with its
// output carried back. For the person typing it, nothing changes.
//
// Files stay on the client's side of the socket: the daemon may run as
// another user, in a read-only file system, and must not read or write a
// person's files with its own rights. An input file (import's) is sent
// whole ahead of the command (OpenInput: refused by the reader's own check
// before it is opened, and not sent if it grows past its limit meanwhile);
// an output file (-o, backup's) comes back as
// a stream that the client writes to a temporary file and renames into
// place only when the command succeeded.
//
// The protocol is frames: a type byte, a 4-byte big-endian length, the
// payload. Client: R (the request, JSON), I… (input file bytes), i (input
// end). Daemon: D (its database file's device and inode, JSON: first, and
// only when the request asks, so that the client refuses to write its
// output over the daemon's database under any name), O and E (standard
// output and error), F (output file bytes), X (the exit status, JSON), then
// it closes.
//
// One daemon, one database. Configs that name different databases can name
// one socket (daemon.socket unset is reconciled.sock beside the database:
// two configs in one folder share it), so the client says which database
// file its config names (Request.DatabaseFile: its device and inode, or
// "none" when there is no file there), and the daemon runs nothing for a
// client whose file is not the one it holds: right after the request,
// before the input file is taken or the command waits in line, it answers
// W (the path of its database, absolute, JSON) and X (exit status 2), and
// closes; Run returns an *OtherDatabaseError, which the client words with
// its own config's paths. The same file under another name (a symbolic or
// hard link, a relative path) has the same identity and runs. A request
// without the field (a client older than it) runs as before; an older
// daemon ignores the field and runs the command on its own database. A
// client that goes away
// (Ctrl-C) cancels the command. The daemon learns who the client is from
// the socket (SO_PEERCRED), for the audit trail.
//
// Limits (Server.SetLimits, the config's [limits]): the daemon takes an
// input file up to MaxInput bytes and refuses it past that, saying why
// before it closes (the client reads that reply even when its own writes
// failed); at most MaxRunning commands run at once, the others wait in
// line, first come first served, each told on its stderr that it waits and
// behind how many; one more than MaxWaiting is refused at once with exit
// status 1. A command waits after its file is received (a file on disk
// costs no memory) and leaves the line when its client goes. A connection
// counts as waiting from its accept, while it sends its request and file:
// at most MaxRunning + MaxWaiting are open, each with its buffers (idle or
// half-sent connections were not bounded at all); one more is told the
// daemon is busy before a byte of it is read.
package control

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Frame types.
const (
	frameRequest  = 'R'
	frameDatabase = 'D'
	frameInput    = 'I'
	frameInputEnd = 'i'
	frameStdout   = 'O'
	frameStderr   = 'E'
	frameFile     = 'F'
	frameExit     = 'X'
	frameOther    = 'W' // the request names another database than the daemon's
)

// maxFrame bounds one frame's payload; writers split larger writes.
const maxFrame = 1 << 20

// Request is a command line for the daemon.
type Request struct {
	Args []string `json:"args"` // the command and its flags, without --config
	// Input is the input file sent after the request, as the person named
	// it (the importer reads its extension and names it so in errors; the
	// daemon's copy takes only its base name); "" for none.
	Input string `json:"input,omitempty"`
	// InputArg is the index in Args of the input file's name, which the
	// daemon replaces with where it put the file.
	InputArg int `json:"input_arg,omitempty"`
	// Output says the client takes an output file back (-o, backup).
	Output bool `json:"output,omitempty"`
	// Database asks for the daemon's database file (a D frame) before the
	// output file. A daemon that does not know it ignores it.
	Database bool `json:"database,omitempty"`
	// DatabaseFile is the database file the client's config names
	// (storage.path): the daemon runs the command only if that is the file
	// it holds, and refuses it otherwise (W, exit 2), also when it says
	// "none" (no file at that path). A nil field (a client older than it)
	// is not checked: the command runs on the daemon's database. A daemon
	// older than the field ignores it.
	DatabaseFile *DatabaseFile `json:"database_file,omitempty"`
}

// DatabaseFile is the database a client's config names: its file's
// identity, or none (ID nil: there is no file at that path). In JSON a
// FileID, or "none".
type DatabaseFile struct {
	ID *FileID
}

func (d DatabaseFile) MarshalJSON() ([]byte, error) {
	if d.ID == nil {
		return []byte(`"none"`), nil
	}
	return json.Marshal(d.ID)
}

func (d *DatabaseFile) UnmarshalJSON(p []byte) error {
	var none string
	if json.Unmarshal(p, &none) == nil {
		if none != "none" {
			return fmt.Errorf("control: database_file %q", none)
		}
		d.ID = nil
		return nil
	}
	var id FileID
	if err := json.Unmarshal(p, &id); err != nil {
		return err
	}
	d.ID = &id
	return nil
}

// OtherDatabaseError is the daemon's refusal of a request whose
// DatabaseFile is not the database it holds: nothing ran.
type OtherDatabaseError struct {
	Path string // the daemon's database, absolute
}

func (e *OtherDatabaseError) Error() string {
	return "the daemon holds another database: " + e.Path
}

// otherDatabase is the W frame's payload.
type otherDatabase struct {
	Path string `json:"path"`
}

// FileID is a file's device and inode number.
type FileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// Output is an output file that must not be the daemon's database: Run
// asks the daemon for its database and calls Database with it before the
// file's first byte; an error stops the command.
type Output interface {
	io.Writer
	Database(FileID) error
}

// Exit is how the command ended.
type Exit struct {
	Code int `json:"code"`
}

// Peer is the process at the other end of the socket.
type Peer struct {
	UID, GID uint32
	PID      int32
	User     string // the user name of UID, or "uid N"
}

func writeFrame(w io.Writer, typ byte, p []byte) error {
	var h [5]byte
	h[0] = typ
	binary.BigEndian.PutUint32(h[1:], uint32(len(p)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("control: frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, errors.Join(errors.New("control: short frame"), err)
	}
	return h[0], p, nil
}

func writeJSON(w io.Writer, typ byte, v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, typ, p)
}

// frameWriter writes what it is given as frames of one type.
type frameWriter struct {
	mu  *lockedWriter
	typ byte
}

func (f frameWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), maxFrame)
		if err := f.mu.frame(f.typ, p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}
