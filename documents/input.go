package documents

import (
	"context"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
)

// Input is everything the documents are made from: the live
// configuration and what the evidence ledger proves. Nothing else is read.
type Input struct {
	Config *config.Config
	// From and To bound the evidence report's period [From, To).
	From, To time.Time
	// Now is the date printed on every page.
	Now time.Time
	// Entries are the ledger entries before To (the state at From needs
	// the ones before it).
	Entries []ledger.Entry
	// Verify is the ledger's verification; VerifyErr why it failed.
	Verify    ledger.Report
	VerifyErr error
	// PublicKeys are the authorized_keys texts of each source's pull key
	// (public halves only), by source name; absent when not yet created.
	PublicKeys map[string]string
	// CertFingerprint is the page certificate's SHA-256, when known.
	CertFingerprint string
	// Scan is the newest WAN-edge self-scan (LatestScan), nil if none;
	// ScanErr says why it could not be read.
	Scan    *netprobe.Report
	ScanErr error
}

// Gather reads the ledger of cfg for the period [from, to) and the public
// halves of the pull keys. A ledger that fails verification is not an
// error here: the evidence report prints the failure.
func Gather(ctx context.Context, cfg *config.Config, from, to, now time.Time) (*Input, error) {
	if !to.After(from) {
		return nil, msg.Errorf("%w(%s – %s)", "%w (%s – %s)", errPeriodOrder, from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	in := &Input{Config: cfg, From: from, To: to, Now: now, PublicKeys: map[string]string{}}
	in.Verify, in.VerifyErr = ledger.Verify(cfg.LedgerDir)
	for e, err := range ledger.Entries(cfg.LedgerDir, ledger.Filter{To: to}) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err != nil {
			// Entries stops at the first damaged line: the report shows
			// what came before and the verification failure.
			break
		}
		in.Entries = append(in.Entries, e)
	}
	for _, s := range cfg.Sources {
		if s.KeyFile == "" {
			continue
		}
		raw, err := os.ReadFile(cfg.KeyPath(s.KeyFile))
		if err != nil {
			continue
		}
		if signer, err := ssh.ParsePrivateKey(raw); err == nil {
			in.PublicKeys[s.Name] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " danzen@" + cfg.GatewayID
		}
	}
	return in, nil
}
