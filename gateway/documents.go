package gateway

import (
	"context"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/documents"
)

// Documents gathers what the documents are made from: the configuration
// in use, what the ledger proves for the period [from, to) and the newest
// self-scan.
func (g *Gateway) Documents(ctx context.Context, from, to time.Time) (*documents.Input, error) {
	in, err := documents.Gather(ctx, g.Config(), from, to, time.Now())
	if err == nil && g.opts.ConfigPath != "" {
		in.Scan, in.ScanErr = documents.LatestScan(filepath.Dir(g.opts.ConfigPath), g.Config())
	}
	return in, err
}
