package fakeapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"reconciled/internal/dataapi"
)

func TestServerRefusesBadRequests(t *testing.T) {
	secret := []byte("s")
	f, err := New(Config{Token: "tok", Secret: secret, Start: t0, Count: 10, Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	valid := dataapi.OperationsRequest{Token: "tok", ProjectID: []int64{580}, TZ: "UTC", Limit: 10,
		Interval: &dataapi.Interval{From: "2026-11-01 00:00:00", To: "2026-11-02 00:00:00"}}
	tests := []struct {
		name   string
		mod    func(*dataapi.OperationsRequest)
		sign   bool
		status int
		code   string
	}{
		{"valid", func(*dataapi.OperationsRequest) {}, true, 200, ""},
		{"unsigned", func(*dataapi.OperationsRequest) {}, false, 403, "invalid_signature"},
		{"bad token", func(r *dataapi.OperationsRequest) { r.Token = "x" }, true, 401, "invalid_token"},
		{"limit too large", func(r *dataapi.OperationsRequest) { r.Limit = 1001 }, true, 400, "bad_request"},
		{"eleven projects", func(r *dataapi.OperationsRequest) {
			r.ProjectID = []int64{580, 579, 580, 579, 580, 579, 580, 579, 580, 579, 580}
		}, true, 400, "bad_request"},
		{"bad interval", func(r *dataapi.OperationsRequest) { r.Interval.From = "2026-11-01T00:00:00Z" }, true, 400, "bad_request"},
		{"unknown project", func(r *dataapi.OperationsRequest) { r.ProjectID = []int64{1} }, true, 403, "forbidden"},
		{"a fee asked of /operations/get", func(r *dataapi.OperationsRequest) { r.Fields = []string{"sum_initial", "fee"} }, true, 400, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := valid
			iv := *valid.Interval
			req.Interval = &iv
			tt.mod(&req)
			body, _ := json.Marshal(req)
			if tt.sign {
				body, _ = dataapi.AppendSigned(secret, body)
			}
			resp, err := http.Post(srv.URL+dataapi.PathOperations, "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, data)
			}
			if tt.status == 200 {
				if err := dataapi.Verify(secret, data); err != nil {
					t.Fatalf("response signature: %v", err)
				}
				return
			}
			var eb dataapi.ErrorBody
			if err := json.Unmarshal(data, &eb); err != nil || eb.Code != tt.code {
				t.Fatalf("error body %s, want code %q", data, tt.code)
			}
		})
	}
}
