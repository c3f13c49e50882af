package netprobe_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/fakeedge"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// The namespace tests' lab: fakeedge's worlds, closed when the test ends;
// -short skips the test (it needs root for the namespaces).

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root for network namespaces: make test runs it, -short skips it")
	}
}

// edgeLab builds fakeedge's standard edge.
func edgeLab(t *testing.T) (*fakeedge.World, register.Register) {
	t.Helper()
	skipShort(t)
	w, reg, err := fakeedge.Edge(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w, reg
}

// newLab builds an empty world of n devices.
func newLab(t *testing.T, n int) *fakeedge.World {
	t.Helper()
	skipShort(t)
	w, err := fakeedge.New(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// scanLab runs job in w; when the test fails, the report and the
// devices' logs are printed.
func scanLab(t *testing.T, w *fakeedge.World, job fakeedge.Job) (*netprobe.Report, *fakeedge.Result) {
	t.Helper()
	res, err := w.Scan(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var b bytes.Buffer
		if err := res.Report.WriteJSON(&b); err != nil {
			t.Log(err)
		}
		t.Log(b.String(), w.Logs())
	})
	return res.Report, res
}
