package app

import (
	"fmt"
	"os"
	"os/user"
)

// CurrentUser names the person this process runs as, for the audit trail
// of a use case no one else asked for (a command run by hand, a scheduled
// job): the account's name, else $USER, else the uid.
func CurrentUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}
