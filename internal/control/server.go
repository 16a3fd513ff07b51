package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"reconciled/internal/scratch"
)

// Command is one command line received by the daemon.
type Command struct {
	Request
	Peer Peer
	// InputPath is where the input file was put (a private temporary
	// folder, under the client's base name); "" without one.
	InputPath      string
	Stdout, Stderr io.Writer
	// Output takes the output file's bytes back to the client, when
	// Request.Output.
	Output io.Writer
}

// Handler runs a command and returns its exit status. ctx is done when the
// client goes away or the daemon stops.
type Handler func(ctx context.Context, c *Command) int

// Listen makes the socket at path, readable and writable by its owner and
// group only (0660). A socket file left by a daemon that died is replaced;
// one a live daemon answers on is an error.
func Listen(path string) (*net.UnixListener, error) {
	if _, err := os.Stat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another reconciled daemon answers on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: removing the stale one: %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	// The socket is born with the umask's mode: make that 0660 from the
	// start rather than chmod it after (a moment of wider access). The
	// umask is process-wide; the daemon calls this once, at start.
	old := syscall.Umask(0o117)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	return ln, nil
}

// Server serves commands on a listener.
type Server struct {
	Handler Handler
	Log     *slog.Logger
	// Database is the daemon's database file, told to a client that takes
	// an output file back and asks (Request.Database), and the only one a
	// request naming its database (Request.DatabaseFile) runs on; nil
	// tells nothing and checks nothing.
	Database *FileID
	// DatabasePath is the daemon's database, absolute: what a client whose
	// config names another database is told the daemon holds.
	DatabasePath string
	wg           sync.WaitGroup

	mu      sync.Mutex
	limits  Limits
	open    int // connections: running, waiting in line, or still sending their request
	running int
	waiting []chan struct{} // the line, first come first: closed when it is one's turn
}

// Limits bound what the clients of a server can make it do, so that one
// client's file or a burst of commands cannot take the daemon's memory or
// disk; 0 sets no bound (MaxWaiting 0: nobody waits). The messages name
// the config keys that set them ([limits]).
type Limits struct {
	MaxInput   int64 // bytes of a command's input file (limits.max_import_bytes)
	MaxRunning int   // commands run at once; the others wait in line (limits.max_commands)
	MaxWaiting int   // commands in that line; one more is refused (limits.max_queued)
}

// SetLimits sets the limits for the commands that come next; commands
// waiting start if the new MaxRunning makes room.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
	s.handOn()
}

func (s *Server) currentLimits() Limits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

// admit waits for the command's turn: at once while fewer than MaxRunning
// run and nobody waits, else in line (telling the client on stderr), or
// refused (false, after telling the client) when MaxWaiting already wait.
// It returns false too when ctx is done while waiting (the client gave up,
// the daemon stops). After true, the caller calls release.
func (s *Server) admit(ctx context.Context, stderr io.Writer, log *slog.Logger) bool {
	s.mu.Lock()
	l := s.limits
	if l.MaxRunning <= 0 || s.running < l.MaxRunning && len(s.waiting) == 0 {
		s.running++
		s.mu.Unlock()
		return true
	}
	running, ahead := s.running, len(s.waiting)
	if ahead >= l.MaxWaiting { // the limits were lowered since it came in
		s.mu.Unlock()
		busy(stderr, log, running, ahead, l)
		return false
	}
	turn := make(chan struct{})
	s.waiting = append(s.waiting, turn)
	s.mu.Unlock()
	log.Info("control socket: command waits for its turn", "running", running, "ahead", ahead)
	fmt.Fprintf(stderr, "reconciled: waiting for the daemon: %s running (limits.max_commands = %d), %d ahead of this one; Ctrl-C gives up\n",
		commands(running), l.MaxRunning, ahead)
	select {
	case <-turn:
		return true
	case <-ctx.Done():
	}
	s.mu.Lock()
	if i := slices.Index(s.waiting, turn); i >= 0 {
		s.waiting = slices.Delete(s.waiting, i, i+1)
	} else { // its turn came as it gave up: pass the turn on
		s.running--
		s.handOn()
	}
	s.mu.Unlock()
	log.Info("control socket: command left the line: the client went or the daemon stops")
	return false
}

// enter takes a place for a new connection as it is accepted, before a
// byte of it is read: a connection sending its request or file counts as
// waiting, so that at most MaxRunning + MaxWaiting connections are open,
// each with its buffers (clients that connect and send nothing, or half a
// request, were not bounded at all). Called by the accept loop, so that
// connections take their places in the order they came. When it returns
// a refusal, the connection is told the daemon is busy (refuse) and
// closed; else the connection calls leave when it ends.
func (s *Server) enter() (refusal func(stderr io.Writer, log *slog.Logger)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limits
	if l.MaxRunning > 0 && s.open >= l.MaxRunning+l.MaxWaiting {
		running, waiting := s.running, s.open-s.running
		return func(stderr io.Writer, log *slog.Logger) { busy(stderr, log, running, waiting, l) }
	}
	s.open++
	return nil
}

// leave frees the place of a connection that enter let in.
func (s *Server) leave() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
}

