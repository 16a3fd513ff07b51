package main

import (
	"context"
	"net"
	"time"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/config"
	"reconciled/internal/door"
	"reconciled/internal/web"
)

// defaultWebListen is where `reconciled web` serves without [web] listen
// or --listen.
const defaultWebListen = "127.0.0.1:8088"

func parseWeb(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("web", "[--listen HOST:PORT]", `  reconciled web                               # at [web] listen, else 127.0.0.1:8088
  reconciled web --listen 127.0.0.1:9000
  ssh -L 8088:127.0.0.1:8088 finance-host      # then open http://127.0.0.1:8088/ here
`)
	listen := fs.String("listen", "", "host:port to serve on (default: [web] listen, else "+defaultWebListen+"); another host's address needs web.token_file or web.basic_auth_file")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	addr := *listen
	return process(func(m *Main, ctx context.Context) error { return m.serveWeb(ctx, addr) }), nil
}

// serveWeb is `reconciled web`: the web view on its own, over the
// database opened read-only, until SIGINT or SIGTERM. While it serves,
// a command that writes waits for the database (and gives up after its
// lock timeout): this is for a database no daemon holds; the daemon
// serves the same view itself ([web] listen).
func (m *Main) serveWeb(ctx context.Context, listen string) error {
	cfg, err := m.loadConfig()
	if err != nil {
		return err
	}
	addr := listen
	if addr == "" {
		addr = cfg.Web.Listen
	}
	if addr == "" {
		addr = defaultWebListen
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return cli.Usagef("--listen %q: give host:port, e.g. %q", addr, defaultWebListen)
	}
	if !config.Loopback(host) && cfg.Web.TokenFile == "" && cfg.Web.BasicAuthFile == "" {
		return cli.Usagef("web.listen %q is reachable from other hosts: set web.token_file or web.basic_auth_file, or listen on 127.0.0.1", addr)
	}
	h := m.here()
	defer h.Close()
	a, err := h.Open(cfg, true)
	if err != nil {
		return err
	}
	o := web.Options{App: func() *app.App { return a }, Log: m.log()}
	if err := web.Credentials(&o, cfg.Web.TokenFile, cfg.Web.BasicAuthFile, m.Getenv); err != nil {
		return cli.Usagef("%v", err)
	}
	srv := web.New(o)
	ln, err := web.Listen(srv, addr)
	if err != nil {
		return err
	}
	srv.Prepare() // the index and the analytics' partials, in the background
	served := make(chan error, 1)
	go func() { served <- ln.Serve() }()
	m.log().Info("serving the web view", "url", "http://"+ln.Addr().String()+"/", "database", cfg.Storage.Path)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ln.Shutdown(stop)
	srv.Drop()
	return nil
}
