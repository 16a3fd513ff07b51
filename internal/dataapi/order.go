package dataapi

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"net/http"
)

// Arrays of 11 or more items in a signed request. The algorithm sorts the
// flattened items by path, which puts "fields:10" before "fields:2"; some of
// ECommPay's SDKs (PHP's natural sort) put the items of an array in index
// order instead, and the reference does not say which one the Data API checks
// requests with. Ask for every parameter reconciled stores and "fields"
// has 18 items. So the client signs in path order, the documented algorithm,
// and when a request that holds such an array is refused with a 4xx, signs
// it once more with arrays in index order; the order that worked is kept for
// the client's life. Both are HMACs of the same request with the same
// secret: trying both weakens nothing.

// SignArraysInOrder is Sign with the items of every array in index order
// (0, 1, 2, …, 10) instead of path order (0, 1, 10, 2, …).
func SignArraysInOrder(secret, doc []byte) (string, error) {
	f := getFlat()
	defer putFlat(f)
	f.arraysInOrder = true
	if err := f.flatten(doc); err != nil {
		return "", err
	}
	h := hmac.New(sha512.New, secret)
	f.writeString(h)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// VerifyArraysInOrder is Verify for a document signed with
// SignArraysInOrder. The fake Data API uses it to play a server that checks
// requests the other way.
func VerifyArraysInOrder(secret, doc []byte) error {
	f := getFlat()
	defer putFlat(f)
	f.arraysInOrder = true
	if err := f.flatten(doc); err != nil {
		return err
	}
	return f.verify(secret)
}

// hasLongArray reports whether doc holds an array of more than
// MaxSignedArray items: the only documents whose signature depends on the
// order.
func hasLongArray(doc []byte) bool {
	f := getFlat()
	defer putFlat(f)
	return f.flatten(doc) == nil && f.longArray
}

// signRequest signs body in the order that works with this server.
func (c *Client) signRequest(body []byte, inOrder bool) ([]byte, error) {
	if !inOrder {
		return AppendSigned(c.secret, body)
	}
	sig, err := SignArraysInOrder(c.secret, body)
	if err != nil {
		return nil, err
	}
	return appendMember(body, "signature", sig)
}

// refusedAsSigned reports whether err is an answer that a request signed
// with its arrays in the other order might not get: a 400, 401 or 403.
func refusedAsSigned(err error) bool {
	var api *APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return false
}