// busy tells the client and the log that a command is refused.
func busy(stderr io.Writer, log *slog.Logger, running, waiting int, l Limits) {
	log.Warn("control socket: command refused: the daemon is busy", "running", running, "waiting", waiting)
	fmt.Fprintf(stderr, "reconciled: the daemon is busy: %s running and %d waiting (limits.max_commands = %d, limits.max_queued = %d); try again in a moment\n",
		commands(running), waiting, l.MaxRunning, l.MaxWaiting)
}

// release ends a command that admit let run.
func (s *Server) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	s.handOn()
}

// handOn starts waiting commands while there is room; under mu.
func (s *Server) handOn() {
	for len(s.waiting) > 0 && (s.limits.MaxRunning <= 0 || s.running < s.limits.MaxRunning) {
		turn := s.waiting[0]
		s.waiting = s.waiting[1:]
		s.running++
		close(turn)
	}
}

func commands(n int) string {
	if n == 1 {
		return "1 command"
	}
	return strconv.Itoa(n) + " commands"
}

// Serve accepts connections until ctx is done, then closes ln and waits
// for the commands under way (their ctx is done too).
func (s *Server) Serve(ctx context.Context, ln *net.UnixListener) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.Log.Error("control socket: accept", "err", err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			break
		}
		refusal := s.enter()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(ctx, conn, refusal)
		}()
	}
	s.wg.Wait()
}

// Timeouts against a client that stops reading or writing: a command's
// output waits at most frameTimeout for the client to take a frame (a
// stalled client would otherwise hold the command, its read transaction
// and the daemon's shutdown), and the request and the input file must
// keep coming.
const (
	frameTimeout   = 30 * time.Second
	requestTimeout = 30 * time.Second
)

// stopWriteTimeout is how long a command's output may still take, once
// the daemon stops, for its client to take it: a command under way ends
// (its context is done) and tells how (an import committed as SIGTERM
// came), but a client that does not read holds the shutdown no longer.
const stopWriteTimeout = 2 * time.Second

// lockedWriter writes whole frames, one at a time, and flushes each.
type lockedWriter struct {
	mu     sync.Mutex
	w      *bufio.Writer
	conn   net.Conn
	stopBy atomic.Int64 // unix nanoseconds: no write past it (the daemon stops); 0: none
}

// stopping bounds the writes from now on by stopWriteTimeout, a write
// blocked now included.
func (l *lockedWriter) stopping() {
	by := time.Now().Add(stopWriteTimeout)
	l.stopBy.Store(by.UnixNano())
	l.conn.SetWriteDeadline(by)
}

func (l *lockedWriter) frame(typ byte, p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	deadline := time.Now().Add(frameTimeout)
	if by := l.stopBy.Load(); by != 0 && by < deadline.UnixNano() {
		deadline = time.Unix(0, by)
	}
	l.conn.SetWriteDeadline(deadline)
	if err := writeFrame(l.w, typ, p); err != nil {
		return err
	}
	return l.w.Flush()
}

