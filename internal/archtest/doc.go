// Package archtest holds the test that keeps reconciled's import graph as
// DEVELOPERS.md ("Who may import whom") draws it: it reads the graph with
// `go list -json` and fails on an import the table does not allow, on an
// allowance nothing uses any more, and on a package the table has no row
// for. The package has no code of its own.
package archtest
