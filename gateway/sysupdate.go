package gateway

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/sysupdate"
)

// UpdateOptions say where the running image is described and how
// gokrazy's update side is reached; zero means the appliance's own
// (sysupdate.ImageInfoPath and gokrazy's unix socket).
type UpdateOptions struct {
	ImageInfo string
	Device    sysupdate.Device
	// RebootDelay lets the page's answer reach the browser before the
	// restart (zero: 2 s).
	RebootDelay time.Duration
}

// ImageInfo describes the running image: its board, build and the
// vendor's update key. An error says why no update can be taken here (a
// PC running danzend, not the appliance).
func (g *Gateway) ImageInfo() (sysupdate.ImageInfo, error) {
	path := g.opts.Update.ImageInfo
	if path == "" {
		path = sysupdate.ImageInfoPath
	}
	return sysupdate.LoadImageInfo(path)
}

// countingReader counts what an update sent, for the ledger.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ApplyUpdate takes a signed update bundle from r, sent by actor from
// client: verified while it is written to the inactive root, switched to
// only when every part matched what the vendor signed, recorded, and the
// gateway restarts into it shortly after. It waits for no job: while a
// cycle, restore or drill runs it is refused with ErrBusy (a restart would
// cut the job short). A refusal or failure is recorded and alerted, and
// the running root stays.
func (g *Gateway) ApplyUpdate(ctx context.Context, r io.Reader, actor, client string) (bundle.Manifest, error) {
	if !g.job.TryLock() {
		return bundle.Manifest{}, ErrBusy
	}
	info, err := g.ImageInfo()
	if err != nil {
		g.job.Unlock()
		return bundle.Manifest{}, err
	}
	policy, err := info.Policy()
	if err != nil {
		g.job.Unlock()
		return bundle.Manifest{}, err
	}
	dev := g.opts.Update.Device
	if dev == nil {
		dev = sysupdate.UnixDevice(sysupdate.GokrazySocket)
	}
	cr := &countingReader{r: r}
	m, err := sysupdate.Apply(ctx, cr, policy, dev)
	d := ledger.UpdateData{Build: m.Build, Arch: m.Arch, Key: m.Key, Running: info.Build, Client: client, Bytes: cr.n}
	if err != nil {
		g.job.Unlock()
		d.Reason = "write"
		var be *bundle.Error
		if errors.As(err, &be) {
			d.Reason = string(be.Reason)
		}
		why := msg.TextOf(err)
		g.recordUpdate(ctx, ledger.Entry{Kind: ledger.KindUpdateRefused, Actor: actor, Payload: d,
			Message: msg.Sprintf("ファームウェア更新を拒否(送信元 %s): %s", "firmware update refused (sent from %s): %s", client, why)})
		g.send(alert.UpdateRefused(g.Config().GatewayID, time.Now(), client, why))
		return m, err
	}
	g.recordUpdate(ctx, ledger.Entry{Kind: ledger.KindUpdate, Actor: actor, Payload: d,
		Message: msg.Sprintf("ファームウェアをビルド %s に更新(送信元 %s)。再起動します", "firmware updated to build %s (sent from %s); restarting",
			m.Build.Format(time.RFC3339), client)})
	delay := g.opts.Update.RebootDelay
	if delay == 0 {
		delay = 2 * time.Second
	}
	// The job lock stays held: no cycle may start before the restart.
	go func() {
		time.Sleep(delay)
		if err := dev.Reboot(context.Background()); err != nil {
			g.log.Error("restarting into the updated root", "err", err)
			g.job.Unlock()
		}
	}()
	return m, nil
}

func (g *Gateway) recordUpdate(ctx context.Context, e ledger.Entry) {
	if err := g.Record(ctx, e); err != nil {
		g.log.Error("recording an update", "kind", e.Kind, "err", err)
	}
}
