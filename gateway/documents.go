package gateway

import (
	"context"
	"time"

	"github.com/danzen-gw/danzen/documents"
)

// Documents gathers what the documents are made from: the configuration
// in use and what the ledger proves for the period [from, to).
func (g *Gateway) Documents(ctx context.Context, from, to time.Time) (*documents.Input, error) {
	return documents.Gather(ctx, g.Config(), from, to, time.Now())
}