func (s *Server) serve(ctx context.Context, conn *net.UnixConn, refusal func(io.Writer, *slog.Logger)) {
	defer conn.Close()
	if refusal == nil {
		defer s.leave() // before the connection is closed: a client that sees it closed finds its place free
	}
	peer, err := peerOf(conn)
	if err != nil {
		s.Log.Error("control socket: who is calling", "err", err)
		return
	}
	w := &lockedWriter{w: bufio.NewWriterSize(conn, 64<<10), conn: conn}
	if refusal != nil {
		refusal(frameWriter{w, frameStderr}, s.Log.With("user", peer.User, "pid", peer.PID))
		writeJSONLocked(w, frameExit, Exit{Code: 1})
		return
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	fail := func(code int, msg string) {
		frameWriter{w, frameStderr}.Write([]byte("reconciled: " + msg + "\n"))
		writeJSONLocked(w, frameExit, Exit{Code: code})
	}
	limits := s.currentLimits()
	conn.SetReadDeadline(time.Now().Add(requestTimeout))
	typ, p, err := readFrame(r)
	if err != nil || typ != frameRequest {
		return
	}
	var req Request
	if err := json.Unmarshal(p, &req); err != nil || len(req.Args) == 0 {
		fail(2, "the daemon could not read the request")
		return
	}
	if !s.holds(req.DatabaseFile) {
		s.Log.Warn("control socket: command refused: the client's config names another database", "user", peer.User, "pid", peer.PID, "args", req.Args, "database", s.DatabasePath)
		if writeJSONLocked(w, frameOther, otherDatabase{Path: s.DatabasePath}) == nil {
			writeJSONLocked(w, frameExit, Exit{Code: 2})
		}
		return
	}
	c := &Command{Request: req, Peer: peer, Stdout: frameWriter{w, frameStdout}, Stderr: frameWriter{w, frameStderr}}
	if req.Output {
		c.Output = frameWriter{w, frameFile}
	}
	if req.Output && req.Database && s.Database != nil {
		if err := writeJSONLocked(w, frameDatabase, s.Database); err != nil {
			return
		}
	}
	if req.Input != "" {
		// In the process's scratch folder: removed after a kill too. Not
		// storing it is the daemon's failure (exit 1), not bad usage.
		tmp, err := scratch.Dir()
		if err != nil {
			fail(1, "the daemon could not take the file: "+err.Error())
			return
		}
		dir, err := os.MkdirTemp(tmp, "input-")
		if err != nil {
			fail(1, "the daemon could not take the file: "+err.Error())
			return
		}
		defer os.RemoveAll(dir)
		name := filepath.Base(filepath.Clean("/" + req.Input))
		if name == "/" || name == "." {
			name = "input"
		}
		c.InputPath = filepath.Join(dir, name)
		err = receiveFile(r, c.InputPath, limits.MaxInput, func() { conn.SetReadDeadline(time.Now().Add(requestTimeout)) })
		if errors.Is(err, errInputTooLarge) {
			s.Log.Warn("control socket: input file refused: over limits.max_import_bytes", "user", peer.User, "file", name, "limit", limits.MaxInput)
			fail(1, fmt.Sprintf("import: %s is over the daemon's limits.max_import_bytes (%d bytes): nothing imported; raise it in the daemon's config to import a file this large", name, limits.MaxInput))
			return
		}
		if err != nil {
			fail(1, "the daemon could not take the file: "+err.Error())
			return
		}
		if req.InputArg <= 0 || req.InputArg >= len(req.Args) {
			fail(2, "the request names no argument for its file")
			return
		}
		c.Args = append([]string(nil), req.Args...)
		c.Args[req.InputArg] = c.InputPath
	}
	conn.SetReadDeadline(time.Time{})
	cmdCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The client gone: close the connection, so that a command blocked
	// writing to it fails at once. The daemon stopping: the command's
	// context ends it, and what it says of its end (an import that
	// committed as SIGTERM came) still reaches the client, for a
	// stopWriteTimeout at most.
	stopClose := context.AfterFunc(cmdCtx, func() {
		if ctx.Err() != nil {
			w.stopping()
			return
		}
		conn.Close()
	})
	defer stopClose()
	go func() { // the client says nothing more: anything, EOF included, means it is gone
		r.ReadByte()
		cancel()
	}()
	s.Log.Info("control socket: command", "user", peer.User, "pid", peer.PID, "args", req.Args)
	if !s.admit(cmdCtx, c.Stderr, s.Log.With("user", peer.User, "pid", peer.PID)) {
		writeJSONLocked(w, frameExit, Exit{Code: 1})
		return
	}
	defer s.release()
	code := s.handle(cmdCtx, c, s.Log.With("user", peer.User, "pid", peer.PID, "args", req.Args))
	writeJSONLocked(w, frameExit, Exit{Code: code})
}

// handle runs c through the Handler. A panic in it (a bug, or a library on
// a crafted file a client sent) fails that command with exit 1, told to the
// client and logged with its stack: the daemon and its schedules go on, as
// a scheduled job's panic does (schedule.Runner). A write transaction the
// command had open is rolled back by bbolt as the panic unwinds.
func (s *Server) handle(ctx context.Context, c *Command, log *slog.Logger) (code int) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("control socket: the command panicked; the daemon goes on", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			fmt.Fprintf(c.Stderr, "reconciled: the command failed inside the daemon (%v); what it stored is kept, nothing is half-written; the daemon's log has the details\n", p)
			code = 1
		}
	}()
	return s.Handler(ctx, c)
}

// holds says whether the database a request names is the daemon's: a
// request that names none (an older client) runs as before, and so does
// every request to a server told no database of its own (it cannot tell).
func (s *Server) holds(f *DatabaseFile) bool {
	if f == nil || s.Database == nil {
		return true
	}
	return f.ID != nil && *f.ID == *s.Database
}

func writeJSONLocked(w *lockedWriter, typ byte, v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.frame(typ, p)
}

// errInputTooLarge: the input file is over the limit.
var errInputTooLarge = errors.New("the input file is over the limit")

// receiveFile stores the input file's frames at path, at most max bytes
// (0: any; more is errInputTooLarge, and nothing more is read); alive is
// called before each frame is read.
func receiveFile(r *bufio.Reader, path string, max int64, alive func()) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var n int64
	for {
		alive()
		typ, p, err := readFrame(r)
		if err != nil {
			return err
		}
		switch typ {
		case frameInput:
			if n += int64(len(p)); max > 0 && n > max {
				return errInputTooLarge
			}
			if _, err := f.Write(p); err != nil {
				return err
			}
		case frameInputEnd:
			return f.Close()
		default:
			return fmt.Errorf("unexpected frame %q in the file", typ)
		}
	}
}

// peerOf asks the kernel who is at the other end.
func peerOf(conn *net.UnixConn) (Peer, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, err
	}
	if credErr != nil {
		return Peer{}, credErr
	}
	p := Peer{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid, User: "uid " + strconv.Itoa(int(cred.Uid))}
	if u, err := user.LookupId(strconv.Itoa(int(cred.Uid))); err == nil && u.Username != "" {
		p.User = u.Username
	}
	return p, nil
}
