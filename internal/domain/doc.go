// Package domain holds reconciled's core vocabulary: money in minor units,
// ECommPay operations and their statuses. It depends on nothing else in the
// module; the adapters around it (dataapi, ledger, export, …) depend on it.
//
// Two rules live here because every adapter must obey them:
//
//   - Money is an int64 count of minor units plus an ISO 4217 code. The
//     exponent comes from the ISO table (github.com/moov-io/iso4217), never a
//     hard-coded 2, and no amount ever passes through float64.
//   - Operation ids are uint64 parsed from their literal text; they never pass
//     through float64 either (a 17-digit id does not survive it).
//
// CleanName (name.go) is the one cleaning of names that come from outside
// (file names, an import's source) before they are stored or shown.
package domain
