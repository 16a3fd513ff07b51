package domain

import "testing"

// A value that holds 13 to 19 digits of a card number is masked to its
// first six and last four digits, whatever it looks like otherwise: a
// provider's half-masked value is not trusted for being half-masked.
func TestMaskAccountCardNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		// Marked as masked, but every digit shows.
		{"4111111111111111*", "411111******1111*"},
		{"4111111111111111...", "411111******1111..."},
		{"4111111111111111…", "411111******1111…"},
		{"4111 1111 1111 1111*", "4111 11** **** 1111*"},
		{"4111-1111-1111-1111...", "4111-11**-****-1111..."},
		{"4111111111*111111", "411111*******1111"},
		{"*4000000000000000002", "*400000*********0002"},
		{"4222222222222*", "422222***2222*"},
		// Masked the way providers do: at most 6 + 4 or 8 + 4 digits show.
		{"411111******1111", "411111******1111"},
		{"41111111****1111", "41111111****1111"},
		{"4111 11** **** 1111", "4111 11** **** 1111"},
		{"1743-3223966A2D...514183B2584F543", "1743-3223966A2D...514183B2584F543"},
		// A card id (hex, elided): its digits beside letters are not a
		// number, even where 13 of them surround the "...".
		{"9941-70DF717221...0007172214EADA5", "9941-70DF717221...0007172214EADA5"},
		{"4073-F145385003...0003850033B4989", "4073-F145385003...0003850033B4989"},
		{"4111111111...111111", "411111****...**1111"},
		// Plain values, as before.
		{"4242424242424242", "424242******4242"},
		{"4222222222222", "422222***2222"},
		{"q***@gmail.com", "q***@gmail.com"},
	}
	for _, tt := range tests {
		if got := MaskAccount(tt.in); got != tt.want {
			t.Errorf("MaskAccount(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := MaskAccount(MaskAccount(tt.in)); again != tt.want {
			t.Errorf("MaskAccount twice (%q) = %q, want %q", tt.in, again, tt.want)
		}
	}
}

func TestMaskCardNumbersInText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Card 4111111111111111 declined", "Card 411111******1111 declined"},
		{"card 4111 1111 1111 1111 was declined by the issuer", "card 4111 11** **** 1111 was declined by the issuer"},
		{"declined: 5555-5555-5555-4444.", "declined: 5555-55**-****-4444."},
		{"cards 4111111111111111, 5555555555554444", "cards 411111******1111, 555555******4444"},
		{"PAN4111111111111111 refused", "PAN411111******1111 refused"},
		{"pan 4111111111111111* expired", "pan 411111******1111* expired"},
		{"13 digits 4222222222222", "13 digits 422222***2222"},
		{"19 digits 4000000000000000002", "19 digits 400000*********0002"},
		// Not card numbers: left alone.
		{"General decline", "General decline"},
		{"Insufficient funds (code 20105)", "Insufficient funds (code 20105)"},
		{"order 123456789012 paid", "order 123456789012 paid"},
		{"paid 1000.00 on 2026-11-20 10:00:00", "paid 1000.00 on 2026-11-20 10:00:00"},
		{"masked 411111******1111 ok", "masked 411111******1111 ok"},
		{"card id 70DF717221...0007172214EADA5 used", "card id 70DF717221...0007172214EADA5 used"},
		{"", ""},
		{"Карта 4111111111111111 отклонена", "Карта 411111******1111 отклонена"},
		// Spaces and dashes as text written by people and word processors
		// has them: no-break and thin spaces, a tab, en dashes, minus signs.
		{"card 4111\u00a01111\u00a01111\u00a01111 declined", "card 4111\u00a011**\u00a0****\u00a01111 declined"},
		{"card 4111\u202f1111\u202f1111\u202f1111", "card 4111\u202f11**\u202f****\u202f1111"},
		{"card 4111\u20091111\u20091111\u20091111", "card 4111\u200911**\u2009****\u20091111"},
		{"card\t4111\t1111\t1111\t1111", "card\t4111\t11**\t****\t1111"},
		{"card 4111\u20131111\u20131111\u20131111", "card 4111\u201311**\u2013****\u20131111"},
		{"card 4111\u22121111\u22121111\u22121111", "card 4111\u221211**\u2212****\u22121111"},
		// Digits of other scripts are digits (a full-width form pasted from an
		// East Asian keyboard).
		{"card ４１１１１１１１１１１１１１１１", "card ４１１１１１******１１１１"},
		{"card ４１１１ １１１１ １１１１ １１１１", "card ４１１１ １１** **** １１１１"},
		{"short ４１１１１１１１１１１１", "short ４１１１１１１１１１１１"},
	}
	for _, tt := range tests {
		if got := MaskCardNumbers(tt.in); got != tt.want {
			t.Errorf("MaskCardNumbers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
