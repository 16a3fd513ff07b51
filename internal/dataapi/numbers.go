package dataapi

import (
	"bytes"
	"math"
	"strconv"
)

// How ECommPay's SDKs print a number they decoded into a float64: what a
// signature over a number with a fraction or an exponent may have been made
// over (signature.go, verify). Each formatter is checked in
// signature_numbers_test.go against values printed by the language itself.

// numFormats are how the official SDKs print a number with a fraction or
// an exponent, tried in this order after the literal text.
var numFormats = [...]func(dst []byte, x float64) []byte{
	appendJSNumber,     // JS; PHP and Go's fmt.Sprint agree on common values
	appendPythonNumber, // Python
	appendJavaNumber,   // Java
}

// shortestDigits returns the shortest decimal digits that read back as |x|
// (the closest such if several; "0" for zero), and the exponent n for which
// |x| = 0.d₁d₂…dₖ × 10ⁿ. The digits are written into buf.
func shortestDigits(buf []byte, x float64) (digits []byte, n int) {
	return splitE(strconv.AppendFloat(buf[:0], math.Abs(x), 'e', -1, 64))
}

// splitE splits strconv's 'e' format of a non-negative finite number
// ("d.ddde±xx" or "de±xx") into its digits, in place, and exponent n as in
// shortestDigits.
func splitE(b []byte) (digits []byte, n int) {
	e := bytes.IndexByte(b, 'e')
	exp, _ := strconv.Atoi(string(b[e+1:]))
	digits = b[:e]
	if len(digits) > 1 { // drop the '.'
		digits = append(digits[:1], digits[2:]...)
	}
	return digits, exp + 1
}

// appendJSNumber appends x as ECMAScript's Number.prototype.toString
// prints it (and JSON.stringify): the shortest digits, in plain notation
// when 1e-6 <= |x| < 1e21 (0.000001, but 1e-7), else as 1.5e-7 or 1e+21;
// no fraction for an integral value (1000); -0 as "0".
func appendJSNumber(dst []byte, x float64) []byte {
	if x == 0 {
		return append(dst, '0')
	}
	var buf [32]byte
	d, n := shortestDigits(buf[:], x)
	k := len(d)
	if x < 0 {
		dst = append(dst, '-')
	}
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		return appendZeros(dst, n-k)
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		return append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		dst = appendZeros(dst, -n)
		return append(dst, d...)
	}
	dst = appendMantissa(dst, d, false)
	dst = append(dst, 'e')
	if n-1 >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(n-1), 10)
}

// appendPythonNumber appends x as Python's repr(float) (and str) prints
// it: the shortest digits, in plain notation when 1e-4 <= |x| < 1e16, else
// as 1.5e-05 or 1e+16 (the exponent signed, of two digits at least); an
// integral value with ".0" (1000.0); -0 as "-0.0".
func appendPythonNumber(dst []byte, x float64) []byte {
	if math.Signbit(x) {
		dst = append(dst, '-')
	}
	if x == 0 {
		return append(dst, '0', '.', '0')
	}
	var buf [32]byte
	d, n := shortestDigits(buf[:], x)
	if -4 < n && n <= 16 {
		return appendPlain(dst, d, n)
	}
	dst = appendMantissa(dst, d, false)
	dst = append(dst, 'e')
	e := n - 1
	if e < 0 {
		dst = append(dst, '-')
		e = -e
	} else {
		dst = append(dst, '+')
	}
	if e < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(e), 10)
}

// appendJavaNumber appends x as Java's Double.toString prints it (JDK 19
// and later, whose digits are specified): plain with at least one
// fractional digit when 1e-3 <= |x| < 1e7 (1000.0, 1.1), else computerized
// scientific notation, 1.0E7, 1.23456785E7, 1.0E-4; -0 as "-0.0". The
// digits are the shortest that read back as x, except that a single digit
// becomes the two closest to x (Double.MIN_VALUE is 4.9E-324, not 5E-324).
// JDK 18 and earlier print more digits than needed for some values (1e23
// as 9.999999999999999E22): those signatures are not recognised.
func appendJavaNumber(dst []byte, x float64) []byte {
	if math.Signbit(x) {
		dst = append(dst, '-')
	}
	if x == 0 {
		return append(dst, '0', '.', '0')
	}
	var buf [32]byte
	d, n := shortestDigits(buf[:], x)
	if len(d) == 1 {
		d, n = splitE(strconv.AppendFloat(buf[:0], math.Abs(x), 'e', 1, 64))
		if d[1] == '0' {
			d = d[:1]
		}
	}
	if -3 < n && n <= 7 {
		return appendPlain(dst, d, n)
	}
	dst = appendMantissa(dst, d, true)
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(n-1), 10)
}

// appendPlain appends 0.d₁…dₖ × 10ⁿ in plain notation with at least one
// fractional digit: 0.00d…, d…d.d…, or d…d00.0.
func appendPlain(dst, d []byte, n int) []byte {
	k := len(d)
	switch {
	case n <= 0:
		dst = append(dst, '0', '.')
		dst = appendZeros(dst, -n)
		return append(dst, d...)
	case n >= k:
		dst = append(dst, d...)
		dst = appendZeros(dst, n-k)
		return append(dst, '.', '0')
	}
	dst = append(dst, d[:n]...)
	dst = append(dst, '.')
	return append(dst, d[n:]...)
}

// appendMantissa appends d₁.d₂…dₖ, or d₁ alone (d₁.0 if point) when k = 1.
func appendMantissa(dst, d []byte, point bool) []byte {
	dst = append(dst, d[0])
	switch {
	case len(d) > 1:
		dst = append(dst, '.')
		dst = append(dst, d[1:]...)
	case point:
		dst = append(dst, '.', '0')
	}
	return dst
}

func appendZeros(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, '0')
	}
	return dst
}
