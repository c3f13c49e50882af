package faults_test

import (
	"testing"

	"github.com/danzen-gw/danzen/gateway"
)

// closeGateway closes g after a fault. A fault may leave a relay that
// does not verify off, which falseOffline checks and counts; so a failure
// to close is logged here, not failed twice.
func closeGateway(t *testing.T, g *gateway.Gateway) {
	t.Helper()
	if err := g.Close(); err != nil {
		t.Logf("closing the gateway: %v", err)
	}
}

// must fails the test at a setup or repair step that did not work.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
