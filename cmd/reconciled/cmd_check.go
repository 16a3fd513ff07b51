package main

import (
	"context"
	"fmt"

	"reconciled/internal/ledger"
)

func (m *Main) runCheck(ctx context.Context, args []string) error {
	fs := m.newFlagSet("check", "[--quick]", `  reconciled check              # everything: pages, bbolt's check, every record, indexes, counts
  reconciled check --quick      # the file's structure only: header, pages, bbolt's check
`)
	quick := fs.Bool("quick", false, "check the file's structure only (header, pages, bbolt's check), not every record")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, closeLedger, err := m.openApp(true)
	if err != nil {
		return err
	}
	defer closeLedger()
	path := a.Ledger.Path()
	fmt.Fprintf(m.Stdout, "checking %s\n", path)
	rep, err := a.Check(ctx, *quick)
	if err != nil {
		return err
	}
	for _, c := range rep.Checked {
		fmt.Fprintf(m.Stdout, "  %s\n", c)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(m.Stdout, "  note: %s\n", w)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(m.Stdout, "  PROBLEM: %s\n", p)
	}
	if rep.More > 0 {
		fmt.Fprintf(m.Stdout, "  and %d more problems\n", rep.More)
	}
	if rep.OK() {
		fmt.Fprintln(m.Stdout, "no problem found")
		return nil
	}
	return &ledger.DamagedError{Path: path, What: fmt.Sprintf("%d problems (above)", len(rep.Problems)+rep.More)}
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
