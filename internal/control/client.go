package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// ErrNoDaemon means no daemon listens on the socket: run the command here.
var ErrNoDaemon = errors.New("no daemon on the control socket")

// Dial connects to the daemon at path, or returns ErrNoDaemon.
func Dial(path string) (*net.UnixConn, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNoDaemon
		}
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return c.(*net.UnixConn), nil
}

// Run sends req (and input, when req.Input is set) over conn, copies what
// the command prints to stdout and stderr and its output file to output,
// and returns its exit status. It closes conn. If ctx is done first (the
// person pressed Ctrl-C), the connection is dropped, which cancels the
// command in the daemon, and ctx's error is returned. An output that is an
// Output learns the daemon's database file first. A daemon that holds
// another database than req.DatabaseFile runs nothing: the error is an
// *OtherDatabaseError, the code its exit status (2).
func Run(ctx context.Context, conn *net.UnixConn, req Request, input io.Reader, stdout, stderr, output io.Writer) (int, error) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	code, err := run(conn, req, input, stdout, stderr, output)
	if ctx.Err() != nil {
		return 1, ctx.Err()
	}
	return code, err
}

func run(conn *net.UnixConn, req Request, input io.Reader, stdout, stderr, output io.Writer) (int, error) {
	guard, _ := output.(Output)
	req.Database = guard != nil
	if err := send(conn, req, input); err != nil {
		var ie inputError
		if errors.As(err, &ie) {
			return 1, ie.err // ours: the daemon is not told the file ended, so runs nothing
		}
		// The daemon may have refused the request before taking all of it
		// (a file over its limit, another database): it said why before it
		// closed.
		var other *OtherDatabaseError
		if code, rerr := reply(conn, stdout, stderr, output); rerr == nil || errors.As(rerr, &other) {
			return code, rerr
		}
		return 1, fmt.Errorf("control socket: %w", err)
	}
	return reply(conn, stdout, stderr, output)
}

// inputError is a failure to read the input file.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }

// send writes the request and the input file.
func send(conn *net.UnixConn, req Request, input io.Reader) error {
	w := bufio.NewWriterSize(conn, 64<<10)
	if err := writeJSON(w, frameRequest, req); err != nil {
		return err
	}
	if req.Input != "" {
		buf := make([]byte, 256<<10)
		for {
			n, err := input.Read(buf)
			if n > 0 {
				if err := writeFrame(w, frameInput, buf[:n]); err != nil {
					return err
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return inputError{err}
			}
		}
		if err := writeFrame(w, frameInputEnd, nil); err != nil {
			return err
		}
	}
	return w.Flush()
}

// reply copies the daemon's frames until the exit status; a refusal of the
// request's database is an *OtherDatabaseError, with the exit status.
func reply(conn *net.UnixConn, stdout, stderr, output io.Writer) (int, error) {
	guard, _ := output.(Output)
	var other *OtherDatabaseError
	r := bufio.NewReaderSize(conn, 64<<10)
	for {
		typ, p, err := readFrame(r)
		if err != nil {
			// Its command may have finished (an import committed) before
			// the daemon stopped: say so, a person must look before doing
			// it again.
			return 1, fmt.Errorf("control socket: the daemon went away before the command's end was told (%w): "+
				"what it did may be stored; see status (and the daemon's log) before running it again", err)
		}
		switch typ {
		case frameStdout:
			_, err = stdout.Write(p)
		case frameStderr:
			_, err = stderr.Write(p)
		case frameDatabase:
			var id FileID
			if guard == nil {
				return 1, errors.New("control socket: the daemon sent its database unasked")
			}
			if err := json.Unmarshal(p, &id); err != nil {
				return 1, err
			}
			err = guard.Database(id)
		case frameFile:
			if output == nil {
				return 1, errors.New("control socket: the daemon sent a file nobody asked for")
			}
			_, err = output.Write(p)
		case frameOther:
			var o otherDatabase
			if err := json.Unmarshal(p, &o); err != nil {
				return 1, err
			}
			other = &OtherDatabaseError{Path: o.Path}
		case frameExit:
			var e Exit
			if err := json.Unmarshal(p, &e); err != nil {
				return 1, err
			}
			if other != nil {
				return e.Code, other
			}
			return e.Code, nil
		default:
			return 1, fmt.Errorf("control socket: unexpected frame %q", typ)
		}
		if err != nil {
			return 1, err
		}
	}
}

// Input is a file the client sends ahead of its command (import's), read
// up to its limit and failing after: a file that grows while it is sent is
// not cut short (the daemon would import the part), it is not sent.
type Input struct {
	f    *os.File
	left int64
}

// OpenInput opens the file at path to send, bounded by max bytes
// (limits.max_import_bytes), once check refused it or not without opening
// it: the reader's own check (records.Check), which refuses what the
// daemon would, in its words (a named pipe would block the open, /dev/zero
// never end).
func OpenInput(path string, max int64, check func(path string) error) (*Input, error) {
	if err := check(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &Input{f: f, left: max}, nil
}

// Name is the file's path as it was opened.
func (in *Input) Name() string { return in.f.Name() }

// Close closes the file.
func (in *Input) Close() error { return in.f.Close() }

func (in *Input) Read(p []byte) (int, error) {
	if in.left <= 0 {
		var one [1]byte
		if n, _ := in.f.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%s grew past limits.max_import_bytes while it was sent: nothing imported", in.f.Name())
		}
		return 0, io.EOF
	}
	if int64(len(p)) > in.left {
		p = p[:in.left]
	}
	n, err := in.f.Read(p)
	in.left -= int64(n)
	return n, err
}
