package auth

// Issue 16, "Log-in that a neighbour cannot lock": failures count per
// user name from one client address, with growing waits and then a lock,
// and per client address across names; nothing one client does holds up
// another.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// retryAfter is the wait a response asks for, 0 without one.
func retryAfter(t *testing.T, w *httptest.ResponseRecorder) time.Duration {
	t.Helper()
	h := w.Header().Get("Retry-After")
	if h == "" {
		return 0
	}
	secs, err := strconv.Atoi(h)
	if err != nil {
		t.Fatalf("Retry-After %q: %v", h, err)
	}
	return time.Duration(secs) * time.Second
}

// patientFailures makes n wrong logins to name from b, each after waiting
// out what the previous answer asked for, so every one is checked. It
// does not wait after the last.
func patientFailures(t *testing.T, e *env, b *browser, name string, n int) []*httptest.ResponseRecorder {
	t.Helper()
	var out []*httptest.ResponseRecorder
	for i := range n {
		if i > 0 {
			e.clk.Add(retryAfter(t, out[i-1]))
		}
		w := b.login(name, fmt.Sprintf("wrong-password-%02d", i))
		if w.Code != http.StatusUnauthorized && w.Code != http.StatusTooManyRequests {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
		out = append(out, w)
	}
	return out
}

// TestNeighbourFailuresDoNotLockTheNameForOthers: a neighbour failing ten
// times at "vendor" does not keep the admin out from the admin's own
// address; the neighbour itself stays locked.
func TestNeighbourFailuresDoNotLockTheNameForOthers(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	neighbour := e.browser("192.0.2.66")
	patientFailures(t, e, neighbour, "vendor", 10)
	if n := len(e.audits(AuditLoginFailed)); n != 10 {
		t.Fatalf("%d of the neighbour's 10 tries checked and recorded", n)
	}
	if w := e.browser("192.0.2.10").login("vendor", adminPW); w.Code != http.StatusSeeOther {
		t.Fatalf("the admin from another address after a neighbour's 10 failures: %d", w.Code)
	}
	if w := neighbour.login("vendor", adminPW); w.Code != http.StatusTooManyRequests {
		t.Errorf("the failing neighbour is not held back: %d", w.Code)
	}
}

// TestFailingAddressIsSlowedThenLocked: the address that fails is made to
// wait (even with the right password), then locked; the lock is in the
// ledger in both languages with the client, and lifts.
func TestFailingAddressIsSlowedThenLocked(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	b := e.browser("192.0.2.66")
	for i := range 2 {
		if w := b.login("vendor", "wrong-password-x"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	// Slowed: straight after the second failure even the right password waits.
	w := b.login("vendor", adminPW)
	if w.Code != http.StatusTooManyRequests || retryAfter(t, w) != 2*time.Second {
		t.Fatalf("right password straight after two failures: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	inJapanese(t, w.Body.String(), "秒", "Wrong user name")
	if b.jar[SessionCookie] != nil {
		t.Fatal("a held-back login made a session")
	}
	e.clk.Add(2 * time.Second)
	e.clk.Add(retryAfter(t, patientFailures(t, e, b, "vendor", 2)[1])) // third and fourth
	if len(e.audits(AuditLockout)) != 0 {
		t.Fatal("locked before the fifth failure")
	}
	last := patientFailures(t, e, b, "vendor", 1)[0]
	if last.Code != http.StatusTooManyRequests || retryAfter(t, last) != 15*time.Minute {
		t.Fatalf("fifth failure: %d, Retry-After %q", last.Code, last.Header().Get("Retry-After"))
	}
	inJapanese(t, last.Body.String(), "しばらくログインできません", "Too many failed logins")
	locks := e.audits(AuditLockout)
	if len(locks) != 1 || locks[0].actor != "vendor" {
		t.Fatalf("lockout audits: %+v", locks)
	}
	bilingual(t, locks[0].detail, "接続元 192.0.2.66", "client 192.0.2.66")
	bilingual(t, locks[0].detail, "15分", "15 min")
	if w := b.login("vendor", adminPW); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right password from the locked address: %d", w.Code)
	}
	e.clk.Add(14 * time.Minute)
	if w := b.login("vendor", adminPW); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right password within the lock: %d", w.Code)
	}
	e.browser("192.0.2.10").mustLogin("vendor", adminPW)
	e.clk.Add(time.Minute)
	b.mustLogin("vendor", adminPW)
	e.assertNoSecrets(adminPW)
}

// TestLoginDelaysGrow: each failure in a row asks for a longer wait: the
// first is free, then 2 s doubling, a 15-minute lock at the fifth, and
// each further lock doubles up to an hour.
func TestLoginDelaysGrow(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	want := []time.Duration{0, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		15 * time.Minute, 30 * time.Minute, time.Hour, time.Hour}
	got := patientFailures(t, e, e.browser("192.0.2.66"), "vendor", len(want))
	for i, w := range got {
		if d := retryAfter(t, w); d != want[i] {
			t.Errorf("wait after failure %d: %v, want %v", i+1, d, want[i])
		}
		if locked := want[i] >= 15*time.Minute; locked != (w.Code == http.StatusTooManyRequests) {
			t.Errorf("failure %d answered %d", i+1, w.Code)
		}
	}
	if n := len(e.audits(AuditLockout)); n != 4 {
		t.Errorf("%d locks recorded, want 4", n)
	}
	// Unknown names wait the same, so the waits reveal no user name.
	other := patientFailures(t, e, e.browser("192.0.2.67"), "nobody", 3)
	for i, w := range other {
		if d := retryAfter(t, w); d != want[i] {
			t.Errorf("unknown name, failure %d: wait %v, want %v", i+1, d, want[i])
		}
	}
}

// TestPasswordSprayLocksTheAddressNotTheNames: one client trying a
// password across ten names is locked as a client; the names stay open
// from elsewhere and the ledger holds no name the client typed.
func TestPasswordSprayLocksTheAddressNotTheNames(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("vendor", RoleVendorAdmin, adminPW)
	e.addUser("staff", RoleStaff, staffPW)
	names := []string{"vendor", "staff"}
	for i := len(names); i < 10; i++ {
		names = append(names, fmt.Sprintf("sprayed%d", i))
	}
	b := e.browser("192.0.2.66")
	for i, name := range names {
		want := http.StatusUnauthorized
		if i == len(names)-1 {
			want = http.StatusTooManyRequests
		}
		if w := b.login(name, "Spring2026-password"); w.Code != want {
			t.Fatalf("try %d (%s): %d, want %d", i+1, name, w.Code, want)
		}
	}
	if w := b.login("vendor", adminPW); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right password from the spraying client: %d", w.Code)
	}
	locks := e.audits(AuditLockout)
	if len(locks) != 1 || locks[0].actor != "-" {
		t.Fatalf("lockout audits: %+v", locks)
	}
	bilingual(t, locks[0].detail, "接続元 192.0.2.66", "client 192.0.2.66")
	for _, x := range e.audit {
		if strings.Contains(x.actor+x.detail, "sprayed") {
			t.Errorf("a typed unknown name is in the audit: %+v", x)
		}
	}
	e.browser("192.0.2.10").mustLogin("vendor", adminPW)
	e.browser("192.0.2.11").mustLogin("staff", staffPW)
}
