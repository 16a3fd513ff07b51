package main

import (
	"context"
	"fmt"

	"reconciled/internal/app"
	"reconciled/internal/cli"
	"reconciled/internal/door"
	"reconciled/internal/ledger"
)

func parseCheck(p *cli.Program, args []string) (door.Request, error) {
	fs := p.FlagSet("check", "[--quick]", `  reconciled check              # everything: pages, bbolt's check, every record, indexes, counts
  reconciled check --quick      # the file's structure only: header, pages, bbolt's check
`)
	quick := fs.Bool("quick", false, "check the file's structure only (header, pages, bbolt's check), not every record")
	if err := p.Parse(fs, args); err != nil {
		return nil, err
	}
	return checkRequest{quick: *quick}, nil
}

// checkRequest is a check's command line.
type checkRequest struct{ quick bool }

func (r checkRequest) Run(ctx context.Context, e door.Env) error {
	a, err := door.OpenApp(e, true)
	if err != nil {
		return err
	}
	out := e.Stdout()
	path := a.Ledger.Path()
	fmt.Fprintf(out, "checking %s\n", path)
	rep, err := a.Check(ctx, r.quick)
	if err != nil {
		return err
	}
	app.WriteCheck(out, rep)
	if rep.OK() {
		return nil
	}
	return &ledger.DamagedError{Path: path, What: fmt.Sprintf("%d problems (above)", len(rep.Problems)+rep.More), Rebuild: rep.Rebuild}
}

// restoreHint says how to put a backup in place of the damaged database
// path.
func restoreHint(path string) string {
	return fmt.Sprintf(`  `+"`reconciled check`"+` lists what is damaged. To restore the latest backup (a file `+"`reconciled backup`"+` wrote):
    1. stop the daemon if it runs:    systemctl stop reconciled
    2. move the damaged file away:    mv %[1]s %[1]s.damaged
    3. copy the backup in its place:  cp BACKUP %[1]s  (owned by the user the daemon runs as)
    4. check it:                      reconciled check
    5. start the daemon again; `+"`reconciled sync`"+` fetches what the backup lacks from the Data API.
  Merchant files imported and resolutions made after that backup must be imported and made again.
`, path)
}
