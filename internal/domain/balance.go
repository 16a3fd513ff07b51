package domain

// Balance is one balance of the merchant's account as the Data API's
// /balance/get reports it: a named balance ("OUT", …) in one currency.
// Balances of different names or projects are never added together: what
// each name stands for is ECommPay's, and a total of two could count the
// same money twice.
type Balance struct {
	// Name is the balance's name as it came (cleaned of control
	// characters: it is shown on terminals).
	Name string
	// Out says the name is that of a payout ("OUT") balance; the Data API
	// client decides it from the name (dataapi.IsOutBalance), the one place
	// that knows the wire's words.
	Out bool
	// Money is the amount in minor units of the currency.
	Money
}
