// Command danzen-image builds danzen's gokrazy disk images from the instance
// configurations in gokrazy/, and the signed update bundles that
// `danzen image push` sends to a gateway's page.
//
//	danzen-image -genkey build/keys                          a new update key pair (once per vendor)
//	danzen-image -update-key K.pub [-out build/] [-size 2G] INSTANCE...
//	                                                         full images + update payloads, K pinned
//	danzen-image -sign-key K.key -bundle [-update-only] INSTANCE...
//	                                                         also INSTANCE.bundle, signed with K
//	danzen-image -bench INSTANCE...                          a bench image: no update key,
//	                                                         gokrazy's password page on port 80
//
// Every image pins the vendor's ed25519 update key (the public half) and
// takes updates only as bundles signed with its private half, through
// danzend's HTTPS page; gokrazy's own plain-HTTP interface is then not on
// the network at all. The private key is read only to sign bundles and
// never goes into an image: keep it offline, and backed up.
//
// INSTANCE is a directory with config.json, or a name under gokrazy/
// (danzen-amd64, danzen-rpi).
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "danzen-image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("danzen-image", flag.ContinueOnError)
	out := fs.String("out", "build", "output directory")
	size := fs.String("size", "2G", "full image size (bytes, or with K/M/G suffix); /perm fills the rest")
	updateOnly := fs.Bool("update-only", false, "build only the root and boot file systems for an update")
	updateKey := fs.String("update-key", "", "the vendor's ed25519 public update key (PEM) to pin in the image (default build/keys/update.pub)")
	signKey := fs.String("sign-key", "", "the vendor's ed25519 private update key (PEM) to sign bundles with; its public half is pinned when -update-key is not given")
	wantBundle := fs.Bool("bundle", false, "also write INSTANCE.bundle, the signed update (needs -sign-key)")
	bench := fs.Bool("bench", false, "a bench image without an update key: gokrazy's web interface stays on port 80 with its password (never for a hospital)")
	genkey := fs.String("genkey", "", "generate a new update key pair in this directory (update.key, update.pub) and exit")
	keep := fs.String("workdir", "", "keep intermediate files here instead of a temporary directory")
	verbose := fs.Bool("v", false, "log every go command")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *genkey != "" {
		return generateKeys(*genkey)
	}
	if fs.NArg() == 0 {
		return errors.New("name at least one instance, e.g. danzen-amd64")
	}
	imageSize, err := parseSize(*size)
	if err != nil {
		return err
	}
	keys, err := loadKeys(*updateKey, *signKey, *wantBundle, *bench)
	if err != nil {
		return err
	}

	for _, name := range fs.Args() {
		inst, err := build.LoadInstance(instanceDir(name))
		if err != nil {
			return err
		}
		opts := build.Options{
			Logger:    log,
			ImageSize: imageSize,
			NoImage:   *updateOnly,
			UpdateKey: keys.pub,
			Bench:     *bench,
		}
		if *keep != "" {
			opts.WorkDir = filepath.Join(*keep, inst.Name)
		}
		start := time.Now()
		res, err := build.Build(ctx, inst, *out, opts)
		if err != nil {
			return err
		}
		fmt.Printf("%s (%s): built in %s\n", inst.Name, res.GOARCH, time.Since(start).Round(time.Second))
		if res.Image != "" {
			fmt.Printf("  image  %s (%d MiB, sparse)\n", res.Image, res.ImageSize>>20)
		}
		fmt.Printf("  root   %s (%.1f MiB squashfs)\n  boot   %s (%.1f MiB FAT16)\n",
			res.Root, float64(res.RootSize)/(1<<20), res.Boot, float64(res.BootSize)/(1<<20))
		for _, p := range res.Programs {
			fmt.Printf("  %-16s %6.1f MiB  %s\n", p.Path, float64(p.Size)/(1<<20), p.Module)
		}
		if !*wantBundle {
			continue
		}
		b, err := build.WriteBundle(res, keys.priv)
		if err != nil {
			return err
		}
		fmt.Printf("  bundle %s (build %s, signed with %s)\n", b, res.BuildTimestamp, bundle.KeyID(keys.pub))
	}
	return nil
}

// defaultKeyDir is where -genkey is told to put the key pair by `make
// update-key`, and where the public key is looked for without -update-key.
const defaultKeyDir = "build/keys"

type keyPair struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

// loadKeys reads the update key to pin and the signing key, if any. An
// image without a key must be asked for (-bench): it could never be
// updated through the page, and gokrazy's password page stays on the LAN.
func loadKeys(pubFile, privFile string, wantBundle, bench bool) (keyPair, error) {
	var k keyPair
	var err error
	if bench {
		if pubFile != "" || privFile != "" || wantBundle {
			return k, errors.New("-bench builds an image without an update key: leave out -update-key, -sign-key and -bundle")
		}
		return k, nil
	}
	if privFile != "" {
		if k.priv, err = build.LoadSigningKey(privFile); err != nil {
			return k, err
		}
		k.pub = k.priv.Public().(ed25519.PublicKey)
	}
	if wantBundle && k.priv == nil {
		return k, errors.New("-bundle needs -sign-key: the vendor's private update key")
	}
	if pubFile != "" {
		pub, err := build.LoadUpdateKey(pubFile)
		if err != nil {
			return k, err
		}
		if k.pub != nil && !k.pub.Equal(pub) {
			return k, fmt.Errorf("-sign-key %s and -update-key %s are not one key pair", privFile, pubFile)
		}
		k.pub = pub
	}
	if k.pub == nil {
		def := filepath.Join(defaultKeyDir, build.PublicKeyFile)
		if _, err := os.Stat(def); err != nil {
			return k, fmt.Errorf("no update key: %s is missing and no -update-key was given. Make the key pair once with `-genkey %s` (keep update.key offline), or build a bench image with -bench", def, defaultKeyDir)
		}
		if k.pub, err = build.LoadUpdateKey(def); err != nil {
			return k, err
		}
	}
	return k, nil
}

func generateKeys(dir string) error {
	pub, err := build.GenerateKeys(dir)
	if err != nil {
		return err
	}
	fmt.Printf(`New update key %s
  public  %s  (pinned in every image: -update-key)
  private %s  (signs every update: -sign-key)

!!! The private key is the only key that can update the gateways built with
!!! this public key. Keep it OFFLINE and BACKED UP (two copies, not on the
!!! build PC's network share). Lost: those gateways take no update until
!!! reflashed on site. Stolen: whoever has it can sign updates for them.
`, bundle.KeyID(pub), filepath.Join(dir, build.PublicKeyFile), filepath.Join(dir, build.PrivateKeyFile))
	return nil
}

// instanceDir accepts a path or a bare name under gokrazy/.
func instanceDir(name string) string {
	if strings.ContainsRune(name, filepath.Separator) {
		return name
	}
	if _, err := os.Stat(filepath.Join(name, "config.json")); err == nil {
		return name
	}
	return filepath.Join("gokrazy", name)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("-size %q: want a positive number of bytes, optionally with K, M or G", s)
	}
	return n * mult, nil
}
