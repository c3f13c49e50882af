// Package sysupdate installs a signed update bundle on the running
// appliance. The bundle is verified (gokrazy/bundle) while it streams into
// gokrazy's own update handlers, which the image serves only on their
// root-only unix socket: nothing on the LAN reaches them, and nothing is
// switched to unless every part matched what the vendor signed. Every
// update and every refusal is recorded.
package sysupdate

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/gokrazy/update"
	"github.com/danzen-gw/danzen/internal/msg"
)

// GokrazySocket is where gokrazy serves its web interface when the image
// is built without a password: root only (0600), never on the network.
const GokrazySocket = "/run/gokrazy-http.sock"

// ImageInfoPath is where the image builder records what the running image
// is: its board, build and the vendor's update key.
const ImageInfoPath = "/etc/danzen/image.json"

// ImageInfo is the running image as its builder described it.
type ImageInfo struct {
	Arch  string    `json:"arch"`
	Build time.Time `json:"build"`
	// UpdateKey is the vendor's ed25519 public key (base64 of the 32 raw
	// bytes) that every update must be signed with.
	UpdateKey string `json:"update_key"`
}

// Key is the pinned update key, nil when the image has none.
func (i ImageInfo) Key() (ed25519.PublicKey, error) {
	if i.UpdateKey == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(i.UpdateKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("update_key is not a base64 ed25519 public key (%d bytes, %v)", len(b), err)
	}
	return ed25519.PublicKey(b), nil
}

// Policy is what the running image accepts.
func (i ImageInfo) Policy() (bundle.Policy, error) {
	k, err := i.Key()
	return bundle.Policy{Key: k, Arch: i.Arch, Running: i.Build}, err
}

// LoadImageInfo reads path (ImageInfoPath on the appliance).
func LoadImageInfo(path string) (ImageInfo, error) {
	var i ImageInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return i, msg.Errorf("イメージ情報 %s を読めません。この環境では更新できません: %w",
			"cannot read the image description %s, so no update can be taken here: %w", path, err)
	}
	if err := json.Unmarshal(b, &i); err != nil {
		return i, fmt.Errorf("%s: %w", path, err)
	}
	return i, nil
}

// Device is gokrazy's update side: write a partition (answering with the
// hash of what it wrote), switch the root, reboot. *update.Target is one.
type Device interface {
	StreamTo(ctx context.Context, dest string, r io.Reader, crc bool) (int64, error)
	Switch(ctx context.Context) error
	Reboot(ctx context.Context) error
}

// UnixDevice is gokrazy's update side on its unix socket.
func UnixDevice(socket string) *update.Target {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &update.Target{BaseURL: "http://gokrazy/", Client: &http.Client{Transport: tr}}
}

// destinations maps a bundle part to gokrazy's update destination.
var destinations = map[string]string{bundle.Root: "root", bundle.Boot: "boot", bundle.MBR: "mbr"}

// Apply verifies the bundle on r against p and writes each part through
// dev; when every part matched it switches the root. It does not reboot:
// the caller answers the person first, then calls dev.Reboot. A refusal is
// a *bundle.Error; a failure after a part was written leaves the running
// root in place (nothing was switched).
func Apply(ctx context.Context, r io.Reader, p bundle.Policy, dev Device) (bundle.Manifest, error) {
	br, err := bundle.Open(r, p)
	if err != nil {
		return bundle.Manifest{}, err
	}
	for {
		part, pr, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return br.Manifest, err
		}
		dest, ok := destinations[part.Name]
		if !ok {
			return br.Manifest, msg.Errorf("更新ファイルの %s は書き込み先のない部分です", "the update bundle's %s has nowhere to be written", part.Name)
		}
		if _, err := dev.StreamTo(ctx, dest, pr, false); err != nil {
			var be *bundle.Error
			if errors.As(err, &be) {
				return br.Manifest, be
			}
			return br.Manifest, msg.Errorf("%s の書き込みに失敗しました。動作中のルートのままです: %w",
				"writing %s failed; the running root stays: %w", part.Name, err)
		}
	}
	if err := dev.Switch(ctx); err != nil {
		return br.Manifest, msg.Errorf("新しいルートへの切り替えに失敗しました。動作中のルートのままです: %w",
			"switching to the new root failed; the running root stays: %w", err)
	}
	return br.Manifest, nil
}
