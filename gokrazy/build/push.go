package build

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/bundle"
)

// An update leaves the bench PC only as a bundle signed with the vendor's
// private key: the gateway's page (or `danzen image push`, package
// gokrazy/push) takes it, verifies it against the key pinned in its image
// and streams it to gokrazy's update handlers on their root-only socket.
// Nothing is pushed to gokrazy over the network any more.

// BundleName is the signed update bundle WriteBundle writes for res.
func BundleName(res *Result) string {
	return filepath.Join(filepath.Dir(res.Root), res.Instance+".bundle")
}

// WriteBundle writes the signed update bundle of a build (its root and
// boot file systems) to BundleName(res), signed with key. It refuses a
// key whose public half is not the one pinned in the build: such a bundle
// would be refused by every gateway running it.
func WriteBundle(res *Result, key ed25519.PrivateKey) (string, error) {
	if res.UpdateKey != nil && !res.UpdateKey.Equal(key.Public()) {
		return "", fmt.Errorf("the signing key %s is not the update key %s pinned in this build", bundle.KeyID(key.Public().(ed25519.PublicKey)), bundle.KeyID(res.UpdateKey))
	}
	ts, err := time.Parse(time.RFC3339, res.BuildTimestamp)
	if err != nil {
		return "", err
	}
	out := BundleName(res)
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", err
	}
	err = bundle.Write(f, key, res.GOARCH, ts, []bundle.Source{
		{Name: bundle.Root, Open: opener(res.Root)},
		{Name: bundle.Boot, Open: opener(res.Boot)},
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing the update bundle %s: %w", out, err)
	}
	return out, nil
}

func opener(p string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return os.Open(p) }
}
