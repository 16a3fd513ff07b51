package main

import (
	"context"
	"fmt"
	"strings"

	"reconciled/internal/cli"
	"reconciled/internal/door"
	"reconciled/internal/web"
)

func parseCheckConfig(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("check-config", "", "  reconciled --config /etc/reconciled/reconciled.toml check-config\n")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	return process((*Main).checkConfig), nil
}

// checkConfig loads the config with every credential and shows it.
func (m *Main) checkConfig(ctx context.Context) error {
	cfg, err := m.loadConfigAll()
	if err != nil {
		return err // Problems: printed one per line, exit status 2
	}
	d := cfg.DataAPI
	fmt.Fprintf(m.Stdout, "%s: OK\n", cfg.File)
	fmt.Fprintf(m.Stdout, "  database   %s\n", cfg.Storage.Path)
	fmt.Fprintf(m.Stdout, "  data api   %s, projects %v, tz %s, pages of %d, lookback %s\n", d.BaseURLRedacted(), d.Projects, d.TZ, d.PageSize, d.Lookback.Duration)
	fmt.Fprintf(m.Stdout, "  token      %s, secret %s\n", d.Token, d.Secret)
	if cb := &cfg.Callbacks; cb.Enabled() {
		scheme, ids := "http", make([]int64, len(cb.Projects))
		if cb.Certificate() != nil {
			scheme = "https"
		}
		for i, p := range cb.Projects {
			ids[i] = p.ID
		}
		fmt.Fprintf(m.Stdout, "  callbacks  %s://%s%s, projects %v, secrets <redacted>\n", scheme, cb.Listen, cb.Path, ids)
	}
	if wc := cfg.Web; wc.Enabled() {
		var o web.Options // the files read as the view will read them, never shown
		if err := web.Credentials(&o, wc.TokenFile, wc.BasicAuthFile, m.Getenv); err != nil {
			return cli.Usagef("%v", err)
		}
		auth := "no credentials (loopback only)"
		switch {
		case o.Token != "" && o.User != "":
			auth = "a bearer token or basic auth, <redacted>"
		case o.Token != "":
			auth = "a bearer token, <redacted>"
		case o.User != "":
			auth = "basic auth, <redacted>"
		}
		fmt.Fprintf(m.Stdout, "  web        http://%s/, %s\n", wc.Listen, auth)
	}
	if cfg.Mail.Host != "" {
		fmt.Fprintf(m.Stdout, "  mail       %s:%d (%s) from %s\n", cfg.Mail.Host, cfg.Mail.Port, cfg.Mail.TLS, cfg.Mail.From)
	}
	if a := cfg.Alerts; a.On() {
		fmt.Fprintf(m.Stdout, "  alerts     to %s of %s: at most one mail every %s, %d listed\n", strings.Join(a.To, ", "),
			strings.Join(a.Codes(), ", "), a.Interval.Short(), a.MaxItems)
	}
	for i, s := range cfg.Schedules {
		fmt.Fprintf(m.Stdout, "  schedule %d %s at %q\n", i+1, s.Job, s.Cron)
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(m.Stderr, "warning: %v\n", w)
	}
	return nil
}
