package daemon

import (
	"context"

	"reconciled/internal/app"
	"reconciled/internal/web"
)

// The web view (internal/web), when [web] listen is set: on the App in
// force (a reload's dashboard_url shows at once); the address and the
// credentials need a restart.

// webServer is the web view of one run.
type webServer struct {
	srv *web.Server
	ln  *web.Listener
}

// startWeb serves the web view when the config in force says so (nil
// otherwise).
func (d *Daemon) startWeb() (*webServer, error) {
	cfg := d.config()
	if !cfg.Web.Enabled() {
		return nil, nil
	}
	o := web.Options{App: func() *app.App { _, a := d.current(); return a }, Log: d.o.Log()}
	if err := web.Credentials(&o, cfg.Web.TokenFile, cfg.Web.BasicAuthFile, d.o.Getenv); err != nil {
		return nil, err
	}
	srv := web.New(o)
	ln, err := web.Listen(srv, cfg.Web.Listen)
	if err != nil {
		return nil, err
	}
	srv.Prepare() // the index and the analytics' partials, in the background
	go func() {
		if err := ln.Serve(); err != nil {
			d.o.Log().Error("the web view stopped", "err", err)
		}
	}()
	return &webServer{srv: srv, ln: ln}, nil
}

// stop ends the web view: the pages under way get a few seconds.
func (w *webServer) stop() {
	if w == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callbackShutdown)
	defer cancel()
	w.ln.Shutdown(ctx)
	w.srv.Drop()
}
